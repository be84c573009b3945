/*
 * main.c — ringcached: parse the command line and the config, set the
 * modules up in order, run the loop, tear down in reverse order.
 *
 * Command line (as redis-server's):
 *   ringcached [configfile|-] [--directive value ...]
 *   ringcached --version | --help
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aof.h"
#include "bio.h"
#include "acl.h"
#include "acllog.h"
#include "command.h"
#include "config.h"
#include "conn.h"
#include "hash.h"
#include "listener.h"
#include "loading.h"
#include "rdbobj.h"
#include "latency.h"
#include "loop.h"
#include "rand.h"
#include "server.h"
#include "eval.h"
#include "function.h"
#include "script.h"
#include "cluster.h"
#include "wait.h"
#include "slowlog.h"
#include "snapshot.h"
#include "stats.h"
#include "tracking.h"
#include "watch.h"

struct server server;

static void usage(FILE *fp)
{
    fprintf(fp,
            "Usage: ./ringcached [/path/to/ringcache.conf] [options] [-]\n"
            "       ./ringcached - (read config from stdin)\n"
            "       ./ringcached -v or --version\n"
            "       ./ringcached -h or --help\n"
            "\n"
            "Every configuration directive can also be given as an option:\n"
            "       ./ringcached --port 7777\n"
            "       ./ringcached /etc/ringcache/7777.conf --loglevel verbose\n"
            "       ./ringcached --port 7777 --save \"\" --maxmemory 1gb\n");
}

static void version(void)
{
    printf("ringcached v=%s redis-compat=%s malloc=%s bits=%d\n", RINGCACHE_VERSION,
           RC_VERSION, rc_allocator_name(), (int)(sizeof(long) * 8));
}

static void seed_randomness(void)
{
    uint8_t seed[16];
    char hex[41];
    if (rc_random_hex(hex, 40) != 0) {
        fprintf(stderr, "ringcached: cannot read /dev/urandom\n");
        exit(1);
    }
    hex[40] = '\0';
    for (int i = 0; i < 16; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        seed[i] = (uint8_t)v;
    }
    rc_hash_set_seed(seed);
    uint64_t s = 0;
    memcpy(&s, seed, sizeof(s));
    rc_random_seed(s ^ (uint64_t)getpid());
    dict_seed_random(s * 0x9e3779b97f4a7c15ULL + 1);
    rc_random_hex(server.runid, 40);
    server.runid[40] = '\0';
    rc_random_hex(server.replid, 40);
    server.replid[40] = '\0';
}

static void daemonize(void)
{
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(1);
    }
    if (pid > 0)
        exit(0);
    setsid();
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        if (fd > STDERR_FILENO)
            close(fd);
    }
}

static void write_pidfile(void)
{
    if (server.pidfile == NULL)
        return;
    FILE *fp = fopen(server.pidfile, "w");
    if (fp == NULL) {
        log_warn("Failed to write PID file: %s", server.pidfile);
        return;
    }
    fprintf(fp, "%d\n", (int)getpid());
    fclose(fp);
}

/*
 * The start-up load: dir/dbfilename when the append-only log is off, else
 * the log (aof_startup() replays it and opens the incremental file).
 * Returns 0, or -1 after logging why the node cannot start.
 */
static int load_data(void)
{
    if (!server.appendonly && server.dbfilename && access(server.dbfilename, F_OK) == 0) {
        char path[4096], err[4608];
        snprintf(path, sizeof(path), "%s/%s", server.dir ? server.dir : ".", server.dbfilename);
        struct stat st;
        long long t0 = (long long)rc_mstime();
        loading_begin(stat(server.dbfilename, &st) == 0 ? (unsigned long long)st.st_size : 0);
        int rc = rdb_load_file(path, err, sizeof(err));
        loading_end();
        if (rc != 0) {
            if (!server.shutdown_asap)
                log_warn("Fatal error loading the DB: %s. Exiting.", err);
            return -1;
        }
        log_notice("DB loaded from disk: %.3f seconds",
                   (double)((long long)rc_mstime() - t0) / 1000);
    }
    return aof_startup();
}

int main(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version"))) {
        version();
        return 0;
    }
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        usage(stdout);
        return 0;
    }

    memset(&server, 0, sizeof(server));
    server.executable = argv[0];
    config_init_defaults();
    config_load_argv(argc, argv);

    if (server.daemonize)
        daemonize();
    server.pid = getpid();
    log_setup(server.logfile, server.loglevel);
    seed_randomness();
    server.start_time = time(NULL);
    server.start_ms = (long long)rc_mstime();
    server.mstime = server.start_ms;
    server.ustime = server.mstime * 1000;

    log_notice("oO0OoO0OoO0Oo ringcache is starting oO0OoO0OoO0Oo");
    log_notice("ringcache version=%s, redis-compat=%s, bits=%d, pid=%d, just started",
               RINGCACHE_VERSION, RC_VERSION, (int)(sizeof(long) * 8), (int)server.pid);
    if (server.configfile == NULL)
        log_warn("Warning: no config file specified, using the default config. In order to "
                 "specify a config file use %s /path/to/ringcache.conf", argv[0]);

    command_table_init();
    {
        char aclerr[8192];
        if (acl_init(aclerr, sizeof(aclerr)) != 0) {
            log_warn("%s", aclerr);
            return 1;
        }
    }
    stats_init();
    db_init_all();
    watch_init();
    tracking_init();
    bio_init();
    if (loop_init() != 0) {
        log_warn("Failed creating the event loop");
        return 1;
    }
    if (cluster_init() != 0)
        return 1;
    /* The node listens before it loads, as Redis does: clients connect
     * meanwhile and get -LOADING (loading.h). */
    if (listener_start() != 0)
        return 1;
    write_pidfile();
    int code = load_data() == 0 ? 0 : 1;
    if (server.shutdown_asap) {
        /* SIGTERM or SHUTDOWN while loading: leave at once, saving
         * nothing, as Redis does (the files on disk are complete). */
        log_warn("Shutdown requested while loading the dataset: exiting without saving");
        code = 0;
        goto stop;
    }
    if (code != 0)
        goto stop;
    /* Changes replayed at start-up are already on disk. */
    snapshot_init();
    server.startup_memory = rc_used_memory();
    log_notice("Ready to accept connections tcp");

    code = loop_run();
    log_warn("User requested shutdown...");
stop:
    listener_stop();
    snapshot_shutdown();
    aof_shutdown();
    conn_free_all();
    script_deinit();
    eval_flush();
    function_flush_all();
    cluster_deinit();
    wait_deinit();
    watch_deinit();
    tracking_deinit();
    db_free_all();
    bio_deinit();
    slowlog_free_all();
    latency_deinit();
    loop_deinit();
    stats_deinit();
    acllog_reset();
    acl_deinit();
    command_table_deinit();
    if (server.pidfile)
        unlink(server.pidfile);
    log_warn("ringcache is now ready to exit, bye bye...");
    config_free_all();
    return code;
}

/*
 * loading.c — progress, pacing and client service during the start-up
 * load (see loading.h).
 *
 * The loaders run on the event-loop thread before loop_run(); to keep the
 * node responsive they hand control to the loop every so often, in
 * non-blocking mode (loop_serve_once()).  The cron does nothing but keep
 * the clock while loading, so no expiry, eviction, snapshot or rewrite can
 * start on a half-loaded dataset, and command_process() answers -LOADING
 * to every command without the `loading` flag.
 */
#include "loading.h"

#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "server.h"
#include "util.h"

/* Serve the clients at least every this many records, whatever their size
 * (Redis does the same for the log every 1024 commands). */
#define RECORDS_PER_SERVICE 1024

static struct {
    time_t start_time;
    unsigned long long total;       /* bytes in all files to load */
    unsigned long long done_files;  /* bytes of the files already loaded */
    unsigned long long pos;         /* offset in the current file */
    unsigned long long rdb_used_mem;
    unsigned long long served_at;   /* done_files + pos at the last service */
    unsigned records;               /* records since the last service */
    int appendonly;                 /* server.appendonly when the load began */
} ld;

void loading_begin(unsigned long long total_bytes)
{
    ld.start_time = time(NULL);
    ld.total = total_bytes;
    ld.done_files = ld.pos = ld.served_at = ld.rdb_used_mem = 0;
    ld.records = 0;
    ld.appendonly = server.appendonly;
    server.loading = 1;
}

int loading_appendonly(void)
{
    return ld.appendonly;
}

int loading_step(size_t file_pos)
{
    ld.pos = file_pos;
    if (server.key_load_delay > 0)
        usleep((useconds_t)server.key_load_delay);
    unsigned long long at = ld.done_files + ld.pos;
    if (++ld.records < RECORDS_PER_SERVICE &&
        at - ld.served_at < (unsigned long long)server.loading_process_events_interval_bytes)
        return server.shutdown_asap ? -1 : 0;
    ld.records = 0;
    ld.served_at = at;
    loop_serve_once();
    return server.shutdown_asap ? -1 : 0;
}

void loading_file_done(size_t file_len)
{
    ld.done_files += file_len;
    ld.pos = 0;
}

void loading_set_rdb_used_mem(unsigned long long bytes)
{
    ld.rdb_used_mem = bytes;
}

void loading_end(void)
{
    server.loading = 0;
    ld.total = ld.done_files = ld.pos = 0;
}

void loading_get_info(struct loading_info *out)
{
    out->loading = server.loading;
    out->start_time = ld.start_time;
    out->total_bytes = ld.total;
    out->loaded_bytes = ld.done_files + ld.pos;
    out->rdb_used_mem = ld.rdb_used_mem;
    out->loaded_perc = ld.total ? 100.0 * (double)out->loaded_bytes / (double)ld.total : 0;
    /* Elapsed time scaled by the bytes left over the bytes done; 1 (a
     * placeholder Redis also shows) within the first second. */
    unsigned long long left = ld.total > out->loaded_bytes ? ld.total - out->loaded_bytes : 0;
    long long elapsed = (long long)(time(NULL) - ld.start_time);
    out->eta_seconds = elapsed <= 0 ? 1
                     : (long long)((double)elapsed * (double)left /
                                   (double)(out->loaded_bytes + 1));
}

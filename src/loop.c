/*
 * loop.c — one libevent loop runs everything, as in Redis:
 *
 *   for (;;) { before_sleep(); wait for events and run their callbacks; }
 *
 * before_sleep() runs the fast expiry cycle and writes the replies queued
 * by the callbacks (one write per client per iteration, whatever the
 * pipeline depth).  The cron timer fires server.hz times a second for the
 * slow expiry cycle, client timeouts, statistics and rehashing.
 */
#include "loop.h"

#include <event2/event.h>
#include <signal.h>
#include <unistd.h>
#include <string.h>

#include "aof.h"
#include "conn.h"
#include "evict.h"
#include "repl.h"
#include "server.h"
#include "tracking.h"
#include "cluster.h"
#include "link.h"
#include "snapshot.h"
#include "stats.h"

static struct event *cron_ev;
static struct event *sig_ev[2];
static int cron_hz;
static int by_signal;            /* the pending shutdown came from SIGTERM/SIGINT */

static void update_time(void)
{
    server.ustime = (long long)rc_ustime();
    server.mstime = server.ustime / 1000;
}

static void arm_cron(void)
{
    struct timeval tv = {0, 1000000 / server.hz};
    if (server.hz >= 1000)
        tv.tv_usec = 1000;
    event_add(cron_ev, &tv);
    cron_hz = server.hz;
}

static void on_cron(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    update_time();
    evict_update_clock();
    /* While the start-up load runs, nothing may act on the half-loaded
     * dataset: no expiry, eviction, snapshot or client timeout. */
    if (server.loading)
        return;
    expire_active_cycle(0);
    conn_cron();
    stats_cron();
    db_cron();
    aof_cron();
    snapshot_cron();
    links_cron();
    tracking_cron();
    cluster_cron();
    if (server.maxmemory)
        evict_perform();
    if (cron_hz != server.hz) {
        event_del(cron_ev);
        arm_cron();
    }
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    (void)arg;
    if (server.shutdown_asap) {
        log_warn("You insist... exiting now.");
        _exit(1);
    }
    log_warn("Received %s scheduling shutdown...", sig == SIGINT ? "SIGINT" : "SIGTERM");
    server.shutdown_asap = 1;
    by_signal = 1;
    event_base_loopbreak(server.base);
}

void loop_shutdown_soon(void)
{
    if (server.shutdown_asap)
        return;
    server.shutdown_asap = 1;
    by_signal = 1;
    event_base_loopbreak(server.base);
}

int loop_init(void)
{
    server.base = event_base_new();
    if (server.base == NULL)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    update_time();
    evict_update_clock();
    cron_ev = event_new(server.base, -1, EV_PERSIST, on_cron, NULL);
    arm_cron();
    sig_ev[0] = evsignal_new(server.base, SIGINT, on_signal, NULL);
    sig_ev[1] = evsignal_new(server.base, SIGTERM, on_signal, NULL);
    event_add(sig_ev[0], NULL);
    event_add(sig_ev[1], NULL);
    return 0;
}

static void before_sleep(void)
{
    update_time();
    expire_active_cycle(1);
    tracking_before_sleep();    /* BCAST messages join the replies written next */
    conn_before_sleep();
    repl_before_sleep();
    links_before_sleep();
}

void loop_serve_once(void)
{
    update_time();
    conn_before_sleep();
    /* ONCE as well: NONBLOCK alone goes on looping while callbacks keep
     * becoming active (a closed client not yet freed stays readable). */
    event_base_loop(server.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    update_time();
    conn_before_sleep();
    links_before_sleep();
}

int loop_run(void)
{
    for (;;) {
        while (!server.shutdown_asap) {
            before_sleep();
            if (server.shutdown_asap)
                break;
            event_base_loop(server.base, EVLOOP_ONCE);
            update_time();
        }
        /* In a ring, hand this node's slots over first (cluster.h). */
        if (cluster_leave_begin()) {
            while (!cluster_leave_step()) {
                before_sleep();
                event_base_loop(server.base, EVLOOP_ONCE);
                update_time();
            }
        }
        /* SHUTDOWN saved already; a signal saves here (with save rules),
         * and the node keeps running if it cannot, as Redis does. */
        if (!by_signal || snapshot_final_save(0) == 0)
            break;
        log_warn("SIGTERM received but errors trying to shut down the server, check the "
                 "logs for more information");
        server.shutdown_asap = 0;
        by_signal = 0;
    }
    /* Flush what can be flushed (e.g. SHUTDOWN's own error replies). */
    conn_before_sleep();
    return server.shutdown_exit_code;
}

void loop_deinit(void)
{
    if (cron_ev)
        event_free(cron_ev);
    for (int i = 0; i < 2; i++)
        if (sig_ev[i])
            event_free(sig_ev[i]);
    cron_ev = NULL;
    memset(sig_ev, 0, sizeof(sig_ev));
    if (server.base)
        event_base_free(server.base);
    server.base = NULL;
}

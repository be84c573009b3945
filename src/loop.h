/*
 * loop.h — the event loop: libevent base, signals, the periodic cron and
 * the before-sleep step.
 */
#ifndef RC_LOOP_H
#define RC_LOOP_H

int loop_init(void);
/* One pass over the ready events without blocking, with the replies they
 * produce written: the start-up load calls it to keep serving clients
 * (loading.h).  The cron does nothing but keep time while loading. */
void loop_serve_once(void);
/* Run until shutdown is requested; returns the exit code. */
int loop_run(void);
/* Shut down as SIGTERM does (the ring's leave first, then the final save
 * with the save rules), once the current event is handled. */
void loop_shutdown_soon(void);
void loop_deinit(void);

#endif

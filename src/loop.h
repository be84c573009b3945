/*
 * loop.h — the event loop: libevent base, signals, the periodic cron and
 * the before-sleep step.
 */
#ifndef RC_LOOP_H
#define RC_LOOP_H

int loop_init(void);
/* Run until shutdown is requested; returns the exit code. */
int loop_run(void);
void loop_deinit(void);

#endif

/*
 * monitor.h — MONITOR: stream every executed command to monitoring clients.
 */
#ifndef RC_MONITOR_H
#define RC_MONITOR_H

struct client;

/* Send c's current command to every monitor. */
void monitor_feed(struct client *c);

#endif

/*
 * slowlog.h — the slow log (SLOWLOG GET/LEN/RESET).
 */
#ifndef RC_SLOWLOG_H
#define RC_SLOWLOG_H

struct client;

void slowlog_maybe_add(struct client *c, long long duration_us);
void slowlog_trim(void);
void slowlog_free_all(void);

#endif

/*
 * stats.h — INFO and error statistics.
 */
#ifndef RC_STATS_H
#define RC_STATS_H

struct client;

void stats_init(void);
void stats_deinit(void);
/* Count an error reply under its prefix (first word), as INFO errorstats. */
void stats_count_error(const char *msg);
void stats_reset(void);
/* Sample instantaneous metrics; called from the cron. */
void stats_cron(void);
void cmd_info(struct client *c);

#endif

/*
 * stats.h — INFO and error statistics.
 */
#ifndef RC_STATS_H
#define RC_STATS_H

#include <stddef.h>

struct client;

void stats_init(void);
void stats_deinit(void);
/* Count an error reply under its prefix (first word), as INFO errorstats. */
void stats_count_error(const char *msg);
void stats_reset(void);
/* Sample instantaneous metrics; called from the cron. */
void stats_cron(void);
void cmd_info(struct client *c);

/* What MEMORY STATS and MEMORY DOCTOR need of INFO memory's figures. */
struct mem_overview {
    size_t used, peak, rss, startup;
    size_t clients, nclients;           /* mem_clients_normal; connected clients */
    size_t clients_slaves, replicas;    /* mem_clients_slaves; replicas */
    size_t repl_backlog, cluster_links, aof_buffer, lua_caches, functions_caches;
};
void stats_mem_overview(struct mem_overview *m);

#endif

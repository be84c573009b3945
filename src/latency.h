/*
 * latency.h — the latency monitor (LATENCY LATEST/HISTORY/RESET/GRAPH,
 * `latency-monitor-threshold`) and per-command latency tracking (LATENCY
 * HISTOGRAM, INFO latencystats, `latency-tracking`,
 * `latency-tracking-info-percentiles`), as in Redis 7.0.
 */
#ifndef RC_LATENCY_H
#define RC_LATENCY_H

#include <stddef.h>

struct command;

/* Records `ms` for event (a static string) when latency-monitor-threshold
 * is set and ms reaches it. */
void latency_add_sample_if_needed(const char *event, long long ms);

/* A command call took usec microseconds: the monitor's "command" or
 * "fast-command" event and, with latency-tracking, cmd's histogram. */
void latency_command_done(struct command *cmd, long long usec);

/* INFO's latencystats section body (after the "# Latencystats" line),
 * rc_malloc'd, NUL-terminated. */
char *latency_info(void);

/* CONFIG latency-tracking-info-percentiles: set from words (NULL or an
 * error text) and get as Redis prints it. */
const char *latency_set_percentiles(int argc, char **argv);
size_t latency_get_percentiles(char *buf, size_t len);

/* CONFIG RESETSTAT: drops every command's histogram. */
void latency_reset_histograms(void);

void latency_deinit(void);

#endif

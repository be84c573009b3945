/*
 * latency.h — the latency monitor (LATENCY LATEST/HISTORY/RESET/GRAPH,
 * `latency-monitor-threshold`) and per-command latency tracking (LATENCY
 * HISTOGRAM, INFO latencystats, `latency-tracking`,
 * `latency-tracking-info-percentiles`), as in Redis 7.0.
 */
#ifndef RC_LATENCY_H
#define RC_LATENCY_H

#include <stddef.h>
#include <stdint.h>

struct command;

/* Records `ms` for event (a static string) when latency-monitor-threshold
 * is set and ms reaches it. */
void latency_add_sample_if_needed(const char *event, long long ms);

/* A timed section, as Redis's latencyStartMonitor/EndMonitor pair:
 *
 *     uint64_t t0 = latency_start();
 *     ... the operation ...
 *     latency_add_sample_if_needed("event", latency_ms_since(t0));
 *
 * latency_start() reads the monotonic clock only while the monitor is on
 * (else it returns 0, and latency_ms_since(0) is 0). */
uint64_t latency_start(void);
long long latency_ms_since(uint64_t start);

/* The parent's fork() of a child took usec microseconds: the "fork"
 * event, and the fork rate (used memory / fork time) LATENCY DOCTOR
 * reports, as Redis's stat_fork_rate. */
void latency_fork_done(long long usec);

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

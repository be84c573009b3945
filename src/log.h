/*
 * log.h — the server log.
 *
 * Lines look like redis-server's: "PID:ROLE DD Mon YYYY HH:MM:SS.mmm L msg",
 * where L is one of . - * # for debug, verbose, notice and warning.  The log
 * goes to stdout or to the configured logfile.
 */
#ifndef RC_LOG_H
#define RC_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_VERBOSE, LOG_NOTICE, LOG_WARNING };

void log_setup(const char *path, int level);
void log_set_level(int level);
/* The role letter after the pid: 'M' by default, 'C' in a forked child. */
void log_set_role(char role);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...)   log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_verbose(...) log_msg(LOG_VERBOSE, __VA_ARGS__)
#define log_notice(...)  log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warn(...)    log_msg(LOG_WARNING, __VA_ARGS__)

#endif

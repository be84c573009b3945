/*
 * log.c — timestamped log lines in redis-server's format.
 *
 * The file is opened for every line, as Redis does, so that log rotation by
 * rename works without a signal.  A failure to open the file falls back to
 * stderr: a log line is never silently dropped.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char log_path[1024];
static int log_level = LOG_NOTICE;
static char log_role = 'M';

void log_setup(const char *path, int level)
{
    if (path)
        snprintf(log_path, sizeof(log_path), "%s", path);
    else
        log_path[0] = '\0';
    log_level = level;
}

void log_set_level(int level)
{
    log_level = level;
}

void log_set_role(char role)
{
    log_role = role;
}

void log_msg(int level, const char *fmt, ...)
{
    static const char marks[] = ".-*#";
    if (level < log_level)
        return;

    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char when[64];
    size_t off = strftime(when, sizeof(when), "%d %b %Y %H:%M:%S.", &tm);
    snprintf(when + off, sizeof(when) - off, "%03d", (int)(tv.tv_usec / 1000));

    FILE *fp = stdout;
    if (log_path[0]) {
        fp = fopen(log_path, "a");
        if (fp == NULL)
            fp = stderr;
    }
    fprintf(fp, "%d:%c %s %c %s\n", (int)getpid(), log_role, when, marks[level & 3], msg);
    fflush(fp);
    if (fp != stdout && fp != stderr)
        fclose(fp);
}

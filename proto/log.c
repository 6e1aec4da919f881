/* proto/log.c — one line per event to stderr (see log.h). */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

static const char *log_component = "bbt";
static enum bbt_log_level log_threshold = BBT_LOG_INFO;

void bbt_log_init(const char *component, enum bbt_log_level threshold)
{
    log_component = component;
    log_threshold = threshold;
}

int bbt_log_enabled(enum bbt_log_level level) { return level <= log_threshold; }

void bbt_log(enum bbt_log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    if (level > log_threshold)
        return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char line[1024];
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s %s: ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, (int)(tv.tv_usec / 1000), names[level & 3], log_component);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof line)
        vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    /* one write per line, so lines from threads never interleave */
    fprintf(stderr, "%s\n", line);
}

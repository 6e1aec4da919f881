/* proto/log.h — one line per event, to stderr (journald picks it up under systemd):
 *   2026-11-24T08:00:01.123Z warn relay: viewer closed subject=cls-12 reason=stalled
 * The level threshold is set once at start-up (bbt_log_init) from the configuration; it is the
 * project's only process-wide setting, read-only once the program runs. Messages never contain
 * secrets: callers log subjects, never tokens. */
#ifndef BBT_LOG_H
#define BBT_LOG_H

enum bbt_log_level { BBT_LOG_ERROR = 0, BBT_LOG_WARN = 1, BBT_LOG_INFO = 2, BBT_LOG_DEBUG = 3 };

/* `component` prefixes every line ("relay", "node", "bbtctl"); a static string. */
void bbt_log_init(const char *component, enum bbt_log_level threshold);
int bbt_log_enabled(enum bbt_log_level level);
void bbt_log(enum bbt_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define BBT_ERROR(...) bbt_log(BBT_LOG_ERROR, __VA_ARGS__)
#define BBT_WARN(...) bbt_log(BBT_LOG_WARN, __VA_ARGS__)
#define BBT_INFO(...) bbt_log(BBT_LOG_INFO, __VA_ARGS__)
#define BBT_DEBUG(...) do { if (bbt_log_enabled(BBT_LOG_DEBUG)) bbt_log(BBT_LOG_DEBUG, __VA_ARGS__); } while (0)

#endif

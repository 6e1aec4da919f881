/* tests/bench/profiles.h — link profiles of `bbt-bench rural` (tests/bench/rural-profiles.ini).
 *
 * The file is INI as every configuration of the project (config/directives.h: the same syntax,
 * units, range checks and error lines): one [section] per profile, named by the section, with
 *
 *   description = text                     (optional)
 *   rate        = 1000                     link rate at the start, kbit/s, 8..1000000 (required)
 *   rtt         = 40ms                     round-trip time added to the link, 0..5s
 *   jitter      = 5ms                      ± spread of that delay (uniform), 0..rtt
 *   loss        = 0.5                      packets lost, percent, 0..50
 *   buffer      = 300ms                    the bottleneck's queue, as time at the current rate
 *                                          (tbf latency), 10ms..10s
 *   steps       = 20s:400, 60s:4000        rate changes, TIME:KBIT, times strictly increasing
 *                                          (optional, at most RURAL_MAX_STEPS)
 *   repeat      = 20s                      the steps repeat with this period; 0: once (every
 *                                          step time must be below it when set)
 *   duration    = 90s                      default length of a run, 5s..1h
 *
 * Section names are profile names ([A-Za-z0-9_-], at most RURAL_MAX_PROFILES of them). The loader
 * scans the section names first and then loads the whole file through bbt_config_load_buffer()
 * with a table made for those names, so every line is checked as a configuration line is.
 * Ownership: rural_profiles owns its array and strings; rural_profiles_free() releases them.
 * No global state.
 */
#ifndef BBT_BENCH_PROFILES_H
#define BBT_BENCH_PROFILES_H

#include <stddef.h>
#include <stdint.h>

#define RURAL_MAX_PROFILES 32
#define RURAL_MAX_STEPS 32
#define RURAL_NAME_MAX 64

typedef struct rural_step {
    int64_t at_ms;
    int64_t kbit;
} rural_step;

typedef struct rural_profile {
    char name[RURAL_NAME_MAX + 1];
    /* loaded by the table (strings malloc'd, owned) */
    char *description;
    int64_t rate_kbit;
    int64_t rtt_ms, jitter_ms, buffer_ms, repeat_ms, duration_ms;
    double loss_pct;
    char *steps_text;
    /* parsed from steps_text */
    rural_step steps[RURAL_MAX_STEPS];
    int nsteps;
} rural_profile;

typedef struct rural_profiles {
    rural_profile *p;
    int n;
    void *table; /* the directive table the strings were loaded with */
} rural_profiles;

/* BBT_OK, or a BBT_ECONFIG_* / BBT_ENOMEM code with a message naming the file (and line). */
int rural_profiles_load_buffer(const char *name, const char *text, size_t len,
                               rural_profiles *out, char *err, size_t errlen);
int rural_profiles_load_file(const char *path, rural_profiles *out, char *err, size_t errlen);
void rural_profiles_free(rural_profiles *ps);

const rural_profile *rural_profile_find(const rural_profiles *ps, const char *name);

/* The link rate at time t_ms of a run (kbit/s). */
int64_t rural_profile_rate_at(const rural_profile *p, int64_t t_ms);

/* The rate changes of a run of duration_ms, in time order (the rate at 0 excluded; a step to
 * the rate already in force is not a change). Returns how many, at most max. */
int rural_profile_changes(const rural_profile *p, int64_t duration_ms, rural_step *out, int max);

#endif

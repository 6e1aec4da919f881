/* relay/schedule/clock.h — the scheduler's wall clock, which tests can offset, speed up or set.
 *
 * The scheduler never reads the system clock itself: it asks bbt_clock_now(), which maps the
 * real wall clock onto "scheduler time":
 *     scheduler = base_sched + (real - base_real) * scale
 * Production: offset 0, scale 1 (scheduler time is the wall clock). [schedule] clock_offset
 * shifts it (a demo of tomorrow's timetable today), [schedule] time_scale = 60 runs a school
 * day in 8 minutes, and with [schedule] test_clock = true the operator message `clock` sets it
 * (bbt_clock_set) so an integration test steps through a lesson in seconds. Media timestamps
 * and welcome.time_us always use the real clock.
 *
 * A value type: no allocation, no global state; the scheduler owns one. */
#ifndef BBT_SCHED_CLOCK_H
#define BBT_SCHED_CLOCK_H

#include <stdint.h>

typedef struct bbt_clock {
    int64_t base_real_us;  /* real wall time at the last (re)base */
    int64_t base_sched_us; /* scheduler time at that instant */
    double scale;          /* scheduler seconds per real second; 0 stops it */
} bbt_clock;

/* The real wall clock (CLOCK_REALTIME), µs since 1970. */
int64_t bbt_clock_real_us(void);

/* Start at real_now + offset_us, running at `scale`. */
void bbt_clock_init(bbt_clock *c, int64_t real_now_us, int64_t offset_us, double scale);

/* Scheduler time at real time `real_us`. */
int64_t bbt_clock_at(const bbt_clock *c, int64_t real_us);

/* Scheduler time now. */
int64_t bbt_clock_now(const bbt_clock *c);

/* From real_now on, scheduler time is sched_us, running at scale (scale < 0: keep it). */
void bbt_clock_set(bbt_clock *c, int64_t real_now_us, int64_t sched_us, double scale);

#endif

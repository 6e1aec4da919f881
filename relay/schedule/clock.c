/* relay/schedule/clock.c — see clock.h. */
#include <time.h>

#include "relay/schedule/clock.h"

int64_t bbt_clock_real_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void bbt_clock_init(bbt_clock *c, int64_t real_now_us, int64_t offset_us, double scale)
{
    c->base_real_us = real_now_us;
    c->base_sched_us = real_now_us + offset_us;
    c->scale = scale >= 0 ? scale : 1.0;
}

int64_t bbt_clock_at(const bbt_clock *c, int64_t real_us)
{
    return c->base_sched_us + (int64_t)((double)(real_us - c->base_real_us) * c->scale);
}

int64_t bbt_clock_now(const bbt_clock *c)
{
    return bbt_clock_at(c, bbt_clock_real_us());
}

void bbt_clock_set(bbt_clock *c, int64_t real_now_us, int64_t sched_us, double scale)
{
    c->base_real_us = real_now_us;
    c->base_sched_us = sched_us;
    if (scale >= 0)
        c->scale = scale;
}

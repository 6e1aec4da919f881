/* relay/schedule/calendar.c — day numbers, HH:MM, weekday names and the fixed-offset zone table
 * (see model.h for why a table and not the host's tzdata). */
#include <stdio.h>
#include <string.h>

#include "proto/status.h"
#include "relay/schedule/model.h"

/* Days from 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
bbt_day bbt_day_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (bbt_day)(era * 146097 + doe - 719468);
}

void bbt_day_to_civil(bbt_day day, int *y, int *m, int *d)
{
    int z = day + 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    int doe = z - era * 146097;
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

int bbt_day_weekday(bbt_day day)
{
    int r = (int)(((int64_t)day % 7 + 7) % 7); /* 0 = Thursday */
    return (r + 3) % 7 + 1;
}

static int days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

/* Up to `max` digits at s[*i]; at least `min`. -1 if not. */
static int number(const char *s, size_t len, size_t *i, int min, int max)
{
    int v = 0, n = 0;
    while (*i < len && n < max && s[*i] >= '0' && s[*i] <= '9') {
        v = v * 10 + (s[*i] - '0');
        (*i)++;
        n++;
    }
    return n >= min ? v : -1;
}

int bbt_day_parse(const char *s, size_t len, bool lenient, bbt_day *out)
{
    size_t i = 0;
    int y = number(s, len, &i, 4, 4);
    if (y < 1900 || y > 2999 || i >= len || (s[i] != '-' && s[i] != '/'))
        return BBT_EINVAL;
    char sep = s[i++];
    int m = number(s, len, &i, lenient ? 1 : 2, 2);
    if (m < 1 || m > 12 || i >= len || s[i++] != sep)
        return BBT_EINVAL;
    int d = number(s, len, &i, lenient ? 1 : 2, 2);
    if (d < 1 || i != len || d > days_in_month(y, m))
        return BBT_EINVAL;
    *out = bbt_day_from_civil(y, m, d);
    return BBT_OK;
}

char *bbt_day_format(bbt_day day, char *buf)
{
    int y, m, d;
    bbt_day_to_civil(day, &y, &m, &d);
    if (y < 0 || y > 9999)
        y = 0;
    const int v[3] = {y, m, d}, w[3] = {4, 2, 2};
    char *p = buf;
    for (int i = 0; i < 3; i++) {
        for (int k = w[i] - 1, x = v[i]; k >= 0; k--, x /= 10)
            p[k] = (char)('0' + x % 10);
        p += w[i];
        *p++ = i < 2 ? '-' : '\0';
    }
    return buf;
}

int bbt_hhmm_parse(const char *s, size_t len, bool lenient, bool allow_24, int *minutes)
{
    size_t i = 0;
    int h = number(s, len, &i, lenient ? 1 : 2, 2);
    if (h < 0 || i >= len || s[i++] != ':')
        return BBT_EINVAL;
    size_t before = i;
    int m = number(s, len, &i, 2, 2);
    if (m < 0 || m > 59 || i != len || i - before != 2)
        return BBT_EINVAL;
    if (h > 23 && !(allow_24 && h == 24 && m == 0))
        return BBT_EINVAL;
    *minutes = h * 60 + m;
    return BBT_OK;
}

char *bbt_hhmm_format(int minutes, char *buf)
{
    if (minutes < 0 || minutes > 24 * 60)
        minutes = 0;
    buf[0] = (char)('0' + minutes / 600);
    buf[1] = (char)('0' + minutes / 60 % 10);
    buf[2] = ':';
    buf[3] = (char)('0' + minutes % 60 / 10);
    buf[4] = (char)('0' + minutes % 10);
    buf[5] = '\0';
    return buf;
}

const char *bbt_weekday_en(int w)
{
    static const char *const n[] = {"?", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    return w >= 1 && w <= 7 ? n[w] : n[0];
}

const char *bbt_weekday_zh(int w)
{
    static const char *const n[] = {"?", "周一", "周二", "周三", "周四", "周五", "周六", "周日"};
    return w >= 1 && w <= 7 ? n[w] : n[0];
}

/* ---- zones ---------------------------------------------------------------------------------- */

/* The zones of the People's Republic (and neighbours a county might name), with the offsets
 * they have kept since 1991. Add a row to support another fixed-offset zone. */
static const struct tz_row {
    const char *name;
    int minutes;
} zones[] = {
    {"Asia/Shanghai", 480}, {"Asia/Chongqing", 480}, {"Asia/Chungking", 480},
    {"Asia/Harbin", 480},   {"Asia/Urumqi", 360},    {"Asia/Kashgar", 360},
    {"Asia/Hong_Kong", 480}, {"Asia/Macau", 480},    {"Asia/Taipei", 480},
    {"PRC", 480},           {"UTC", 0},              {"Etc/UTC", 0},
};

int bbt_tz_offset(const char *name, int *minutes)
{
    for (size_t i = 0; name && i < sizeof zones / sizeof zones[0]; i++)
        if (strcmp(zones[i].name, name) == 0) {
            *minutes = zones[i].minutes;
            return BBT_OK;
        }
    return BBT_ENOTFOUND;
}

const char *bbt_tz_known(void)
{
    return "Asia/Shanghai, Asia/Chongqing, Asia/Chungking, Asia/Harbin, Asia/Urumqi, "
           "Asia/Kashgar, Asia/Hong_Kong, Asia/Macau, Asia/Taipei, PRC, UTC, Etc/UTC";
}

int64_t bbt_local_to_us(bbt_day day, int minutes, int tz_min)
{
    return ((int64_t)day * 1440 + minutes - tz_min) * 60 * 1000000;
}

void bbt_us_to_local(int64_t us, int tz_min, bbt_day *day, int *minutes, int *sec)
{
    int64_t s = us / 1000000 - (us % 1000000 < 0) + (int64_t)tz_min * 60;
    int64_t d = s / 86400 - (s % 86400 < 0);
    int64_t rem = s - d * 86400;
    if (day)
        *day = (bbt_day)d;
    if (minutes)
        *minutes = (int)(rem / 60);
    if (sec)
        *sec = (int)(rem % 60);
}

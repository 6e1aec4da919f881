/* tests/bench/profiles.c — link profiles of `bbt-bench rural` (see profiles.h). */
#include "profiles.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/directives.h"
#include "proto/status.h"

enum { KEYS_PER_PROFILE = 9 };

/* ---- steps: "TIME:KBIT, TIME:KBIT" ------------------------------------------------------ */

/* One duration in the loader's own units (250ms, 2s, 5m, bare number = ms), through the public
 * loader on a one-key table, so the units are exactly those of every other value. */
static int parse_duration(const char *text, int64_t *out, char *msg, size_t msglen)
{
    static const bbt_directive d[] = {{"step", "time", BBT_CFG_DURATION, "0", 0, 3600000, 0,
                                       NULL, "时间\ntime", NULL}};
    int64_t v = 0;
    char err[256];
    if (bbt_config_set(d, 1, &v, "step", "time", text, err, sizeof err) != BBT_OK) {
        const char *e = strstr(err, "expected");
        snprintf(msg, msglen, "step time: %.160s", e ? e : err);
        return BBT_ECONFIG_VALUE;
    }
    *out = v;
    return BBT_OK;
}

static int parse_steps(const char *text, rural_step *out, int *n, char *msg, size_t msglen)
{
    *n = 0;
    const char *p = text;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0')
        return BBT_OK;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char item[64];
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len == 0 || len >= sizeof item) {
            snprintf(msg, msglen, "step %d: expected TIME:KBIT (like 20s:400)", *n + 1);
            return BBT_ECONFIG_VALUE;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        char *colon = strchr(item, ':');
        if (!colon) {
            snprintf(msg, msglen, "step %d: expected TIME:KBIT (like 20s:400)", *n + 1);
            return BBT_ECONFIG_VALUE;
        }
        *colon = '\0';
        if (*n == RURAL_MAX_STEPS) {
            snprintf(msg, msglen, "more than %d steps", RURAL_MAX_STEPS);
            return BBT_ECONFIG_VALUE;
        }
        rural_step s;
        char sub[200];
        if (parse_duration(item, &s.at_ms, sub, sizeof sub) != BBT_OK) {
            snprintf(msg, msglen, "step %d: %.180s", *n + 1, sub);
            return BBT_ECONFIG_VALUE;
        }
        const char *k = colon + 1;
        char *kend;
        errno = 0;
        long long kb = strtoll(k, &kend, 10);
        if (*k < '0' || *k > '9' || *kend != '\0' || errno || kb < 8 || kb > 1000000) {
            snprintf(msg, msglen, "step %d: expected a rate in kbit/s 8..1000000 after ':'",
                     *n + 1);
            return BBT_ECONFIG_VALUE;
        }
        s.kbit = kb;
        if (s.at_ms <= 0 || (*n > 0 && s.at_ms <= out[*n - 1].at_ms)) {
            snprintf(msg, msglen, "step %d: times must be above 0 and increasing", *n + 1);
            return BBT_ECONFIG_VALUE;
        }
        out[(*n)++] = s;
        if (!end)
            return BBT_OK;
        p = end + 1;
        while (*p == ' ' || *p == '\t')
            p++;
    }
}

static int check_steps(const char *value, char *msg, size_t msglen)
{
    rural_step tmp[RURAL_MAX_STEPS];
    int n;
    return parse_steps(value, tmp, &n, msg, msglen);
}

/* ---- section names ------------------------------------------------------------------------ */

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
}

/* The distinct well-formed section names of the text, in order. A malformed header is left to
 * the loader, which names its line. Returns the count, or -1 beyond RURAL_MAX_PROFILES. */
static int scan_sections(const char *text, size_t len, char names[][RURAL_NAME_MAX + 1])
{
    int n = 0;
    size_t pos = len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    while (pos < len) {
        const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
        size_t linelen = nl ? (size_t)(nl - s) : len - pos;
        pos += linelen + (nl != NULL);
        size_t i = 0;
        while (i < linelen && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i == linelen || s[i] != '[')
            continue;
        i++;
        while (i < linelen && (s[i] == ' ' || s[i] == '\t'))
            i++;
        size_t start = i;
        while (i < linelen && name_char(s[i]))
            i++;
        size_t nlen = i - start;
        while (i < linelen && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (nlen == 0 || nlen > RURAL_NAME_MAX || i == linelen || s[i] != ']')
            continue;
        bool dup = false;
        for (int k = 0; k < n && !dup; k++)
            dup = strlen(names[k]) == nlen && memcmp(names[k], s + start, nlen) == 0;
        if (dup)
            continue;
        if (n == RURAL_MAX_PROFILES)
            return -1;
        memcpy(names[n], s + start, nlen);
        names[n][nlen] = '\0';
        n++;
    }
    return n;
}

/* ---- loading ------------------------------------------------------------------------------ */

#define OFF(i, f) ((i) * sizeof(rural_profile) + offsetof(rural_profile, f))

static void fill_table(bbt_directive *t, const char *section, size_t i)
{
    const bbt_directive d[KEYS_PER_PROFILE] = {
        {section, "description", BBT_CFG_STRING, "", 0, 256, OFF(i, description), NULL,
         "说明\ndescription", NULL},
        {section, "rate", BBT_CFG_INT, "0", 0, 1000000, OFF(i, rate_kbit), NULL,
         "起始速率 kbit/s\nrate at the start, kbit/s", NULL},
        {section, "rtt", BBT_CFG_DURATION, "0", 0, 5000, OFF(i, rtt_ms), NULL,
         "往返时延\nround-trip time", NULL},
        {section, "jitter", BBT_CFG_DURATION, "0", 0, 5000, OFF(i, jitter_ms), NULL,
         "抖动\njitter", NULL},
        {section, "loss", BBT_CFG_DOUBLE, "0", 0, BBT_CFG_MICRO(50), OFF(i, loss_pct), NULL,
         "丢包率 %\nloss, percent", NULL},
        {section, "buffer", BBT_CFG_DURATION, "300ms", 10, 10000, OFF(i, buffer_ms), NULL,
         "瓶颈队列\nbottleneck queue", NULL},
        {section, "steps", BBT_CFG_LIST, "", 0, 2000, OFF(i, steps_text), NULL,
         "速率变化\nrate changes", check_steps},
        {section, "repeat", BBT_CFG_DURATION, "0", 0, 3600000, OFF(i, repeat_ms), NULL,
         "周期\nperiod of the steps", NULL},
        {section, "duration", BBT_CFG_DURATION, "60s", 5000, 3600000, OFF(i, duration_ms), NULL,
         "时长\nlength of a run", NULL},
    };
    memcpy(t, d, sizeof d);
}

static int post_check(const char *file, rural_profile *p, char *err, size_t errlen)
{
    char msg[256];
    const char *why = NULL;
    if (parse_steps(p->steps_text, p->steps, &p->nsteps, msg, sizeof msg) != BBT_OK)
        why = msg; /* cannot happen: the check function passed it */
    else if (p->rate_kbit < 8)
        why = "rate is required (kbit/s, 8..1000000)";
    else if (p->jitter_ms > p->rtt_ms)
        why = "jitter may not exceed rtt";
    else if (p->repeat_ms > 0 && p->nsteps == 0)
        why = "repeat needs steps";
    else if (p->repeat_ms > 0 && p->steps[p->nsteps - 1].at_ms >= p->repeat_ms)
        why = "every step time must be below repeat";
    if (!why)
        return BBT_OK;
    if (err && errlen)
        snprintf(err, errlen, "%s: [%s] %s", file, p->name, why);
    return BBT_ECONFIG_VALUE;
}

void rural_profiles_free(rural_profiles *ps)
{
    if (ps->table && ps->p)
        bbt_config_free(ps->table, (size_t)ps->n * KEYS_PER_PROFILE, ps->p);
    free(ps->table);
    free(ps->p);
    ps->table = NULL;
    ps->p = NULL;
    ps->n = 0;
}

int rural_profiles_load_buffer(const char *name, const char *text, size_t len,
                               rural_profiles *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!name)
        name = "profiles";
    if (err && errlen)
        err[0] = '\0';
    char (*names)[RURAL_NAME_MAX + 1] = malloc(RURAL_MAX_PROFILES * sizeof *names);
    if (!names)
        return BBT_ENOMEM;
    int n = len <= BBT_CONFIG_MAX_FILE ? scan_sections(text, len, names) : 0;
    if (n < 0) {
        snprintf(err, errlen, "%s: more than %d profiles", name, RURAL_MAX_PROFILES);
        free(names);
        return BBT_ECONFIG_FILE;
    }
    out->p = calloc(n ? (size_t)n : 1, sizeof *out->p);
    out->table = calloc(n ? (size_t)n * KEYS_PER_PROFILE : 1, sizeof(bbt_directive));
    if (!out->p || !out->table) {
        free(names);
        rural_profiles_free(out);
        return BBT_ENOMEM;
    }
    bbt_directive *t = out->table;
    for (int i = 0; i < n; i++) {
        memcpy(out->p[i].name, names[i], sizeof names[i]);
        fill_table(t + (size_t)i * KEYS_PER_PROFILE, out->p[i].name, (size_t)i);
    }
    free(names);
    int rc = bbt_config_load_buffer(name, text, len, t, (size_t)n * KEYS_PER_PROFILE, out->p, err,
                                    errlen);
    if (rc != BBT_OK) {
        free(out->table); /* the loader freed the strings */
        free(out->p);
        memset(out, 0, sizeof *out);
        return rc;
    }
    out->n = n;
    if (n == 0) {
        snprintf(err, errlen, "%s: no [profile] section", name);
        rural_profiles_free(out);
        return BBT_ECONFIG_FILE;
    }
    for (int i = 0; i < n; i++) {
        rc = post_check(name, &out->p[i], err, errlen);
        if (rc != BBT_OK) {
            rural_profiles_free(out);
            return rc;
        }
    }
    return BBT_OK;
}

int rural_profiles_load_file(const char *path, rural_profiles *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return BBT_ECONFIG_FILE;
    }
    size_t cap = BBT_CONFIG_MAX_FILE + 1;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return BBT_ENOMEM;
    }
    size_t len = fread(buf, 1, cap, f);
    int bad = ferror(f);
    fclose(f);
    int rc;
    if (bad) {
        snprintf(err, errlen, "%s: cannot read", path);
        rc = BBT_ECONFIG_FILE;
    } else if (len > BBT_CONFIG_MAX_FILE) {
        snprintf(err, errlen, "%s: larger than 1 MiB", path);
        rc = BBT_ECONFIG_FILE;
    } else {
        rc = rural_profiles_load_buffer(path, buf, len, out, err, errlen);
    }
    free(buf);
    return rc;
}

const rural_profile *rural_profile_find(const rural_profiles *ps, const char *name)
{
    for (int i = 0; i < ps->n; i++)
        if (strcmp(ps->p[i].name, name) == 0)
            return &ps->p[i];
    return NULL;
}

int64_t rural_profile_rate_at(const rural_profile *p, int64_t t)
{
    if (p->repeat_ms > 0 && t >= 0)
        t %= p->repeat_ms;
    int64_t r = p->rate_kbit;
    for (int i = 0; i < p->nsteps && p->steps[i].at_ms <= t; i++)
        r = p->steps[i].kbit;
    return r;
}

int rural_profile_changes(const rural_profile *p, int64_t duration_ms, rural_step *out, int max)
{
    int n = 0;
    int64_t rate = p->rate_kbit;
    int64_t period = p->repeat_ms > 0 ? p->repeat_ms : 0;
    for (int64_t base = 0; n < max && base < duration_ms; base += period) {
        /* within one period: the start of the period (rate back to `rate`), then the steps */
        for (int i = -1; i < p->nsteps && n < max; i++) {
            int64_t at = base + (i < 0 ? 0 : p->steps[i].at_ms);
            int64_t kb = i < 0 ? p->rate_kbit : p->steps[i].kbit;
            if (at >= duration_ms)
                break;
            if (at > 0 && kb != rate)
                out[n++] = (rural_step){at, kb};
            rate = kb;
        }
        if (!period)
            break;
    }
    return n;
}

/* tests/fuzz/fuzz_rural_profiles.c — the link profiles of `bbt-bench rural`
 * (tests/bench/profiles.c: a section scan, then the config loader with a table made for the
 * sections found) on arbitrary bytes. Properties:
 * - a failed load has a message and leaves nothing allocated (ps zeroed);
 * - a loaded set has 1..RURAL_MAX_PROFILES distinct well-formed names, every value within its
 *   documented range, steps increasing and below `repeat`;
 * - the rate changes of a run agree with rural_profile_rate_at() just before and at each change;
 * - every profile written back as INI loads again to the same values;
 * and nothing leaks (LeakSanitizer) or reads out of bounds (the input is not NUL-terminated). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/status.h"
#include "tests/bench/profiles.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_profile(const rural_profile *p)
{
    size_t n = strlen(p->name);
    if (n == 0 || n > RURAL_NAME_MAX || strspn(p->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"
                                                        "OPQRSTUVWXYZ0123456789_-") != n)
        abort();
    if (!p->description || !p->steps_text || p->rate_kbit < 8 || p->rate_kbit > 1000000 ||
        p->rtt_ms < 0 || p->rtt_ms > 5000 || p->jitter_ms < 0 || p->jitter_ms > p->rtt_ms ||
        !(p->loss_pct >= 0 && p->loss_pct <= 50) || p->buffer_ms < 10 || p->buffer_ms > 10000 ||
        p->duration_ms < 5000 || p->duration_ms > 3600000 || p->nsteps < 0 ||
        p->nsteps > RURAL_MAX_STEPS || (p->repeat_ms > 0 && p->nsteps == 0))
        abort();
    for (int i = 0; i < p->nsteps; i++) {
        const rural_step *s = &p->steps[i];
        if (s->at_ms <= 0 || s->kbit < 8 || s->kbit > 1000000 ||
            (i > 0 && s->at_ms <= p->steps[i - 1].at_ms) ||
            (p->repeat_ms > 0 && s->at_ms >= p->repeat_ms))
            abort();
    }
    rural_step ch[64];
    int k = rural_profile_changes(p, p->duration_ms, ch, 64);
    if (k < 0 || k > 64)
        abort();
    for (int i = 0; i < k; i++) {
        if (ch[i].at_ms <= 0 || ch[i].at_ms >= p->duration_ms ||
            (i > 0 && ch[i].at_ms <= ch[i - 1].at_ms) ||
            rural_profile_rate_at(p, ch[i].at_ms) != ch[i].kbit ||
            rural_profile_rate_at(p, ch[i].at_ms - 1) == ch[i].kbit)
            abort();
    }
}

/* The profile as INI text (values in the loader's units). */
static size_t write_back(const rural_profile *p, char *buf, size_t cap)
{
    size_t o = (size_t)snprintf(buf, cap,
                                "[%s]\nrate = %lld\nrtt = %lldms\njitter = %lldms\nloss = %.6f\n"
                                "buffer = %lldms\nrepeat = %lldms\nduration = %lldms\nsteps = ",
                                p->name, (long long)p->rate_kbit, (long long)p->rtt_ms,
                                (long long)p->jitter_ms, p->loss_pct, (long long)p->buffer_ms,
                                (long long)p->repeat_ms, (long long)p->duration_ms);
    for (int i = 0; i < p->nsteps && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%lldms:%lld", i ? ", " : "",
                              (long long)p->steps[i].at_ms, (long long)p->steps[i].kbit);
    if (o < cap)
        o += (size_t)snprintf(buf + o, cap - o, "\n");
    return o < cap ? o : cap;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rural_profiles ps;
    char err[512];
    int rc = rural_profiles_load_buffer("fuzz.ini", (const char *)data, size, &ps, err, sizeof err);
    if (rc != BBT_OK) {
        if (err[0] == '\0' || ps.p || ps.table || ps.n)
            abort();
        return 0;
    }
    if (ps.n < 1 || ps.n > RURAL_MAX_PROFILES)
        abort();
    for (int i = 0; i < ps.n; i++) {
        check_profile(&ps.p[i]);
        for (int j = 0; j < i; j++)
            if (strcmp(ps.p[i].name, ps.p[j].name) == 0)
                abort();
        if (rural_profile_find(&ps, ps.p[i].name) != &ps.p[i])
            abort();
        static char text[8192];
        size_t len = write_back(&ps.p[i], text, sizeof text);
        rural_profiles again;
        if (rural_profiles_load_buffer("again.ini", text, len, &again, err, sizeof err) != BBT_OK)
            abort();
        const rural_profile *a = &again.p[0], *p = &ps.p[i];
        if (again.n != 1 || strcmp(a->name, p->name) || a->rate_kbit != p->rate_kbit ||
            a->rtt_ms != p->rtt_ms || a->jitter_ms != p->jitter_ms ||
            a->buffer_ms != p->buffer_ms || a->repeat_ms != p->repeat_ms ||
            a->duration_ms != p->duration_ms || a->nsteps != p->nsteps ||
            (a->loss_pct - p->loss_pct > 1e-6 || p->loss_pct - a->loss_pct > 1e-6) ||
            memcmp(a->steps, p->steps, sizeof a->steps[0] * (size_t)p->nsteps))
            abort();
        rural_profiles_free(&again);
    }
    rural_profiles_free(&ps);
    return 0;
}

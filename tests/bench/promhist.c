/* tests/bench/promhist.c — a Prometheus histogram out of /metrics text (see promhist.h). */
#include "promhist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "proto/status.h"

/* A finite number ≥ 0 (or +Inf / "+Inf" when inf_ok) at p, up to the end of the token. */
static int number(const char *p, const char **end, int inf_ok, double *out)
{
    if (inf_ok && !strncmp(p, "+Inf", 4)) {
        *out = INFINITY;
        *end = p + 4;
        return BBT_OK;
    }
    char *e;
    double v = strtod(p, &e);
    if (e == p || !isfinite(v) || v < 0)
        return BBT_EINVAL;
    *out = v;
    *end = e;
    return BBT_OK;
}

/* The line at p is `name``suffix` followed by what: the position after the suffix, or NULL. */
static const char *after_key(const char *p, const char *name, size_t nlen, const char *suffix)
{
    size_t slen = strlen(suffix);
    if (strncmp(p, name, nlen) || strncmp(p + nlen, suffix, slen))
        return NULL;
    return p + nlen + slen;
}

/* One `_bucket{le="X"} N` line's bound and count. */
static int bucket_line(const char *p, double *le, double *cum)
{
    const char *e;
    if (number(p, &e, 1, le) != BBT_OK || strncmp(e, "\"} ", 3))
        return BBT_EINVAL;
    if (number(e + 3, &e, 0, cum) != BBT_OK || (*e && *e != '\n'))
        return BBT_EINVAL;
    return BBT_OK;
}

static int value_line(const char *p, double *v)
{
    const char *e;
    if (number(p, &e, 0, v) != BBT_OK || (*e && *e != '\n'))
        return BBT_EINVAL;
    return BBT_OK;
}

static int add_bucket(prom_hist *h, double le, double cum)
{
    if (h->n == PROMHIST_MAX || (h->n && (le <= h->le[h->n - 1] || cum < h->cum[h->n - 1])))
        return BBT_EINVAL;
    h->le[h->n] = le;
    h->cum[h->n++] = cum;
    return BBT_OK;
}

int prom_hist_parse(const char *text, const char *name, prom_hist *out)
{
    if (!text || !name || !out)
        return BBT_EINVAL;
    memset(out, 0, sizeof *out);
    out->sum = out->count = NAN;
    size_t nlen = strlen(name);
    int seen = 0, rc = BBT_OK;
    for (const char *p = text; *p && rc == BBT_OK; p++) {
        const char *q;
        double le, v;
        if ((q = after_key(p, name, nlen, "_bucket{le=\""))) {
            seen = 1;
            rc = bucket_line(q, &le, &v);
            if (rc == BBT_OK)
                rc = add_bucket(out, le, v);
        } else if ((q = after_key(p, name, nlen, "_sum "))) {
            seen = 1;
            rc = value_line(q, &out->sum);
        } else if ((q = after_key(p, name, nlen, "_count "))) {
            seen = 1;
            rc = value_line(q, &out->count);
        }
        p = strchr(p, '\n');
        if (!p)
            break;
    }
    if (rc != BBT_OK)
        return rc;
    if (!seen)
        return BBT_ENOTFOUND;
    if (!out->n || !isinf(out->le[out->n - 1]))
        return BBT_EINVAL;
    return BBT_OK;
}

static int same_bounds(const prom_hist *a, const prom_hist *b)
{
    if (a->n != b->n || !a->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->le[i] != b->le[i])
            return 0;
    return 1;
}

double prom_hist_observed(const prom_hist *after, const prom_hist *before)
{
    if (!same_bounds(after, before))
        return -1;
    return after->cum[after->n - 1] - before->cum[before->n - 1];
}

double prom_hist_quantile(const prom_hist *after, const prom_hist *before, double q)
{
    double total = prom_hist_observed(after, before);
    if (total <= 0 || !(q > 0 && q < 1))
        return NAN;
    double rank = q * total, below = 0, lo = 0;
    for (size_t i = 0; i < after->n; i++) {
        double c = after->cum[i] - before->cum[i];
        if (c >= rank) {
            if (isinf(after->le[i])) /* beyond the last bound: all we can say */
                return lo;
            double in = c - below;
            return in > 0 ? lo + (after->le[i] - lo) * (rank - below) / in : after->le[i];
        }
        below = c < below ? below : c;
        lo = after->le[i];
    }
    return lo;
}

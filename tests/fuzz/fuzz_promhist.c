/* tests/fuzz/fuzz_promhist.c — the /metrics histogram reader of bbt-bench
 * (tests/bench/promhist.c) on arbitrary bytes. Properties:
 * - a parse either fails or yields 1..PROMHIST_MAX buckets with increasing bounds, the last
 *   +Inf, and non-decreasing finite cumulative counts;
 * - quantiles of a parsed histogram against an all-zero one with the same bounds are NAN (no
 *   observations) or within [0, the last finite bound], and do not decrease with q;
 * and nothing reads out of bounds (the input is copied into a NUL-terminated buffer). */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/status.h"
#include "tests/bench/promhist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_quantiles(const prom_hist *h)
{
    prom_hist zero = *h;
    for (size_t i = 0; i < zero.n; i++)
        zero.cum[i] = 0;
    double top = h->n > 1 ? h->le[h->n - 2] : 0, prev = -1;
    static const double qs[] = {0.01, 0.5, 0.9, 0.99, 0.999};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        double v = prom_hist_quantile(h, &zero, qs[i]);
        if (isnan(v)) {
            if (prom_hist_observed(h, &zero) > 0)
                abort();
            continue;
        }
        if (v < 0 || v > top || v < prev)
            abort();
        prev = v;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    prom_hist h;
    if (prom_hist_parse(text, "bbt_queue_delay_ms", &h) == BBT_OK) {
        if (h.n < 1 || h.n > PROMHIST_MAX || !isinf(h.le[h.n - 1]))
            abort();
        for (size_t i = 0; i < h.n; i++) {
            bool order = i == 0 || (h.le[i] > h.le[i - 1] && h.cum[i] >= h.cum[i - 1]);
            if (!isfinite(h.cum[i]) || h.cum[i] < 0 || !order)
                abort();
        }
        check_quantiles(&h);
    }
    free(text);
    return 0;
}

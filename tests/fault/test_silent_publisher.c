/* tests/fault/test_silent_publisher.c — a publisher that goes silent without closing (what a
 * cut link looks like from the relay: no FIN, no RST), then sends again. The part of
 * fault/netcut that needs no root, so it runs everywhere, also under the sanitizers.
 *
 * The real bbt-relay ([publisher] idle_timeout = 1s), a synthetic publisher, two viewers.
 * Asserted: while the publisher sends nothing for 4 s its viewers stay connected and get
 * `state: interrupted` between idle_timeout and idle_timeout + 1.5 s after its last frame
 * (relay/conn.c publisher_silence) and no media from 0.5 s into the silence; when it sends again they get `state: live` and media, with
 * no frame missing (the publisher's sequence numbers continue).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fault/fault_util.h"
#include "support/relay_proc.h"

#define IDLE_MS 1000

static void silent_publisher_interrupts_then_resumes(void **state)
{
    (void)state;
    relay_proc relay;
    const char *sets[] = {"publisher.idle_timeout=1s", NULL};
    assert_int_equal(relay_start(&relay, 0, sets), 0);
    tc_ctx *t = tc_new();
    assert_non_null(t);
    fu_pub pub;
    fu_viewer v[2];
    memset(v, 0, sizeof v);
    assert_int_equal(fu_pub_start(&pub, t, relay.port, "lesson", 2000), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(fu_viewer_start(&v[i], t, relay.port, "lesson"), 0);
    fu_pub *pubs[] = {&pub};
    fu_viewer *views[] = {&v[0], &v[1]};
    fu_run(t, pubs, 1, views, 2, 1500);
    for (int i = 0; i < 2; i++) {
        assert_true(v[i].frames > 20);
        fu_viewer_reset(&v[i]);
    }
    int64_t silent = fu_mono_us();
    double told_ms[2] = {-1, -1};
    unsigned at_half = 0;
    bool marked = false;
    while (fu_mono_us() - silent < 4000000) { /* the publisher sends nothing */
        fu_run(t, NULL, 0, views, 2, 20);
        if (!marked && fu_mono_us() - silent >= 500000) { /* what was in flight has arrived */
            at_half = v[0].frames + v[1].frames;
            marked = true;
        }
        for (int i = 0; i < 2; i++)
            if (told_ms[i] < 0 && v[i].interrupted)
                told_ms[i] = (double)(fu_mono_us() - silent) / 1000.0;
    }
    unsigned during = v[0].frames + v[1].frames - at_half;
    int64_t now = fu_mono_us();
    pub.next_us[0] = pub.next_us[1] = now; /* resume at the normal rate, no catch-up burst */
    fu_run(t, pubs, 1, views, 2, 1500);
    printf("# silent 4 s: viewers told interrupted after %.0f / %.0f ms (idle_timeout %d ms), "
           "frames from 0.5 s on %u; after: live %u / %u, frames %u / %u, missing %u / %u, "
           "connected %d / %d\n",
           told_ms[0], told_ms[1], IDLE_MS, during, v[0].live, v[1].live, v[0].frames,
           v[1].frames, v[0].gaps, v[1].gaps, !v[0].closed, !v[1].closed);
    for (int i = 0; i < 2; i++) {
        assert_true(told_ms[i] >= IDLE_MS - 100 && told_ms[i] <= IDLE_MS + 1500);
        assert_false(v[i].closed);
        assert_true(v[i].live >= 1);
        assert_true(v[i].frames > 20);
        assert_int_equal(v[i].gaps, 0);
    }
    assert_int_equal(during, 0);
    for (int i = 0; i < 2; i++)
        fu_viewer_free(&v[i]);
    tc_free(t);
    assert_int_equal(relay_stop(&relay, SIGTERM, 5000), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(silent_publisher_interrupts_then_resumes)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

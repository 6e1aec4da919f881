/* tests/bench/test_rural.c — the pure parts of the rural-link bench: bbt-linkemu's scheduler
 * (delayline.c), the link profiles (profiles.c, and the committed rural-profiles.ini), and the
 * figures the viewer computes (rural_stats.c), each definition of docs/PERFORMANCE.md "Rural
 * links" driven with synthetic arrivals. Time is the test's; nothing sleeps. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "delayline.h"
#include "profiles.h"
#include "proto/frame.h"
#include "proto/status.h"
#include "rural_stats.h"

#define MS 1000
#define S 1000000

static const char *g_profiles_path, *g_corpus_dir;

/* ---- delayline --------------------------------------------------------------------------- */

static void test_delayline_holds_in_order(void **state)
{
    (void)state;
    delayline d;
    dl_params p = {.delay_us = 100 * MS, .jitter_us = 20 * MS, .loss_ppm = 0};
    assert_int_equal(dl_init(&d, &p, 64, 42), 0);
    int64_t last = 0;
    for (uint32_t i = 0; i < 50; i++)
        assert_int_equal(dl_offer(&d, i, i * MS), DL_HELD);
    assert_int_equal(dl_held(&d), 50);
    uint32_t id, want = 0;
    assert_false(dl_pop_due(&d, 79 * MS, &id)); /* nothing before delay − jitter */
    for (int64_t t = 80 * MS; t < 200 * MS; t += MS)
        while (dl_pop_due(&d, t, &id)) {
            assert_int_equal(id, want++); /* never reordered */
            assert_true(t >= last);
            last = t;
        }
    assert_int_equal(want, 50);
    /* every packet was held delay ± jitter, at least as long as the one before it */
    assert_true(d.st.delay_sum_us >= 50 * 80 * MS && d.st.delay_sum_us <= 50 * 140 * MS);
    dl_free(&d);
}

static void test_delayline_loss_rate_and_seed(void **state)
{
    (void)state;
    delayline a, b;
    dl_params p = {.delay_us = 0, .jitter_us = 0, .loss_ppm = 20000}; /* 2 % */
    assert_int_equal(dl_init(&a, &p, 16, 7), 0);
    assert_int_equal(dl_init(&b, &p, 16, 7), 0);
    uint32_t id;
    for (uint32_t i = 0; i < 100000; i++) {
        enum dl_verdict va = dl_offer(&a, i, i), vb = dl_offer(&b, i, i);
        assert_int_equal(va, vb); /* the same seed, the same losses */
        while (dl_pop_due(&a, i, &id))
            ;
        while (dl_pop_due(&b, i, &id))
            ;
    }
    assert_true(a.st.dropped > 1800 && a.st.dropped < 2200);
    assert_int_equal(a.st.overflow, 0);
    dl_free(&a);
    dl_free(&b);
}

static void test_delayline_bounded(void **state)
{
    (void)state;
    delayline d;
    dl_params p = {.delay_us = 1 * S, .jitter_us = 5 * S /* clamped to the delay */};
    assert_int_equal(dl_init(&d, &p, 4, 1), 0);
    assert_int_equal(d.p.jitter_us, 1 * S);
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(dl_offer(&d, i, 0), DL_HELD);
    assert_int_equal(dl_offer(&d, 4, 0), DL_PASS); /* full: let it through, counted */
    assert_int_equal(d.st.overflow, 1);
    assert_int_equal(dl_held(&d), 4);
    uint32_t id;
    for (uint32_t i = 0; i < 4; i++) {
        assert_true(dl_pop_any(&d, &id)); /* shutdown releases everything in order */
        assert_int_equal(id, i);
    }
    assert_false(dl_pop_any(&d, &id));
    assert_int_equal(dl_next_due(&d), INT64_MAX);
    dl_free(&d);
    assert_int_equal(dl_init(&d, &p, 0, 1), -1);
}

/* ---- profiles --------------------------------------------------------------------------------- */

static int load(const char *text, rural_profiles *ps, char *err)
{
    return rural_profiles_load_buffer("t.ini", text, strlen(text), ps, err, 256);
}

static void test_profiles_committed_file(void **state)
{
    (void)state;
    rural_profiles ps;
    char err[256];
    assert_int_equal(rural_profiles_load_file(g_profiles_path, &ps, err, sizeof err), BBT_OK);
    /* the four profiles of the issue, as it states them */
    const rural_profile *a = rural_profile_find(&ps, "adsl-1m");
    const rural_profile *v = rural_profile_find(&ps, "village-400k");
    const rural_profile *c = rural_profile_find(&ps, "cliff");
    const rural_profile *f = rural_profile_find(&ps, "flaky-3g");
    assert_non_null(a);
    assert_non_null(v);
    assert_non_null(c);
    assert_non_null(f);
    assert_int_equal(a->rate_kbit, 1000);
    assert_int_equal(a->rtt_ms, 40);
    assert_true(a->loss_pct == 0.5);
    assert_int_equal(v->rate_kbit, 400);
    assert_int_equal(v->rtt_ms, 120);
    assert_true(v->loss_pct == 1);
    assert_int_equal(rural_profile_rate_at(c, 0), 4000);
    assert_int_equal(rural_profile_rate_at(c, 19999), 4000);
    assert_int_equal(rural_profile_rate_at(c, 20000), 400);
    assert_int_equal(rural_profile_rate_at(c, 60000), 4000);
    assert_true(c->duration_ms >= 80000);
    assert_int_equal(f->rtt_ms, 150);
    assert_true(f->loss_pct == 2);
    for (int64_t t = 0; t < 80000; t += 10000) /* 2 Mbit/s and 300 kbit/s by turns, 10 s each */
        assert_int_equal(rural_profile_rate_at(f, t + 5000), (t / 10000) % 2 ? 300 : 2000);
    rural_profiles_free(&ps);
}

static void test_profiles_changes(void **state)
{
    (void)state;
    rural_profiles ps;
    char err[256];
    assert_int_equal(load("[x]\nrate = 2000\nsteps = 10s:300\nrepeat = 20s\n", &ps, err), BBT_OK);
    rural_step ch[16];
    int n = rural_profile_changes(&ps.p[0], 45000, ch, 16);
    assert_int_equal(n, 4);
    int64_t at[] = {10000, 20000, 30000, 40000}, kb[] = {300, 2000, 300, 2000};
    for (int i = 0; i < n; i++) {
        assert_int_equal(ch[i].at_ms, at[i]);
        assert_int_equal(ch[i].kbit, kb[i]);
    }
    assert_int_equal(rural_profile_changes(&ps.p[0], 45000, ch, 2), 2); /* bounded */
    rural_profiles_free(&ps);
    /* once; a step to the rate already in force is no change */
    assert_int_equal(load("[y]\nrate = 4000\nsteps = 5s:4000, 20s:400, 1m:4000\n", &ps, err),
                     BBT_OK);
    n = rural_profile_changes(&ps.p[0], 90000, ch, 16);
    assert_int_equal(n, 2);
    assert_int_equal(ch[0].at_ms, 20000);
    assert_int_equal(ch[1].at_ms, 60000);
    assert_int_equal(rural_profile_changes(&ps.p[0], 30000, ch, 16), 1); /* within the run */
    assert_int_equal(ps.p[0].buffer_ms, 300); /* defaults */
    assert_int_equal(ps.p[0].duration_ms, 60000);
    rural_profiles_free(&ps);
}

static void test_profiles_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"", "no [profile] section"},
        {"rate = 1\n", "outside any section"},
        {"[a]\nrtt = 40ms\n", "rate is required"},
        {"[a]\nrate = 400\nrate = 500\n", "set twice"},
        {"[a]\nrate = 400\nrt = 40ms\n", "did you mean \"rtt\""},
        {"[a]\nrate = 400\nrtt = 40 parsecs\n", "t.ini:3:"},
        {"[a]\nrate = 400\nloss = 60\n", "loss"},
        {"[a]\nrate = 400\nrtt = 10ms\njitter = 20ms\n", "jitter may not exceed rtt"},
        {"[a]\nrate = 400\nsteps = 20s:400, 10s:300\n", "increasing"},
        {"[a]\nrate = 400\nsteps = 20s\n", "TIME:KBIT"},
        {"[a]\nrate = 400\nsteps = 20s:4\n", "8..1000000"},
        {"[a]\nrate = 400\nsteps = 20x:400\n", "step 1: step time"},
        {"[a]\nrate = 400\nsteps = 10s:300\nrepeat = 10s\n", "below repeat"},
        {"[a]\nrate = 400\nrepeat = 10s\n", "repeat needs steps"},
        {"[a b]\nrate = 400\n", "invalid section name"},
        {"[a]\nrate = 400\n[b]\n", "[b] rate is required"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rural_profiles ps;
        char err[256];
        int rc = load(bad[i].text, &ps, err);
        if (rc == BBT_OK || !strstr(err, bad[i].msg))
            fail_msg("case %zu: rc %d, err \"%s\", expected \"%s\"", i, rc, err, bad[i].msg);
        assert_null(ps.p);
        assert_int_equal(ps.n, 0);
    }
    /* 32 profiles are fine, 33 are not */
    char big[8192];
    size_t o = 0;
    for (int i = 0; i < 33; i++)
        o += (size_t)snprintf(big + o, sizeof big - o, "[p%d]\nrate = 100\n", i);
    rural_profiles ps;
    char err[256];
    assert_int_equal(rural_profiles_load_buffer("t", big, o, &ps, err, sizeof err),
                     BBT_ECONFIG_FILE);
    o -= strlen("[p32]\nrate = 100\n");
    assert_int_equal(rural_profiles_load_buffer("t", big, o, &ps, err, sizeof err), BBT_OK);
    assert_int_equal(ps.n, 32);
    rural_profiles_free(&ps);
}

/* The fuzz seed corpus says what it is by name: valid_* load, bad_* are refused. */
static void test_profiles_seed_corpus(void **state)
{
    (void)state;
    if (!g_corpus_dir)
        skip();
    DIR *d = opendir(g_corpus_dir);
    assert_non_null(d);
    struct dirent *e;
    int seen = 0;
    while ((e = readdir(d))) {
        bool valid = strncmp(e->d_name, "valid_", 6) == 0, bad = strncmp(e->d_name, "bad_", 4) == 0;
        if (!valid && !bad)
            continue;
        char path[1024], err[256];
        snprintf(path, sizeof path, "%s/%s", g_corpus_dir, e->d_name);
        rural_profiles ps;
        int rc = rural_profiles_load_file(path, &ps, err, sizeof err);
        if ((rc == BBT_OK) != valid)
            fail_msg("%s: rc %d (%s)", e->d_name, rc, err);
        rural_profiles_free(&ps);
        seen++;
    }
    closedir(d);
    assert_true(seen >= 10);
}

/* ---- the viewer's figures ------------------------------------------------------------------ */

enum { T720 = 0, T360 = 1, T180 = 2, TA = 3 };

static const rs_layer layers[] = {{T720, 1200000, 720}, {T360, 550000, 360}, {T180, 120000, 180}};

static void init(rural_stats *s)
{
    assert_int_equal(rs_init(s, layers, 3, TA, 48000, 20 * MS, 100000), 0);
}

/* Audio every 20 ms and video at 25 fps on `track` over [from, to), starting video with a
 * keyframe; seq continues per track. */
static uint32_t seq[4];
static void feed(rural_stats *s, int64_t from, int64_t to, int track, int64_t lat)
{
    bool first = true;
    for (int64_t t = from; t < to; t += 20 * MS) {
        rs_frame(s, t, TA, seq[TA]++, 0, 100, lat);
        if (track >= 0 && (t - from) % (40 * MS) == 0) {
            rs_frame(s, t, (unsigned)track, seq[track]++, first ? BBT_FRAME_KEY : 0, 1000, lat);
            first = false;
        }
    }
}

static void test_stats_clean_run(void **state)
{
    (void)state;
    rural_stats s;
    rs_summary o;
    memset(seq, 0, sizeof seq);
    init(&s);
    rs_link(&s, 0, 1000);
    feed(&s, 100 * MS, 10 * S, T360, 150 * MS);
    rs_finish(&s, 10 * S, &o);
    assert_true(o.audio_gap_max_ms <= 20.01);
    assert_int_equal(o.audio_gaps_over_200ms, 0);
    assert_int_equal(o.audio_frames_lost, 0);
    assert_int_equal(o.player_underruns, 0);
    assert_int_equal(o.video_stalls, 0);
    assert_true(o.video_stall_ratio == 0);
    assert_true(o.latency_p50_ms == 150 && o.latency_p95_ms == 150 && o.latency_max_ms == 150);
    assert_true(o.share[T360] > 0.999);
    assert_true(o.first_picture_ms == 100);
    assert_int_equal(o.nwindows, 1);
    /* 50 audio × 100 B + 25 video × 1000 B per second = 240 kbit/s */
    assert_true(o.goodput_kbps > 235 && o.goodput_kbps < 245);
    rs_free(&s);
}

static void test_stats_gaps_stalls_and_player(void **state)
{
    (void)state;
    rural_stats s;
    rs_summary o;
    memset(seq, 0, sizeof seq);
    init(&s);
    feed(&s, 0, 5 * S, T360, 100 * MS);
    /* 700 ms with nothing at all, then audio resumes with 5 frames missing (dropped by the
     * relay), and video only from the next keyframe: the P frames in between do not count */
    seq[TA] += 5;
    rs_frame(&s, 5700 * MS, T360, seq[T360] + 3, 0, 1000, 100 * MS); /* after a gap: undecodable */
    feed(&s, 5700 * MS, 10 * S, T360, 100 * MS);
    rs_finish(&s, 10 * S, &o);
    assert_true(o.audio_gap_max_ms > 719 && o.audio_gap_max_ms < 721);
    assert_int_equal(o.audio_gaps_over_200ms, 1);
    assert_int_equal(o.audio_frames_lost, 5);
    assert_int_equal(o.video_undecodable, 1);
    assert_int_equal(o.video_stalls, 1);
    assert_true(o.video_stall_ms > 739 && o.video_stall_ms < 741); /* 4.96 s → 5.70 s */
    /* the player's buffer (≈ 120–180 ms) ran dry once and restarted after refilling */
    assert_int_equal(o.player_underruns, 1);
    assert_true(o.player_silence_ms > 500 && o.player_silence_ms < 900);
    assert_true(o.player_target_ms == 400); /* 700 ms of silence: grown to cover it, capped */
    rs_free(&s);
}

static void test_stats_short_hiccup_is_no_stall(void **state)
{
    (void)state;
    rural_stats s;
    rs_summary o;
    memset(seq, 0, sizeof seq);
    init(&s);
    feed(&s, 0, 3 * S, T180, 50 * MS);
    feed(&s, 3400 * MS, 6 * S, T180, 50 * MS); /* 440 ms: under the 500 ms of a stall */
    rs_finish(&s, 6 * S, &o);
    assert_int_equal(o.video_stalls, 0);
    assert_int_equal(o.audio_gaps_over_200ms, 1);
    assert_int_equal(o.player_underruns, 1); /* a 120 ms + start buffer does not cover 420 ms */
    rs_free(&s);
}

static void test_stats_layers_and_switch_times(void **state)
{
    (void)state;
    rural_stats s;
    rs_summary o;
    memset(seq, 0, sizeof seq);
    init(&s);
    rs_link(&s, 0, 4000);
    feed(&s, 0, 20 * S, T720, 50 * MS);
    rs_link(&s, 20 * S, 400); /* drop: 720p does not fit, 180p does */
    feed(&s, 20 * S, 21 * S, T720, 50 * MS);
    rs_state_layer(&s, 21 * S, T180);
    feed(&s, 21500 * MS, 60 * S, T180, 50 * MS);
    rs_link(&s, 60 * S, 4000); /* recovery: 720p fits again */
    feed(&s, 60 * S, 66 * S, T180, 50 * MS);
    feed(&s, 66 * S, 70 * S, T360, 50 * MS);
    feed(&s, 70 * S, 80 * S, T720, 50 * MS);
    rs_finish(&s, 80 * S, &o);
    assert_int_equal(s.nev, 2);
    assert_true(s.ev[0].drop);
    assert_int_equal(s.ev[0].after_us, 1500 * MS);
    assert_false(s.ev[1].drop);
    assert_int_equal(s.ev[1].target_track, T720);
    assert_int_equal(s.ev[1].after_us, 10 * S); /* 360p at 66 s is not yet back */
    assert_int_equal(o.video_stalls, 1);        /* 20.98 → 21.5 s with video expected */
    /* 720p until the first 180p picture (21.5 s) and from 70 s: 31.5 of 80 s */
    assert_true(o.share[T720] > 0.39 && o.share[T720] < 0.4);
    assert_true(o.share[T180] > 0.55 && o.share[T180] < 0.57);
    assert_true(o.share[T360] > 0.049 && o.share[T360] < 0.051);
    assert_int_equal(o.layer_changes, 3);
    assert_int_equal(o.nwindows, 8);
    rs_free(&s);
}

static void test_stats_audio_only_is_not_a_stall(void **state)
{
    (void)state;
    rural_stats s;
    rs_summary o;
    memset(seq, 0, sizeof seq);
    init(&s);
    rs_link(&s, 0, 400);
    feed(&s, 0, 2 * S, T360, 50 * MS);
    rs_link(&s, 2 * S, 40); /* nothing but audio fits */
    rs_state_layer(&s, 2100 * MS, -1);
    feed(&s, 2100 * MS, 2200 * MS, T360, 50 * MS); /* the old layer's last frames, after it */
    feed(&s, 2200 * MS, 8 * S, -1, 50 * MS);
    rs_finish(&s, 8 * S, &o);
    assert_int_equal(o.video_stalls, 0);
    assert_true(o.share_audio_only > 0.73 && o.share_audio_only < 0.74);
    assert_int_equal(s.ev[0].after_us, 100 * MS); /* audio only fits */
    rs_report r;
    rural_stats s2;
    init(&s2);
    feed(&s2, 0, 1 * S, T180, 80 * MS);
    rs_take_report(&s2, 1 * S, &r);
    assert_true(r.have_latency && r.p95_ms == 80);
    assert_int_equal(r.layer, T180);
    assert_true(r.audio_ok);
    assert_int_equal(r.frames_decoded, 25);
    rs_take_report(&s2, 2 * S, &r); /* a second without frames: no latency, audio ran dry */
    assert_false(r.have_latency);
    assert_false(r.audio_ok);
    assert_int_equal(r.audio_underruns, 1);
    assert_int_equal(r.stalls, 1); /* one going on */
    rs_free(&s2);
    rs_free(&s);
}

static void test_stats_missed_event_and_bounds(void **state)
{
    (void)state;
    rural_stats s;
    rs_summary o;
    memset(seq, 0, sizeof seq);
    assert_int_equal(rs_init(&s, layers, 3, TA, 48000, 20 * MS, 10), 0);
    rs_link(&s, 0, 2000);
    feed(&s, 0, 5 * S, T720, 50 * MS);
    rs_link(&s, 5 * S, 300);
    feed(&s, 5 * S, 10 * S, T720, 50 * MS); /* never went down */
    rs_link(&s, 10 * S, 2000);
    rs_finish(&s, 11 * S, &o);
    assert_int_equal(s.ev[0].after_us, -1);
    assert_int_equal(s.ev[1].after_us, 0); /* already on the best layer */
    assert_true(o.latency_dropped > 0);     /* 10 samples stored, the rest counted */
    rs_free(&s);
}

int main(int argc, char **argv)
{
    g_profiles_path = argc > 1 ? argv[1] : "tests/bench/rural-profiles.ini";
    g_corpus_dir = argc > 2 ? argv[2] : NULL;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delayline_holds_in_order),
        cmocka_unit_test(test_delayline_loss_rate_and_seed),
        cmocka_unit_test(test_delayline_bounded),
        cmocka_unit_test(test_profiles_committed_file),
        cmocka_unit_test(test_profiles_changes),
        cmocka_unit_test(test_profiles_errors),
        cmocka_unit_test(test_profiles_seed_corpus),
        cmocka_unit_test(test_stats_clean_run),
        cmocka_unit_test(test_stats_gaps_stalls_and_player),
        cmocka_unit_test(test_stats_short_hiccup_is_no_stall),
        cmocka_unit_test(test_stats_layers_and_switch_times),
        cmocka_unit_test(test_stats_audio_only_is_not_a_stall),
        cmocka_unit_test(test_stats_missed_event_and_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* tests/relay/test_pace.c — relay/pace.c: the viewers' write timer wheel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "relay/pace.h"
#include "support/failalloc.h"

#define G 2000 /* slot length used below, µs */

static void test_empty_and_bad_arguments(void **state)
{
    (void)state;
    assert_null(bbt_pace_new(0, 8));
    assert_null(bbt_pace_new(G, 0));
    failalloc_after(0);
    assert_null(bbt_pace_new(G, 8));
    failalloc_reset();
    bbt_pace *p = bbt_pace_new(G, 8);
    assert_non_null(p);
    assert_int_equal(bbt_pace_next_due(p), -1);
    assert_null(bbt_pace_pop(p, 1000000));
    assert_int_equal(bbt_pace_count(p), 0);
    bbt_pace_free(p);
    bbt_pace_free(NULL);
}

/* Due in the past or now: poppable at once, at the same `now` (a quiet relay adds no delay). */
static void test_due_now_pops_at_once(void **state)
{
    (void)state;
    bbt_pace *p = bbt_pace_new(G, 8);
    bbt_pace_node a = {0}, b = {0};
    bbt_pace_add(p, &a, 0, 1000123);
    bbt_pace_add(p, &b, 1000123, 1000123);
    assert_int_equal(bbt_pace_count(p), 2);
    assert_true(bbt_pace_next_due(p) <= 1000123);
    bbt_pace_node *x = bbt_pace_pop(p, 1000123), *y = bbt_pace_pop(p, 1000123);
    assert_true((x == &a && y == &b) || (x == &b && y == &a));
    assert_false(a.queued || b.queued);
    assert_null(bbt_pace_pop(p, 1000123));
    bbt_pace_free(p);
}

/* A node is never popped before its due time, and is popped within one slot after it. */
static void test_never_early_at_most_one_slot_late(void **state)
{
    (void)state;
    bbt_pace *p = bbt_pace_new(G, 64);
    bbt_pace_node n = {0};
    int64_t now = 5000000 + 777;
    for (int64_t wait = 1; wait < 100000; wait += 997) {
        int64_t due = bbt_pace_add(p, &n, now + wait, now);
        assert_true(due >= now + wait && due < now + wait + G);
        int64_t t = now;
        while (!bbt_pace_pop(p, t))
            t += 100;
        assert_true(t >= now + wait);
        assert_true(t < now + wait + G + 100);
        now = t;
    }
    bbt_pace_free(p);
}

/* Adding a queued node again keeps the earlier due time; remove takes it out. */
static void test_readd_keeps_earlier_and_remove(void **state)
{
    (void)state;
    bbt_pace *p = bbt_pace_new(G, 64);
    bbt_pace_node n = {0};
    assert_int_equal(bbt_pace_add(p, &n, 40000, 0), 40000);
    assert_int_equal(bbt_pace_add(p, &n, 90000, 0), 40000); /* later: ignored */
    assert_int_equal(bbt_pace_count(p), 1);
    assert_int_equal(bbt_pace_next_due(p), 40000);
    assert_int_equal(bbt_pace_add(p, &n, 10000, 0), 10000); /* earlier: moves */
    assert_int_equal(bbt_pace_count(p), 1);
    assert_int_equal(bbt_pace_next_due(p), 10000);
    assert_null(bbt_pace_pop(p, 9999));
    bbt_pace_remove(p, &n);
    bbt_pace_remove(p, &n); /* not queued: nothing */
    assert_int_equal(bbt_pace_count(p), 0);
    assert_null(bbt_pace_pop(p, 1000000));
    bbt_pace_free(p);
}

/* Beyond the horizon: clamped to it (early rather than lost). */
static void test_horizon_clamp(void **state)
{
    (void)state;
    bbt_pace *p = bbt_pace_new(G, 8); /* horizon: 7 slots = 14 ms */
    bbt_pace_node n = {0};
    assert_int_equal(bbt_pace_add(p, &n, 1000000, 0), 7 * G);
    assert_int_equal(bbt_pace_next_due(p), 7 * G);
    assert_ptr_equal(bbt_pace_pop(p, 7 * G), &n);
    bbt_pace_free(p);
}

/* Many nodes over many turns of the wheel against a plain list: each pops once, never early,
 * at most a slot late, and the wheel ends empty. */
static void test_many_nodes_many_turns(void **state)
{
    (void)state;
    enum { N = 500 };
    bbt_pace *p = bbt_pace_new(G, 32);
    bbt_pace_node nodes[N];
    int64_t due[N];
    memset(nodes, 0, sizeof nodes);
    srand(7);
    int64_t now = 123456;
    for (int round = 0; round < 40; round++) {
        for (int i = 0; i < N; i++) {
            if (nodes[i].queued)
                continue;
            due[i] = now + rand() % 60000;
            bbt_pace_add(p, &nodes[i], due[i], now);
        }
        int64_t until = now + 30000;
        for (; now < until; now += 500) {
            bbt_pace_node *x;
            while ((x = bbt_pace_pop(p, now))) {
                long i = x - nodes;
                assert_true(i >= 0 && i < N);
                assert_false(x->queued);
                assert_true(now >= due[i]);
                assert_true(now < due[i] + G + 500);
            }
        }
    }
    for (; bbt_pace_count(p); now += 500)
        while (bbt_pace_pop(p, now))
            ;
    for (int i = 0; i < N; i++)
        assert_false(nodes[i].queued);
    bbt_pace_free(p);
}

/* A relay that has fallen behind: every node is overdue, so all go to the current slot, and a
 * node written and added again (overdue still) must queue behind those that waited — a LIFO
 * slot let it overtake them, and at 4,000 viewers with bounded pacing runs some viewers were
 * never written and lost their frames. Removal from the middle and the end keeps the order. */
static void test_overdue_first_come_first_popped(void **state)
{
    (void)state;
    enum { N = 6 };
    bbt_pace *p = bbt_pace_new(G, 8);
    bbt_pace_node n[N];
    memset(n, 0, sizeof n);
    int64_t now = 50000;
    for (int i = 0; i < N; i++)
        bbt_pace_add(p, &n[i], now - 1000, now);
    bbt_pace_remove(p, &n[2]);
    bbt_pace_remove(p, &n[5]); /* the tail */
    assert_ptr_equal(bbt_pace_pop(p, now), &n[0]);
    bbt_pace_add(p, &n[0], now - 1, now); /* written, due again at once: behind the others */
    bbt_pace_add(p, &n[5], now - 1, now);
    const int order[] = {1, 3, 4, 0, 5};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        assert_ptr_equal(bbt_pace_pop(p, now), &n[order[i]]);
    assert_null(bbt_pace_pop(p, now));
    assert_int_equal(bbt_pace_count(p), 0);
    bbt_pace_add(p, &n[1], now, now); /* the emptied slot takes nodes again */
    assert_ptr_equal(bbt_pace_pop(p, now), &n[1]);
    bbt_pace_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_and_bad_arguments),
        cmocka_unit_test(test_due_now_pops_at_once),
        cmocka_unit_test(test_never_early_at_most_one_slot_late),
        cmocka_unit_test(test_readd_keeps_earlier_and_remove),
        cmocka_unit_test(test_horizon_clamp),
        cmocka_unit_test(test_many_nodes_many_turns),
        cmocka_unit_test(test_overdue_first_come_first_popped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* tests/relay/test_peers.c — relay/peers.c: open connections per peer address. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "proto/status.h"
#include "relay/peers.h"
#include "support/failalloc.h"

/* Counts go up and down per address; an address leaves with its last connection; removing an
 * address that has none changes nothing. */
static void test_count_per_address(void **state)
{
    (void)state;
    bbt_peers p = {0};
    assert_int_equal(bbt_peers_count(&p, "10.0.0.1"), 0);
    bbt_peers_remove(&p, "10.0.0.1"); /* none: nothing */
    assert_int_equal(bbt_peers_add(&p, "10.0.0.1"), BBT_OK);
    assert_int_equal(bbt_peers_add(&p, "10.0.0.1"), BBT_OK);
    assert_int_equal(bbt_peers_add(&p, "::ffff:10.0.0.2"), BBT_OK);
    assert_int_equal(bbt_peers_count(&p, "10.0.0.1"), 2);
    assert_int_equal(bbt_peers_count(&p, "::ffff:10.0.0.2"), 1);
    assert_int_equal(bbt_peers_count(&p, "10.0.0.11"), 0); /* no prefix match */
    assert_int_equal(bbt_peers_count(&p, "10.0.0."), 0);
    assert_int_equal(bbt_peers_size(&p), 2);
    bbt_peers_remove(&p, "10.0.0.1");
    assert_int_equal(bbt_peers_count(&p, "10.0.0.1"), 1);
    bbt_peers_remove(&p, "10.0.0.1");
    assert_int_equal(bbt_peers_count(&p, "10.0.0.1"), 0);
    assert_int_equal(bbt_peers_size(&p), 1); /* gone with its last connection */
    assert_int_equal(bbt_peers_count(&p, "::ffff:10.0.0.2"), 1);
    bbt_peers_remove(&p, "10.0.0.1");
    assert_int_equal(bbt_peers_size(&p), 1);
    bbt_peers_free(&p);
    assert_int_equal(bbt_peers_size(&p), 0);
    bbt_peers_free(&p); /* twice: the table is empty, nothing to free */
    bbt_peers_free(NULL);
}

/* Many addresses: the array grows past its first 64 and every count stays right, also after
 * the removals that move the last entry into a freed slot. */
static void test_many_addresses(void **state)
{
    (void)state;
    bbt_peers p = {0};
    char a[32];
    for (int i = 0; i < 300; i++) {
        snprintf(a, sizeof a, "10.1.%d.%d", i / 256, i % 256);
        for (int k = 0; k <= i % 3; k++)
            assert_int_equal(bbt_peers_add(&p, a), BBT_OK);
    }
    assert_int_equal(bbt_peers_size(&p), 300);
    for (int i = 0; i < 300; i += 2) { /* every even one loses all its connections */
        snprintf(a, sizeof a, "10.1.%d.%d", i / 256, i % 256);
        for (int k = 0; k <= i % 3; k++)
            bbt_peers_remove(&p, a);
    }
    assert_int_equal(bbt_peers_size(&p), 150);
    for (int i = 0; i < 300; i++) {
        snprintf(a, sizeof a, "10.1.%d.%d", i / 256, i % 256);
        assert_int_equal(bbt_peers_count(&p, a), i % 2 ? (unsigned)(i % 3 + 1) : 0u);
    }
    bbt_peers_free(&p);
}

/* Out of memory when the array must grow: BBT_ENOMEM and the table as it was; an address
 * already there still counts up (no allocation needed). */
static void test_out_of_memory(void **state)
{
    (void)state;
    bbt_peers p = {0};
    failalloc_after(0);
    assert_int_equal(bbt_peers_add(&p, "10.0.0.1"), BBT_ENOMEM);
    failalloc_reset();
    assert_int_equal(bbt_peers_size(&p), 0);
    char a[32];
    for (int i = 0; i < 64; i++) {
        snprintf(a, sizeof a, "10.2.0.%d", i);
        assert_int_equal(bbt_peers_add(&p, a), BBT_OK);
    }
    failalloc_after(0);
    assert_int_equal(bbt_peers_add(&p, "10.3.0.1"), BBT_ENOMEM); /* the 65th: growth fails */
    assert_int_equal(bbt_peers_size(&p), 64);
    assert_int_equal(bbt_peers_count(&p, "10.3.0.1"), 0);
    assert_int_equal(bbt_peers_add(&p, "10.2.0.5"), BBT_OK); /* known: no allocation */
    failalloc_reset();
    assert_int_equal(bbt_peers_count(&p, "10.2.0.5"), 2);
    assert_int_equal(bbt_peers_add(&p, "10.3.0.1"), BBT_OK);
    assert_int_equal(bbt_peers_size(&p), 65);
    bbt_peers_free(&p);
}

/* An address longer than the slot is kept cut, and found again by the same long text. */
static void test_long_address(void **state)
{
    (void)state;
    bbt_peers p = {0};
    char a[100];
    memset(a, 'f', sizeof a - 1);
    a[sizeof a - 1] = '\0';
    assert_int_equal(bbt_peers_add(&p, a), BBT_OK);
    assert_int_equal(bbt_peers_add(&p, a), BBT_OK);
    assert_int_equal(bbt_peers_size(&p), 1);
    assert_int_equal(bbt_peers_count(&p, a), 2);
    bbt_peers_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count_per_address),
        cmocka_unit_test(test_many_addresses),
        cmocka_unit_test(test_out_of_memory),
        cmocka_unit_test(test_long_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

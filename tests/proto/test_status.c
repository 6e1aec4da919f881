/* tests/proto/test_status.c — proto/status.c: every code has a distinct name and text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/status.h"

static void test_every_code_named(void **state)
{
    (void)state;
    int named = 0;
    for (int c = 0; c >= -127; c--) {
        const char *n = bbt_status_name(c);
        if (strcmp(n, "BBT_E?") == 0) {
            assert_string_equal(bbt_strerror(c), "unknown status");
            continue;
        }
        named++;
        assert_true(strncmp(n, "BBT_", 4) == 0);
        assert_string_not_equal(bbt_strerror(c), "unknown status");
        for (int d = c - 1; d >= -127; d--)
            assert_string_not_equal(n, bbt_status_name(d));
    }
    assert_true(named >= 28);
    assert_string_equal(bbt_status_name(BBT_EFRAME_SHORT), "BBT_EFRAME_SHORT");
    assert_string_equal(bbt_status_name(1), "BBT_E?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_every_code_named)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

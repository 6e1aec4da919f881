/* tests/proto/test_strbuf.c — proto/strbuf.c: growth, printf, sticky failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/strbuf.h"
#include "support/failalloc.h"

static void test_append_and_printf(void **state)
{
    (void)state;
    bbt_strbuf b = BBT_STRBUF_INIT;
    bbt_strbuf_puts(&b, "a");
    bbt_strbuf_printf(&b, "%d-%s", 42, "x");
    char big[1000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = 0;
    bbt_strbuf_printf(&b, "%s", big); /* longer than the small stack buffer */
    assert_true(bbt_strbuf_ok(&b));
    size_t len;
    char *s = bbt_strbuf_take(&b, &len);
    assert_int_equal(len, 5 + 999);
    assert_memory_equal(s, "a42-xzz", 7);
    assert_int_equal(strlen(s), len);
    free(s);
    assert_null(b.data);
    s = bbt_strbuf_take(&b, NULL); /* empty buffer gives an empty string */
    assert_string_equal(s, "");
    free(s);
}

static void test_sticky_failure(void **state)
{
    (void)state;
    bbt_strbuf b = BBT_STRBUF_INIT;
    failalloc_after(0);
    bbt_strbuf_puts(&b, "hello");
    failalloc_reset();
    assert_false(bbt_strbuf_ok(&b));
    bbt_strbuf_puts(&b, "more"); /* no-op after a failure */
    assert_null(bbt_strbuf_take(&b, NULL));
    assert_true(bbt_strbuf_ok(&b)); /* take resets */
    bbt_strbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_printf),
        cmocka_unit_test(test_sticky_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* tests/node/test_plan.c — node/plan.c's pure part: the cached plan on disk (atomic write,
 * refused files) and which lesson is due by the plan alone (source with its lead time,
 * receiver, cancelled lessons, the `next` lesson). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "node/plan.h"
#include "proto/status.h"

#define T10 1740967200000000LL /* 2025-03-03 10:00 +08:00 */
#define MIN 60000000LL

static const char plan_text[] =
    "{\"type\":\"plan\",\"classroom\":\"hz-301\",\"date\":\"2025-03-03\",\"lead_ms\":120000,"
    "\"sessions\":["
    "{\"session\":\"2025-03-03.music\",\"start\":\"10:00\",\"end\":\"10:40\",\"start_us\":1740967200000000,"
    "\"end_us\":1740969600000000,\"role\":\"source\",\"state\":\"upcoming\"},"
    "{\"session\":\"2025-03-03.art\",\"start\":\"11:00\",\"end\":\"11:40\",\"start_us\":1740970800000000,"
    "\"end_us\":1740973200000000,\"role\":\"source\",\"state\":\"cancelled\"},"
    "{\"session\":\"2025-03-03.maths\",\"start\":\"14:00\",\"end\":\"14:40\",\"start_us\":1740981600000000,"
    "\"end_us\":1740984000000000,\"role\":\"receiver\",\"state\":\"upcoming\"}],"
    "\"next\":{\"date\":\"2025-03-04\",\"session\":\"2025-03-04.music\",\"start\":\"10:00\","
    "\"end\":\"10:40\",\"start_us\":1741053600000000,\"end_us\":1741056000000000,"
    "\"role\":\"source\",\"state\":\"upcoming\"}}";

static void test_due(void **state)
{
    (void)state;
    json_t *p = json_loads(plan_text, 0, NULL);
    assert_non_null(p);
    char s[65];
    assert_false(bbt_plan_due(p, "source", T10 - 2 * MIN - 1, s, sizeof s));
    assert_true(bbt_plan_due(p, "source", T10 - 2 * MIN, s, sizeof s)); /* the lead time */
    assert_string_equal(s, "2025-03-03.music");
    assert_true(bbt_plan_due(p, "source", T10 + 39 * MIN, s, sizeof s));
    assert_false(bbt_plan_due(p, "source", T10 + 40 * MIN, s, sizeof s)); /* over */
    assert_false(bbt_plan_due(p, "source", T10 + 65 * MIN, s, sizeof s)); /* cancelled */
    assert_false(bbt_plan_due(p, "receiver", T10 + 4 * 60 * MIN - 1, s, sizeof s));
    assert_true(bbt_plan_due(p, "receiver", T10 + 4 * 60 * MIN, s, sizeof s)); /* no lead */
    assert_string_equal(s, "2025-03-03.maths");
    assert_false(bbt_plan_due(p, "source", T10 + 4 * 60 * MIN, s, sizeof s)); /* not its role */
    assert_true(bbt_plan_due(p, "source", T10 + 24 * 60 * MIN - MIN, s, sizeof s)); /* next */
    assert_string_equal(s, "2025-03-04.music");
    json_decref(p);
}

static void test_cache(void **state)
{
    (void)state;
    char dir[] = "/tmp/bbt-plan-XXXXXX", path[64], tmp[80];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/%s", dir, BBT_PLAN_FILE);
    json_t *p = json_loads(plan_text, 0, NULL), *q;
    assert_int_equal(bbt_plan_load(path, &q), BBT_ENOTFOUND);
    assert_int_equal(bbt_plan_save(path, p), BBT_OK);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_equal(access(tmp, F_OK), -1); /* renamed into place */
    assert_int_equal(bbt_plan_load(path, &q), BBT_OK);
    assert_true(json_equal(p, q));
    json_decref(q);
    FILE *f = fopen(path, "w");
    fputs("{\"type\":\"bye\"}", f);
    fclose(f);
    assert_int_equal(bbt_plan_load(path, &q), BBT_EMSG_TYPE);
    assert_null(q);
    f = fopen(path, "w");
    fputs("{\"type\":\"plan\",\"classroom\":\"a b\"", f);
    fclose(f);
    assert_int_equal(bbt_plan_load(path, &q), BBT_EMSG_JSON);
    unlink(path);
    rmdir(dir);
    json_decref(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_due), cmocka_unit_test(test_cache)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* tests/proto/test_token.c — proto/token.c: HS256 JWT issue and strict verification, held to an
 * independently computed vector (Python's hmac/base64 produced VECTOR below). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "proto/status.h"
#include "proto/token.h"

static const uint8_t secret[] = "0123456789abcdef0123456789abcdef"; /* 32 bytes + NUL */
#define SECRET_LEN 32

/* {"sub":"cls-7","role":"receiver","exp":1900000000,"iat":1700000000,"jti":"abc123"} */
static const char VECTOR[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiJjbHMtNyIsInJvbGUiOiJyZWNlaXZlciIsImV4cCI6MTkwMDAwMDAwMCwiaWF0IjoxNzAwMDAwMDAwLCJq"
    "dGkiOiJhYmMxMjMifQ.ILw22aI0qWJ0TmixzwGc0bHsvAB8oBSRW7Eqzg8X9bw";
#define PAYLOAD                                                                                  \
    "eyJzdWIiOiJjbHMtNyIsInJvbGUiOiJyZWNlaXZlciIsImV4cCI6MTkwMDAwMDAwMCwiaWF0IjoxNzAwMDAwMDAwLCJq" \
    "dGkiOiJhYmMxMjMifQ"

static int verify(const char *tok, int64_t now, bbt_token_claims *c, char *err)
{
    return bbt_token_verify(tok, strlen(tok), secret, SECRET_LEN, now, 30, c, err, 128);
}

static void test_independent_vector(void **state)
{
    (void)state;
    bbt_token_claims c;
    char err[128];
    assert_int_equal(verify(VECTOR, 1800000000, &c, err), BBT_OK);
    assert_string_equal(c.sub, "cls-7");
    assert_string_equal(c.role, "receiver");
    assert_true(c.exp == 1900000000);
    assert_true(c.iat == 1700000000);
    assert_string_equal(c.jti, "abc123");
}

static void test_issue_round_trip(void **state)
{
    (void)state;
    bbt_token_claims in = {.sub = "county-it", .role = "operator", .exp = 2000000000,
                           .iat = 1700000000};
    int err;
    char *tok = bbt_token_issue(&in, secret, SECRET_LEN, &err);
    assert_non_null(tok);
    assert_int_equal(err, BBT_OK);
    bbt_token_claims out;
    char why[128];
    assert_int_equal(verify(tok, 1700000001, &out, why), BBT_OK);
    assert_string_equal(out.sub, "county-it");
    assert_string_equal(out.role, "operator");
    assert_int_equal(strlen(out.jti), 16); /* a random id was filled in */
    /* the same claims with the vector's jti give exactly the vector */
    bbt_token_claims v = {.sub = "cls-7", .role = "receiver", .exp = 1900000000,
                          .iat = 1700000000, .jti = "abc123"};
    char *t2 = bbt_token_issue(&v, secret, SECRET_LEN, &err);
    free(tok);
    assert_non_null(t2);
    /* our payload orders keys (JSON_SORT_KEYS), so compare by verifying, not by bytes */
    assert_int_equal(verify(t2, 1800000000, &out, why), BBT_OK);
    assert_string_equal(out.jti, "abc123");
    free(t2);
}

static void expect(const char *tok, int want, const char *why)
{
    bbt_token_claims c;
    memset(&c, 0x5a, sizeof c);
    bbt_token_claims before = c;
    char err[128] = "";
    assert_int_equal(verify(tok, 1800000000, &c, err), want);
    assert_string_equal(err, why);
    assert_memory_equal(&c, &before, sizeof c); /* nothing filled on failure */
    assert_null(strstr(err, "eyJ"));             /* never echoes the token */
}

static void test_rejections(void **state)
{
    (void)state;
    char t[1024];
    /* alg none with an empty signature, and HS512 */
    expect("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." PAYLOAD ".", BBT_ETOKEN,
           "token header is not HS256 JWT");
    expect("eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9." PAYLOAD
           ".ciHY2QJkBN46hJdtCwVptUYeuyZT6MDrKP0aa9w3pMU",
           BBT_ETOKEN, "token header is not HS256 JWT");
    /* a flipped signature bit, and a signature from another secret */
    snprintf(t, sizeof t, "%s", VECTOR);
    t[strlen(t) - 2] = t[strlen(t) - 2] == 'A' ? 'B' : 'A';
    expect(t, BBT_ETOKEN_SIG, "token signature does not match");
    /* a changed payload keeps its old signature */
    snprintf(t, sizeof t, "%s", VECTOR);
    char *p = strchr(t, '.') + 5;
    *p = *p == 'A' ? 'B' : 'A';
    expect(t, BBT_ETOKEN_SIG, "token signature does not match");
    expect("abc", BBT_ETOKEN, "token is not three dot-separated parts");
    expect("a.b.c.d", BBT_ETOKEN, "token is not three dot-separated parts");
    expect("", BBT_ETOKEN, "token empty or too long");
    snprintf(t, sizeof t, "%s", VECTOR);
    strcat(t, "!");
    expect(t, BBT_ETOKEN, "token signature malformed");
}

static void test_expiry_with_leeway(void **state)
{
    (void)state;
    bbt_token_claims c;
    char err[128];
    assert_int_equal(verify(VECTOR, 1900000030, &c, err), BBT_OK); /* within 30 s leeway */
    assert_int_equal(verify(VECTOR, 1900000031, &c, err), BBT_ETOKEN_EXPIRED);
    assert_string_equal(err, "token expired");
}

static void test_bad_claims_are_refused_at_issue(void **state)
{
    (void)state;
    int err;
    bbt_token_claims bad_role = {.sub = "a", .role = "admin", .exp = 1};
    assert_null(bbt_token_issue(&bad_role, secret, SECRET_LEN, &err));
    assert_int_equal(err, BBT_EINVAL);
    bbt_token_claims bad_sub = {.sub = "a b", .role = "source", .exp = 1};
    assert_null(bbt_token_issue(&bad_sub, secret, SECRET_LEN, &err));
    bbt_token_claims bad_jti = {.sub = "a", .role = "source", .exp = 1, .jti = "x.y"};
    assert_null(bbt_token_issue(&bad_jti, secret, SECRET_LEN, &err));
    bbt_token_claims ok = {.sub = "a", .role = "source", .exp = 1};
    assert_null(bbt_token_issue(&ok, secret, SECRET_LEN - 1, &err)); /* short secret */
    assert_int_equal(err, BBT_EINVAL);
    bbt_token_claims c;
    assert_int_equal(bbt_token_verify(VECTOR, strlen(VECTOR), secret, 8, 0, 0, &c, NULL, 0),
                     BBT_EINVAL);
}

/* A token over `payload` with a correct HS256 signature (as someone holding the secret, or a
 * buggy issuer, could make), so that only the claims checks can refuse it. */
static void sign(const char *payload, char *tok, size_t cap)
{
    (void)cap;
    const char *hdr = "{\"alg\":\"HS256\"}";
    size_t n = bbt_b64url_encode((const uint8_t *)hdr, strlen(hdr), tok);
    tok[n++] = '.';
    n += bbt_b64url_encode((const uint8_t *)payload, strlen(payload), tok + n);
    unsigned char m[32];
    unsigned int mlen;
    HMAC(EVP_sha256(), secret, SECRET_LEN, (const unsigned char *)tok, n, m, &mlen);
    tok[n++] = '.';
    bbt_b64url_encode(m, sizeof m, tok + n);
}

static void test_signed_but_invalid_claims(void **state)
{
    (void)state;
    const char *payloads[] = {
        "{\"sub\":\"a b\",\"role\":\"source\",\"exp\":1900000000,\"jti\":\"x\"}",
        "{\"sub\":\"a\",\"role\":\"root\",\"exp\":1900000000,\"jti\":\"x\"}",
        "{\"sub\":\"a\",\"role\":\"source\",\"jti\":\"x\"}",
        "{\"sub\":\"a\",\"role\":\"source\",\"exp\":\"soon\",\"jti\":\"x\"}",
        "{\"sub\":\"a\",\"role\":\"source\",\"exp\":1900000000,\"jti\":\"x/y\"}",
        "{\"sub\":\"a\",\"sub\":\"b\",\"role\":\"source\",\"exp\":1900000000,\"jti\":\"x\"}",
        "[1,2,3]",
    };
    for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
        char tok[1024];
        sign(payloads[i], tok, sizeof tok);
        expect(tok, BBT_ETOKEN, "token claims invalid");
    }
    char ok[1024]; /* the same signing gives a valid token for valid claims */
    sign("{\"sub\":\"a\",\"role\":\"source\",\"exp\":1900000000,\"jti\":\"x\"}", ok,
         sizeof ok);
    bbt_token_claims c;
    char err[128];
    assert_int_equal(verify(ok, 1800000000, &c, err), BBT_OK);
}

static void test_base64url(void **state)
{
    (void)state;
    char out[16];
    uint8_t back[16];
    assert_int_equal(bbt_b64url_encode((const uint8_t *)"\xfb\xff", 2, out), 3);
    assert_string_equal(out, "-_8");
    assert_int_equal(bbt_b64url_decode("-_8", 3, back, sizeof back), 2);
    assert_memory_equal(back, "\xfb\xff", 2);
    assert_int_equal(bbt_b64url_decode("-_9", 3, back, sizeof back), -1); /* non-canonical */
    assert_int_equal(bbt_b64url_decode("a", 1, back, sizeof back), -1);
    assert_int_equal(bbt_b64url_decode("ab=c", 4, back, sizeof back), -1);
    assert_int_equal(bbt_b64url_decode("AAAA", 4, back, 2), -1); /* no room */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_independent_vector),
        cmocka_unit_test(test_issue_round_trip),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_expiry_with_leeway),
        cmocka_unit_test(test_bad_claims_are_refused_at_issue),
        cmocka_unit_test(test_signed_but_invalid_claims),
        cmocka_unit_test(test_base64url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

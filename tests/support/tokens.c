/* tests/support/tokens.c — real credentials for integration tests (see tokens.h). */
#include "support/tokens.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto/token.h"

int test_secret_write(const char *path, unsigned seed, uint8_t secret[TEST_SECRET_BYTES])
{
    char text[2 * TEST_SECRET_BYTES + 2];
    for (int i = 0; i < TEST_SECRET_BYTES; i++) {
        secret[i] = (uint8_t)((seed * 131u + (unsigned)i * 29u + 7u) & 0xff);
        snprintf(text + 2 * i, 3, "%02x", secret[i]);
    }
    text[2 * TEST_SECRET_BYTES] = '\n';
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, sizeof text - 1);
    close(fd);
    return n == (ssize_t)(sizeof text - 1) ? 0 : -1;
}

char *test_token(const uint8_t *secret, const char *sub, const char *role, long exp_in_s,
                 const char *jti)
{
    bbt_token_claims c;
    memset(&c, 0, sizeof c);
    snprintf(c.sub, sizeof c.sub, "%s", sub);
    snprintf(c.role, sizeof c.role, "%s", role);
    c.iat = (int64_t)time(NULL);
    c.exp = c.iat + exp_in_s;
    if (jti)
        snprintf(c.jti, sizeof c.jti, "%s", jti);
    int err;
    return bbt_token_issue(&c, secret, TEST_SECRET_BYTES, &err);
}

int tc_hello_token(tc_conn *c, const char *token, const char *role, const char *classroom)
{
    json_t *m = json_pack("{s:s, s:s}", "type", "hello", "role", role);
    if (!m)
        return -1;
    if (token)
        json_object_set_new(m, "token", json_string(token));
    if (classroom)
        json_object_set_new(m, "classroom", json_string(classroom));
    char *text = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    int rc = text ? tc_send_text(c, text) : -1;
    free(text);
    if (rc != 0)
        return -1;
    json_t *w = tc_recv_type(c, "welcome", 3000);
    if (w) {
        json_decref(w);
        return 0;
    }
    return tc_wait_closed(c, 3000);
}

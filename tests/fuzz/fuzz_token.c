/* tests/fuzz/fuzz_token.c — token verification on arbitrary bytes with a fixed secret: never a
 * crash; anything accepted must carry valid claims and re-issue to a token that verifies. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/status.h"
#include "proto/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t secret[] = "fuzz-secret-fuzz-secret-fuzz-sec";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bbt_token_claims c;
    char err[128];
    int rc = bbt_token_verify((const char *)data, size, secret, 32, 0, 0, &c, err, sizeof err);
    if (rc != BBT_OK)
        return 0;
    int e;
    char *again = bbt_token_issue(&c, secret, 32, &e);
    if (!again)
        abort(); /* accepted claims must be issuable */
    bbt_token_claims c2;
    if (bbt_token_verify(again, strlen(again), secret, 32, 0, 0, &c2, err, sizeof err) != BBT_OK ||
        strcmp(c.sub, c2.sub) != 0 || strcmp(c.jti, c2.jti) != 0)
        abort();
    free(again);
    return 0;
}

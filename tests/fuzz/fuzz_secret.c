/* tests/fuzz/fuzz_secret.c — the relay's secret file reader (relay/auth.c,
 * bbt_auth_secret_load) on arbitrary file contents: never a crash; accepted only for exactly 64
 * hexadecimal characters with an optional final newline, and then the bytes are those digits. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/status.h"
#include "relay/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hexval(uint8_t ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                                           : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/bbt-fuzz-secret-%ld", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    if (chmod(path, 0600) != 0) /* the reader refuses group/other permissions */
        abort();
    uint8_t s[BBT_AUTH_SECRET_BYTES];
    char err[512];
    int rc = bbt_auth_secret_load(path, false, s, err, sizeof err);
    unlink(path);
    size_t n = size == 65 && data[64] == '\n' ? 64 : size;
    bool good = n == 64;
    for (size_t i = 0; good && i < 64; i++)
        good = hexval(data[i]) >= 0;
    if ((rc == BBT_OK) != good)
        abort();
    for (size_t i = 0; rc == BBT_OK && i < BBT_AUTH_SECRET_BYTES; i++)
        if (s[i] != (uint8_t)(hexval(data[2 * i]) << 4 | hexval(data[2 * i + 1])))
            abort();
    return 0;
}

/* tests/fuzz/fuzz_reasm.c — fragment reassembly (proto/reasm.c) on arbitrary message sequences.
 *
 * Input: one byte of settings (bit 0: lengths only; bits 1-7: the payload limit in units of 64
 * bytes, 0 = the protocol's), then records of a 2-byte big-endian length and that many bytes,
 * each decoded with bbt_frame_decode() and, when valid, pushed. Whatever comes out must be a
 * whole frame within the limit, without PART, on the pushed message's track and seq, ending
 * with the pushed message's payload when it was assembled. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/frame.h"
#include "proto/reasm.h"
#include "proto/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const bbt_frame *in, const bbt_frame *out, size_t max, bool keep)
{
    if ((out->flags & BBT_FRAME_PART) || out->track != in->track || out->seq != in->seq)
        abort();
    if (out->len < in->len)
        abort();
    if (keep && out->payload == in->payload) { /* handed back as it came */
        if (out->len != in->len)
            abort();
        return;
    }
    if (out->len > max && out->len != in->len)
        abort();
    if (!keep && out->payload)
        abort();
    if (keep && (!out->payload || memcmp(out->payload + out->len - in->len, in->payload,
                                         in->len) != 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool keep = !(data[0] & 1);
    size_t max = (size_t)(data[0] >> 1) * 64;
    bbt_reasm *r = bbt_reasm_new(max, keep);
    if (!r)
        return 0;
    if (max == 0)
        max = BBT_FRAME_MAX_PAYLOAD;
    uint64_t drops = 0;
    for (size_t pos = 1; pos + 2 <= size;) {
        size_t len = (size_t)data[pos] << 8 | data[pos + 1];
        pos += 2;
        if (len > size - pos)
            len = size - pos;
        bbt_frame in, out;
        bbt_reasm_drop d = {.why = BBT_REASM_NONE};
        int rc = 0;
        if (bbt_frame_decode(data + pos, len, 0, &in) == BBT_OK) {
            if (!keep)
                in.payload = NULL;
            rc = bbt_reasm_push(r, &in, &out, &d);
        }
        pos += len;
        if (rc == 1)
            check(&in, &out, max, keep);
        else if (rc != 0 && rc != BBT_ENOMEM)
            abort();
        drops += d.why != BBT_REASM_NONE;
        if (bbt_reasm_errors(r) < drops)
            abort();
    }
    bbt_reasm_free(r);
    return 0;
}

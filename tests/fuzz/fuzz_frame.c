/* tests/fuzz/fuzz_frame.c — the media frame decoder on arbitrary bytes. Whatever decodes must
 * re-encode to the same header (the codec is a bijection on valid frames); padding (§2.6) and
 * frames never overlap: what bbt_frame_is_padding() takes, the decoder refuses (too short, or
 * version 0). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/frame.h"
#include "proto/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bbt_frame f;
    size_t max = size > 0 ? (size_t)data[0] * 64 : 0; /* exercise receiver-side limits too */
    int rc = bbt_frame_decode(data, size, max, &f);
    if (bbt_frame_is_padding(data, size) && rc != BBT_EFRAME_VERSION && rc != BBT_EFRAME_SHORT)
        abort();
    if (rc != BBT_OK)
        return 0;
    uint8_t hdr[BBT_FRAME_HEADER_LEN];
    if (bbt_frame_encode_header(&f, hdr) != BBT_OK || memcmp(hdr, data, sizeof hdr) != 0)
        abort();
    if (f.payload != data + BBT_FRAME_HEADER_LEN || f.len != size - BBT_FRAME_HEADER_LEN)
        abort();
    return 0;
}

/* node/h264.c — NAL walking, frame flags and codec strings (see h264.h). */
#include "node/h264.h"

#include <stdio.h>
#include <string.h>

#include "proto/frame.h"
#include "proto/status.h"

/* Offset of the first byte after the next start code at or after `from`, or len if none. */
static size_t next_nal(const uint8_t *p, size_t len, size_t from)
{
    for (size_t i = from; i + 3 <= len; i++)
        if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1)
            return i + 3;
    return len;
}

/* The end of the NAL starting at `start`: the next start code (minus a 4-byte code's zero). */
static size_t nal_end(const uint8_t *p, size_t len, size_t start)
{
    size_t n = next_nal(p, len, start);
    if (n == len)
        return len;
    size_t end = n - 3;
    while (end > start && p[end - 1] == 0)
        end--; /* trailing zero bytes belong to the next start code */
    return end;
}

static void note_nal(bbt_h264_au *au, const uint8_t *nal, size_t len)
{
    unsigned type = nal[0] & 0x1f, ref = (nal[0] >> 5) & 3;
    au->nals++;
    if (type >= BBT_NAL_SLICE && type <= BBT_NAL_IDR) {
        if (!au->vcl)
            au->nonref = true;
        au->vcl = true;
        if (ref)
            au->nonref = false;
        if (type == BBT_NAL_IDR)
            au->idr = true;
    } else if (type == BBT_NAL_SPS) {
        if (!au->sps) {
            au->sps_nal = nal;
            au->sps_len = len;
        }
        au->sps = true;
    } else if (type == BBT_NAL_PPS) {
        au->pps = true;
    } else if (type == BBT_NAL_AUD) {
        au->aud = true;
    }
}

int bbt_h264_parse_au(const uint8_t *p, size_t len, bbt_h264_au *out)
{
    if (!p || !out)
        return BBT_EINVAL;
    memset(out, 0, sizeof *out);
    size_t start = next_nal(p, len, 0);
    if (start == len)
        return BBT_EINVAL;
    for (size_t i = 0; i < start - 3; i++)
        if (p[i] != 0)
            return BBT_EINVAL; /* garbage before the first start code */
    while (start < len) {
        size_t end = nal_end(p, len, start);
        if (end > start)
            note_nal(out, p + start, end - start);
        start = next_nal(p, len, end);
    }
    return BBT_OK;
}

unsigned bbt_h264_frame_flags(const bbt_h264_au *au)
{
    unsigned f = 0;
    if (au->idr)
        f |= BBT_FRAME_KEY;
    if (au->sps && au->pps)
        f |= BBT_FRAME_CONFIG;
    if (au->vcl && au->nonref && !au->idr)
        f |= BBT_FRAME_DISCARDABLE;
    return f;
}

int bbt_h264_codec_string(const uint8_t *sps, size_t len, char out[12])
{
    if (!sps || !out || len < 4 || (sps[0] & 0x1f) != BBT_NAL_SPS)
        return BBT_EINVAL;
    uint8_t b[3];
    size_t n = 0, zeros = 0;
    for (size_t i = 1; i < len && n < 3; i++) {
        if (zeros >= 2 && sps[i] == 3) { /* emulation prevention byte */
            zeros = 0;
            continue;
        }
        zeros = sps[i] == 0 ? zeros + 1 : 0;
        b[n++] = sps[i];
    }
    if (n < 3)
        return BBT_EINVAL;
    snprintf(out, 12, "avc1.%02X%02X%02X", b[0], b[1], b[2]);
    return BBT_OK;
}

/* proto/frame.c — media frame header codec (see frame.h, docs/PROTOCOL.md §2). */
#include "frame.h"

#include "status.h"

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
    return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}

/* The rules shared by decoder and encoder, so that what one writes the other accepts. */
static int check_fields(unsigned track, unsigned flags, size_t len, size_t max_payload)
{
    if (flags & ~(unsigned)BBT_FRAME_FLAGS_ALL)
        return BBT_EFRAME_FLAGS;
    if ((flags & BBT_FRAME_END) && (flags & BBT_FRAME_PART)) /* an END is never fragmented */
        return BBT_EFRAME_FLAGS;
    if (track >= BBT_FRAME_MAX_TRACKS)
        return BBT_EFRAME_TRACK;
    if (len == 0 && !(flags & BBT_FRAME_END))
        return BBT_EFRAME_EMPTY;
    if (len > max_payload)
        return BBT_EFRAME_TOO_BIG;
    return BBT_OK;
}

int bbt_frame_decode(const uint8_t *buf, size_t len, size_t max_payload, bbt_frame *out)
{
    if (!buf || !out)
        return BBT_EINVAL;
    if (max_payload == 0 || max_payload > BBT_FRAME_MAX_PAYLOAD)
        max_payload = BBT_FRAME_MAX_PAYLOAD;
    if (len < BBT_FRAME_HEADER_LEN)
        return BBT_EFRAME_SHORT;
    if (buf[0] != BBT_FRAME_VERSION)
        return BBT_EFRAME_VERSION;
    if (buf[3] != 0)
        return BBT_EFRAME_FLAGS;
    size_t plen = len - BBT_FRAME_HEADER_LEN;
    int rc = check_fields(buf[1], buf[2], plen, max_payload);
    if (rc != BBT_OK)
        return rc;
    out->track = buf[1];
    out->flags = buf[2];
    out->seq = get_be32(buf + 4);
    out->capture_us = get_be64(buf + 8);
    out->payload = buf + BBT_FRAME_HEADER_LEN;
    out->len = plen;
    return BBT_OK;
}

int bbt_frame_encode_header(const bbt_frame *f, uint8_t out[BBT_FRAME_HEADER_LEN])
{
    if (!f || !out)
        return BBT_EINVAL;
    int rc = check_fields(f->track, f->flags, f->len, BBT_FRAME_MAX_PAYLOAD);
    if (rc != BBT_OK)
        return rc;
    out[0] = BBT_FRAME_VERSION;
    out[1] = f->track;
    out[2] = f->flags;
    out[3] = 0;
    put_be32(out + 4, f->seq);
    put_be64(out + 8, f->capture_us);
    return BBT_OK;
}

/* proto/frame.h — the binary media frame (docs/PROTOCOL.md §2).
 *
 * Every binary WebSocket message, on every hop (node → relay, relay → relay, relay → viewer),
 * and every record of a recording file, is one frame: a 16-byte fixed header followed by one
 * encoded media frame (an H.264 access unit in Annex-B, or one Opus packet).
 *
 *   offset size field
 *   0      1    version       BBT_FRAME_VERSION (1)
 *   1      1    track         0 .. BBT_FRAME_MAX_TRACKS-1, an id from the publisher's track list
 *   2      1    flags         BBT_FRAME_KEY | _CONFIG | _DISCARDABLE | _END | _PART; bits 5-7 zero
 *   3      1    reserved      zero
 *   4      4    seq           per-track sequence number, big-endian, wraps at 2^32
 *   8      8    capture_us    wall-clock capture time, µs since the Unix epoch, big-endian
 *   16     n    payload       n ≥ 1, except on an END frame where n may be 0
 *
 * Padding (docs/PROTOCOL.md §2.6): on the relay → viewer hop, to a viewer that asked for it
 * ("padding": true in subscribe), a binary message whose first byte is BBT_FRAME_PADDING (0)
 * is no frame but filler a relay sends to probe the link; the receiver counts its bytes and
 * drops it. bbt_frame_is_padding() tells it apart before decoding.
 *
 * Decoding never copies the payload: the decoded frame points into the caller's buffer, which
 * must outlive it. Encoding writes only the header, so a sender can place it in front of a
 * payload it already holds (for example in the LWS_PRE headroom of a shared buffer).
 */
#ifndef BBT_FRAME_H
#define BBT_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define BBT_FRAME_VERSION 1
#define BBT_FRAME_PADDING 0 /* first byte of a padding message (§2.6) */
#define BBT_FRAME_HEADER_LEN 16
#define BBT_FRAME_MAX_TRACKS 32
/* The protocol's hard ceiling on a payload; a receiver may configure a lower one. */
#define BBT_FRAME_MAX_PAYLOAD (8u * 1024u * 1024u)

enum {
    BBT_FRAME_KEY = 1u << 0,         /* a video keyframe (IDR), decodable on its own */
    BBT_FRAME_CONFIG = 1u << 1,      /* carries codec configuration (SPS/PPS in band) */
    BBT_FRAME_DISCARDABLE = 1u << 2, /* nothing references it: droppable without harm */
    BBT_FRAME_END = 1u << 3,         /* end of this track's stream */
    /* More of this frame follows (docs/PROTOCOL.md §2.5): a relay sends a large video frame to
     * a slow viewer that asked for it ("fragments": true in subscribe) as consecutive fragment
     * messages of its track, each with the frame's header and a slice of its payload, all but
     * the last with PART set, so that audio can travel between them. Never on END, never from a
     * publisher (the relay refuses it there: fragments exist on the last hop only). */
    BBT_FRAME_PART = 1u << 4,
    BBT_FRAME_FLAGS_ALL = 0x1f,
};

typedef struct bbt_frame {
    uint8_t track;
    uint8_t flags;
    uint32_t seq;
    uint64_t capture_us;
    const uint8_t *payload; /* borrowed: points into the decoded buffer */
    size_t len;
} bbt_frame;

/* Decode `len` bytes at `buf` into `out`. `max_payload` is the receiver's limit (0 means
 * BBT_FRAME_MAX_PAYLOAD; larger values are clamped to it). Returns BBT_OK, or one of
 * BBT_EFRAME_SHORT, _VERSION, _FLAGS, _TRACK, _EMPTY, _TOO_BIG, BBT_EINVAL (NULL arguments);
 * `out` is untouched on failure. */
int bbt_frame_decode(const uint8_t *buf, size_t len, size_t max_payload, bbt_frame *out);

/* A padding message (§2.6): at least one byte, the first BBT_FRAME_PADDING. Only a receiver
 * that subscribed with "padding": true may treat it so; to anyone else it is a frame with a
 * wrong version (BBT_EFRAME_VERSION). */
static inline int bbt_frame_is_padding(const uint8_t *buf, size_t len)
{
    return buf && len >= 1 && buf[0] == BBT_FRAME_PADDING;
}

/* Write the 16-byte header of `f` to `out` (f->payload is not read; f->len is checked).
 * Returns BBT_OK, or BBT_EFRAME_TRACK / _FLAGS / _EMPTY / _TOO_BIG / BBT_EINVAL for a frame
 * that the decoder would reject. */
int bbt_frame_encode_header(const bbt_frame *f, uint8_t out[BBT_FRAME_HEADER_LEN]);

#endif

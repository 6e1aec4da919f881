/* relay/frame_ref.h — one media frame, allocated once, shared by every queue that holds it.
 *
 * A frame_ref owns one heap block: this struct, BBT_FRAME_REF_HEADROOM bytes in front of the
 * wire bytes (where libwebsockets writes the WebSocket header, so sending needs no copy — the
 * header is the same for every viewer because server frames are unmasked), then the wire bytes
 * (16-byte bbt frame header + payload). The publisher's connection fills it while a message is
 * being reassembled (refs == 1, bbt_frame_ref_append may move it); once complete it is only read,
 * and every holder calls bbt_frame_ref_release once. Single-threaded: refs is not atomic.
 */
#ifndef BBT_FRAME_REF_H
#define BBT_FRAME_REF_H

#include <stddef.h>
#include <stdint.h>

/* Must be ≥ LWS_PRE (checked by a static assertion in relay/server.c). */
#define BBT_FRAME_REF_HEADROOM 16

enum bbt_track_class { BBT_CLASS_VIDEO = 0, BBT_CLASS_AUDIO = 1 };

typedef struct bbt_frame_ref {
    uint32_t refs;
    uint8_t track;       /* decoded from the header once the message is complete */
    uint8_t flags;
    uint8_t cls;         /* enum bbt_track_class, set by the session from its track list */
    uint32_t seq;
    uint64_t capture_us;
    size_t len;          /* wire bytes held: header + payload */
    size_t cap;          /* capacity of the wire area */
    uint8_t *data;       /* the wire bytes; data - BBT_FRAME_REF_HEADROOM is writable */
} bbt_frame_ref;

/* A new, empty frame with room for `cap` wire bytes; refs = 1. NULL when out of memory. */
bbt_frame_ref *bbt_frame_ref_new(size_t cap);

/* Append `n` bytes, growing the block (doubling, at most to `max` wire bytes). Only while the
 * caller holds the only reference. On success *ref may have moved. Returns BBT_OK, BBT_ELIMIT
 * when len + n > max (nothing appended), BBT_ENOMEM (nothing appended, *ref still valid). */
int bbt_frame_ref_append(bbt_frame_ref **ref, const void *p, size_t n, size_t max);

/* Take another reference; returns ref. */
bbt_frame_ref *bbt_frame_ref_hold(bbt_frame_ref *ref);

/* Drop a reference; the last one frees the block. NULL is ignored. */
void bbt_frame_ref_release(bbt_frame_ref *ref);

#endif

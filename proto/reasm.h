/* proto/reasm.h — one viewer's fragment reassembly (docs/PROTOCOL.md §2.5).
 *
 * A relay may send a large frame to a viewer that asked for it ("fragments": true in subscribe)
 * as n ≥ 2 consecutive messages of its track, each a whole header (the frame's track, seq,
 * capture_us and flags) and a slice of the payload, all but the last with BBT_FRAME_PART. A
 * receiver passes every decoded message through bbt_reasm_push() and handles only the whole
 * frames it hands back:
 *
 *   - per track at most one frame is being assembled; a PART message starts one (or appends to
 *     the pending one with the same seq); a message without PART completes the pending one with
 *     the same seq: the whole frame is handed back (its flags without PART);
 *   - a message on a track whose pending frame has another seq discards the pending one (a frame
 *     error, reported through `drop`), then is handled as if nothing were pending;
 *   - an assembly that would exceed max_payload is discarded the same way (reported), and so is
 *     one whose memory cannot be had (BBT_ENOMEM); the rest of that frame's fragments (same
 *     track and seq, up to its last one) are ignored silently: they cannot make a whole frame;
 *   - a message without PART and nothing pending is handed back as it came (no copy).
 *
 * With keep_payload false only lengths are kept (no allocation at all): an assembled frame then
 * has payload NULL and len the sum of its slices' lengths, and pushed frames may have payload
 * NULL. For a receiver that only measures (the benchmark's viewer).
 *
 * Pure: no I/O, no clock, no global state; one object per connection, used by one thread.
 */
#ifndef BBT_REASM_H
#define BBT_REASM_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/frame.h"

typedef struct bbt_reasm bbt_reasm;

enum bbt_reasm_why {
    BBT_REASM_NONE = 0,       /* nothing was discarded */
    BBT_REASM_INCOMPLETE = 1, /* a message with another seq came before the last fragment */
    BBT_REASM_TOO_BIG = 2,    /* the assembly would exceed max_payload */
    BBT_REASM_NOMEM = 3,      /* no memory for the assembly */
};

/* What one push discarded, for the caller's log line (when one push discards two frames — the
 * pending one, then the new one too big — the second; bbt_reasm_errors() counts both). */
typedef struct bbt_reasm_drop {
    enum bbt_reasm_why why;
    uint8_t track;
    uint32_t seq;     /* the discarded frame */
    uint32_t by_seq;  /* the seq of the message that ended it (INCOMPLETE), else seq */
    size_t bytes;     /* payload bytes it had (TOO_BIG: including the message that overflowed) */
} bbt_reasm_drop;

/* max_payload: the receiver's limit for a whole frame's payload (0 or more than
 * BBT_FRAME_MAX_PAYLOAD: BBT_FRAME_MAX_PAYLOAD). NULL only when out of memory. */
bbt_reasm *bbt_reasm_new(size_t max_payload, bool keep_payload);
void bbt_reasm_free(bbt_reasm *r);

/* Push one decoded message `in` (bbt_frame_decode's output, its payload borrowed). Returns
 *   1          *out is a whole frame: `in` itself, or an assembled one whose payload belongs
 *              to r and stays valid until the next push on that track, reset or free;
 *   0          nothing to hand on now (a fragment was kept or ignored);
 *   BBT_ENOMEM the pending assembly was discarded for want of memory (also in *drop);
 *   BBT_EINVAL NULL r, in or out, or a track ≥ BBT_FRAME_MAX_TRACKS.
 * drop (may be NULL) is always written: why = BBT_REASM_NONE unless a frame was discarded. */
int bbt_reasm_push(bbt_reasm *r, const bbt_frame *in, bbt_frame *out, bbt_reasm_drop *drop);

/* Forget every pending assembly without counting it (the connection closed). */
void bbt_reasm_reset(bbt_reasm *r);

/* Frames discarded since creation (every BBT_REASM_* reason). */
uint64_t bbt_reasm_errors(const bbt_reasm *r);

/* Name of a reason for log lines ("incomplete", "too big", "out of memory", "none"). */
const char *bbt_reasm_why_name(enum bbt_reasm_why why);

#endif

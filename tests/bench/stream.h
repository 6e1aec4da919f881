/* tests/bench/stream.h — a recording (docs/PROTOCOL.md §2.4) loaded and validated in memory.
 *
 * A recording is "BBTREC1\n" then records, each a 4-byte big-endian length (≥ 1) and that many
 * bytes: a `tracks` control message (first byte '{') or a media frame (§2.1). The first record
 * must be a `tracks` message with at least one track; a later one replaces the track list (it
 * may be empty: the lesson ended). Every record is checked:
 * messages with bbt_control_parse() (type must be "tracks") and bbt_tracks_from_json(), frames
 * with bbt_frame_decode() and against the current track list. Anything else — a truncated
 * record, a zero length, a frame on an undeclared track, no frame at all — is rejected with
 * BBT_EINVAL / BBT_EFRAME_* / BBT_EMSG_* and an `err` text naming the record.
 *
 * Ownership: bbt_recording_parse() borrows `buf` (frames point into it; it must outlive the
 * recording); bbt_recording_load() reads a file into a buffer the recording owns. Either way
 * bbt_recording_free() releases what the recording allocated. No global state.
 */
#ifndef BBT_BENCH_STREAM_H
#define BBT_BENCH_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "proto/control.h"
#include "proto/frame.h"

#define BBT_REC_MAGIC "BBTREC1\n"
#define BBT_REC_MAGIC_LEN 8
/* A record longer than this is refused: a frame header + the protocol's largest payload. */
#define BBT_REC_MAX_RECORD (BBT_FRAME_HEADER_LEN + BBT_FRAME_MAX_PAYLOAD)

typedef struct bbt_rec_frame {
    const uint8_t *wire; /* the whole record: 16-byte header + payload (borrowed) */
    size_t wire_len;
    uint8_t track, flags;
    uint32_t seq;
    uint64_t capture_us; /* as stored: relative time in a bench stream */
} bbt_rec_frame;

typedef struct bbt_recording {
    uint8_t *owned;                       /* file contents when loaded, else NULL */
    bbt_track_info tracks[BBT_MAX_TRACKS]; /* the FIRST track list */
    size_t ntracks;
    size_t track_lists;                   /* how many `tracks` records there were */
    bbt_rec_frame *frames;
    size_t nframes;
    uint64_t first_us, last_us;           /* smallest and largest capture_us */
    uint64_t bytes;                       /* sum of frame wire lengths */
} bbt_recording;

/* Parse `len` bytes at `buf` into *rec (zeroed first). BBT_OK or an error, with *rec empty. */
int bbt_recording_parse(const uint8_t *buf, size_t len, bbt_recording *rec, char *err,
                        size_t errlen);

/* Read and parse the file at `path`. BBT_EIO when it cannot be read. */
int bbt_recording_load(const char *path, bbt_recording *rec, char *err, size_t errlen);

/* The track of the first list with this id, or NULL. */
const bbt_track_info *bbt_recording_track(const bbt_recording *rec, int id);

void bbt_recording_free(bbt_recording *rec);

#endif

/* tests/fuzz/fuzz_recording.c — the recording reader (tests/bench/stream.c) on arbitrary bytes.
 * Whatever parses must be self-consistent: every frame lies inside the input, re-decodes to the
 * same header fields, is on a track of some declared list, and the first list is non-empty. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/frame.h"
#include "proto/status.h"
#include "tests/bench/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bbt_recording rec;
    char err[256];
    if (bbt_recording_parse(data, size, &rec, err, sizeof err) != BBT_OK) {
        if (memchr(err, '\0', sizeof err) == NULL)
            abort(); /* the error text is always terminated */
        return 0;
    }
    if (rec.ntracks == 0 || rec.nframes == 0 || rec.track_lists == 0)
        abort();
    uint64_t bytes = 0;
    for (size_t i = 0; i < rec.nframes; i++) {
        const bbt_rec_frame *f = &rec.frames[i];
        if (f->wire < data || f->wire + f->wire_len > data + size)
            abort();
        bbt_frame d;
        if (bbt_frame_decode(f->wire, f->wire_len, 0, &d) != BBT_OK || d.track != f->track ||
            d.flags != f->flags || d.seq != f->seq || d.capture_us != f->capture_us)
            abort();
        if (f->capture_us < rec.first_us || f->capture_us > rec.last_us)
            abort();
        bytes += f->wire_len;
    }
    if (bytes != rec.bytes)
        abort();
    bbt_recording_free(&rec);
    return 0;
}

/* proto/reasm.c — one viewer's fragment reassembly (see reasm.h, docs/PROTOCOL.md §2.5). */
#include "proto/reasm.h"

#include <stdlib.h>
#include <string.h>

#include "proto/status.h"

#define MIN_CAP 4096u

/* One track's assembly. `pending` and `skipping` never hold together. */
struct slot {
    bool pending;   /* a frame is being assembled */
    bool skipping;  /* the rest of a discarded frame (seq) is being ignored */
    uint32_t seq;
    uint64_t capture_us;
    uint8_t *buf;   /* keep_payload only; kept from frame to frame */
    size_t len, cap;
};

struct bbt_reasm {
    size_t max_payload;
    bool keep;
    uint64_t errors;
    struct slot t[BBT_FRAME_MAX_TRACKS];
};

bbt_reasm *bbt_reasm_new(size_t max_payload, bool keep_payload)
{
    bbt_reasm *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    if (max_payload == 0 || max_payload > BBT_FRAME_MAX_PAYLOAD)
        max_payload = BBT_FRAME_MAX_PAYLOAD;
    r->max_payload = max_payload;
    r->keep = keep_payload;
    return r;
}

void bbt_reasm_reset(bbt_reasm *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < BBT_FRAME_MAX_TRACKS; i++) {
        free(r->t[i].buf);
        memset(&r->t[i], 0, sizeof r->t[i]);
    }
}

void bbt_reasm_free(bbt_reasm *r)
{
    bbt_reasm_reset(r);
    free(r);
}

uint64_t bbt_reasm_errors(const bbt_reasm *r)
{
    return r ? r->errors : 0;
}

const char *bbt_reasm_why_name(enum bbt_reasm_why why)
{
    switch (why) {
    case BBT_REASM_INCOMPLETE:
        return "incomplete";
    case BBT_REASM_TOO_BIG:
        return "too big";
    case BBT_REASM_NOMEM:
        return "out of memory";
    default:
        return "none";
    }
}

/* Discard the pending frame of track `track` and say why. */
static void discard(bbt_reasm *r, unsigned track, enum bbt_reasm_why why, uint32_t by_seq,
                    size_t bytes, bbt_reasm_drop *drop)
{
    struct slot *s = &r->t[track];
    r->errors++;
    drop->why = why;
    drop->track = (uint8_t)track;
    drop->seq = s->seq;
    drop->by_seq = by_seq;
    drop->bytes = bytes;
    s->pending = false;
    s->len = 0;
}

/* Append the payload of `in` to its track's assembly: BBT_OK, BBT_EFRAME_TOO_BIG, BBT_ENOMEM. */
static int append(bbt_reasm *r, struct slot *s, const bbt_frame *in)
{
    if (in->len > r->max_payload || s->len > r->max_payload - in->len)
        return BBT_EFRAME_TOO_BIG;
    size_t need = s->len + in->len;
    if (!r->keep) {
        s->len = need;
        return BBT_OK;
    }
    if (need > s->cap) {
        size_t cap = s->cap ? s->cap : MIN_CAP;
        while (cap < need)
            cap = cap > r->max_payload / 2 ? r->max_payload : cap * 2;
        uint8_t *nb = realloc(s->buf, cap);
        if (!nb)
            return BBT_ENOMEM;
        s->buf = nb;
        s->cap = cap;
    }
    if (in->len)
        memcpy(s->buf + s->len, in->payload, in->len);
    s->len = need;
    return BBT_OK;
}

/* Append to the pending frame; on failure discard it, ignore its rest, report. Returns BBT_OK,
 * BBT_EFRAME_TOO_BIG or BBT_ENOMEM. */
static int add_slice(bbt_reasm *r, const bbt_frame *in, bbt_reasm_drop *drop)
{
    struct slot *s = &r->t[in->track];
    int rc = append(r, s, in);
    if (rc == BBT_OK)
        return BBT_OK;
    bool nomem = rc == BBT_ENOMEM;
    discard(r, in->track, nomem ? BBT_REASM_NOMEM : BBT_REASM_TOO_BIG, in->seq,
            nomem ? s->len : s->len + in->len, drop);
    s->skipping = (in->flags & BBT_FRAME_PART) != 0; /* the last slice ends the frame anyway */
    return rc;
}

int bbt_reasm_push(bbt_reasm *r, const bbt_frame *in, bbt_frame *out, bbt_reasm_drop *drop)
{
    bbt_reasm_drop ignored;
    if (!drop)
        drop = &ignored;
    memset(drop, 0, sizeof *drop);
    if (!r || !in || !out || in->track >= BBT_FRAME_MAX_TRACKS)
        return BBT_EINVAL;
    struct slot *s = &r->t[in->track];
    bool part = (in->flags & BBT_FRAME_PART) != 0;
    if (s->pending && s->seq != in->seq)
        discard(r, in->track, BBT_REASM_INCOMPLETE, in->seq, s->len, drop);
    if (s->skipping) {
        s->skipping = false;
        if (s->seq == in->seq) {
            s->skipping = part; /* ignored up to and including the frame's last slice */
            return 0;
        }
    }
    if (!s->pending && !part) {
        *out = *in; /* a frame in one message: as it came */
        return 1;
    }
    if (!s->pending) {
        s->pending = true;
        s->seq = in->seq;
        s->capture_us = in->capture_us;
        s->len = 0;
    }
    int rc = add_slice(r, in, drop);
    if (rc != BBT_OK)
        return rc == BBT_ENOMEM ? BBT_ENOMEM : 0;
    if (part)
        return 0;
    s->pending = false;
    *out = (bbt_frame){.track = in->track, .flags = in->flags, .seq = in->seq,
                       .capture_us = s->capture_us, .payload = r->keep ? s->buf : NULL,
                       .len = s->len};
    return 1;
}

/* tests/bench/stream.c — recording reader and validator (see stream.h). */
#include "stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/status.h"

static int fail(int rc, char *err, size_t errlen, const char *fmt, size_t rec, const char *what)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, rec, what);
    return rc;
}

/* A `tracks` message record: becomes the current list (`cur`, `ncur`). */
static int parse_tracks(const uint8_t *p, size_t n, size_t idx, bbt_track_info *cur,
                        size_t *ncur, char *err, size_t errlen)
{
    char why[200] = "";
    bbt_msg_type type;
    json_t *m = NULL;
    bbt_control_limits lim = {.max_bytes = BBT_CONTROL_DEFAULT_MAX_BYTES};
    int rc = bbt_control_parse((const char *)p, n, &lim, &type, &m, why, sizeof why);
    if (rc == BBT_OK && type != BBT_MSG_TRACKS) {
        snprintf(why, sizeof why, "a %s message, not tracks", bbt_msg_type_name(type));
        rc = BBT_EMSG_TYPE;
    }
    if (rc == BBT_OK)
        rc = bbt_tracks_from_json(json_object_get(m, "tracks"), cur, BBT_MAX_TRACKS, ncur, why,
                                  sizeof why);
    json_decref(m);
    return rc == BBT_OK ? BBT_OK : fail(rc, err, errlen, "record %zu: %s", idx, why);
}

static int in_list(const bbt_track_info *t, size_t n, int id)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].id == id)
            return 1;
    return 0;
}

static int add_frame(bbt_recording *rec, size_t *cap, const uint8_t *p, size_t n,
                     const bbt_frame *f)
{
    if (rec->nframes == *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        bbt_rec_frame *nf = realloc(rec->frames, nc * sizeof *nf);
        if (!nf)
            return BBT_ENOMEM;
        rec->frames = nf;
        *cap = nc;
    }
    rec->frames[rec->nframes++] = (bbt_rec_frame){.wire = p, .wire_len = n, .track = f->track,
                                                  .flags = f->flags, .seq = f->seq,
                                                  .capture_us = f->capture_us};
    if (rec->nframes == 1 || f->capture_us < rec->first_us)
        rec->first_us = f->capture_us;
    if (f->capture_us > rec->last_us)
        rec->last_us = f->capture_us;
    rec->bytes += n;
    return BBT_OK;
}

static int parse_records(const uint8_t *buf, size_t len, bbt_recording *rec, char *err,
                         size_t errlen)
{
    bbt_track_info cur[BBT_MAX_TRACKS];
    size_t ncur = 0, cap = 0, off = BBT_REC_MAGIC_LEN;
    for (size_t idx = 0; off < len; idx++) {
        if (len - off < 4)
            return fail(BBT_EINVAL, err, errlen, "record %zu: %s", idx, "truncated length");
        size_t n = (size_t)buf[off] << 24 | (size_t)buf[off + 1] << 16 |
                   (size_t)buf[off + 2] << 8 | buf[off + 3];
        off += 4;
        if (n == 0 || n > BBT_REC_MAX_RECORD)
            return fail(BBT_EINVAL, err, errlen, "record %zu: %s", idx, "bad length");
        if (n > len - off)
            return fail(BBT_EINVAL, err, errlen, "record %zu: %s", idx, "truncated record");
        const uint8_t *p = buf + off;
        off += n;
        int rc;
        if (p[0] == '{') {
            rc = parse_tracks(p, n, idx, cur, &ncur, err, errlen);
            if (rc != BBT_OK)
                return rc;
            if (rec->track_lists++ == 0) {
                if (ncur == 0)
                    return fail(BBT_EMSG_FIELD, err, errlen, "record %zu: %s", idx,
                                "the first track list is empty");
                memcpy(rec->tracks, cur, ncur * sizeof *cur);
                rec->ntracks = ncur;
            }
            continue;
        }
        if (idx == 0)
            return fail(BBT_EINVAL, err, errlen, "record %zu: %s", idx,
                        "the first record must be a tracks message");
        bbt_frame f;
        if ((rc = bbt_frame_decode(p, n, 0, &f)) != BBT_OK)
            return fail(rc, err, errlen, "record %zu: %s", idx, bbt_strerror(rc));
        if (!in_list(cur, ncur, f.track))
            return fail(BBT_EFRAME_TRACK, err, errlen, "record %zu: %s", idx,
                        "frame on a track that is not in the track list");
        if ((rc = add_frame(rec, &cap, p, n, &f)) != BBT_OK)
            return fail(rc, err, errlen, "record %zu: %s", idx, "out of memory");
    }
    if (rec->nframes == 0)
        return fail(BBT_EINVAL, err, errlen, "record %zu: %s", rec->track_lists,
                    "no media frame in the recording");
    return BBT_OK;
}

int bbt_recording_parse(const uint8_t *buf, size_t len, bbt_recording *rec, char *err,
                        size_t errlen)
{
    if (!rec)
        return BBT_EINVAL;
    memset(rec, 0, sizeof *rec);
    if (!buf || len < BBT_REC_MAGIC_LEN || memcmp(buf, BBT_REC_MAGIC, BBT_REC_MAGIC_LEN) != 0)
        return fail(BBT_EINVAL, err, errlen, "record %zu: %s", (size_t)0,
                    "not a recording (magic BBTREC1 missing)");
    int rc = parse_records(buf, len, rec, err, errlen);
    if (rc != BBT_OK)
        bbt_recording_free(rec);
    return rc;
}

static int read_all(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return BBT_EIO;
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    int rc = BBT_OK;
    for (;;) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 1u << 20;
            uint8_t *nb = realloc(buf, nc);
            if (!nb) {
                rc = BBT_ENOMEM;
                break;
            }
            buf = nb;
            cap = nc;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                rc = BBT_EIO;
            break;
        }
    }
    fclose(f);
    if (rc != BBT_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = n;
    return BBT_OK;
}

int bbt_recording_load(const char *path, bbt_recording *rec, char *err, size_t errlen)
{
    memset(rec, 0, sizeof *rec);
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = read_all(path, &buf, &len);
    if (rc != BBT_OK) {
        if (err && errlen)
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return rc;
    }
    char why[256] = "";
    rc = bbt_recording_parse(buf, len, rec, why, sizeof why);
    if (rc != BBT_OK) {
        free(buf);
        if (err && errlen)
            snprintf(err, errlen, "%s: %s", path, why);
        return rc;
    }
    rec->owned = buf;
    return BBT_OK;
}

const bbt_track_info *bbt_recording_track(const bbt_recording *rec, int id)
{
    for (size_t i = 0; i < rec->ntracks; i++)
        if (rec->tracks[i].id == id)
            return &rec->tracks[i];
    return NULL;
}

void bbt_recording_free(bbt_recording *rec)
{
    if (!rec)
        return;
    free(rec->frames);
    free(rec->owned);
    memset(rec, 0, sizeof *rec);
}

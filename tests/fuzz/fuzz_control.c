/* tests/fuzz/fuzz_control.c — control messages (proto/control.c) on arbitrary bytes, with the
 * default limits. Invariants (abort() otherwise):
 *   - err is always NUL-terminated printable ASCII, and an `error` reply can be built from it;
 *   - a rejected message yields no object; an accepted one validates again as the same type;
 *   - what is accepted dumps, and the dump parses again to the same type and an equal object;
 *   - the track list of an accepted publish/published/tracks converts to C structs and back
 *     to JSON that gives the same structs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/control.h"
#include "proto/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_err(const char *err)
{
    for (const char *p = err; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            abort();
}

static int same_track(const bbt_track_info *a, const bbt_track_info *b)
{
    return a->id == b->id && a->kind == b->kind && strcmp(a->codec, b->codec) == 0 &&
           a->layer == b->layer && a->width == b->width && a->height == b->height &&
           a->fps == b->fps && a->bitrate == b->bitrate && a->sample_rate == b->sample_rate &&
           a->channels == b->channels;
}

static void check_tracks(const json_t *m)
{
    bbt_track_info t[BBT_MAX_TRACKS], u[BBT_MAX_TRACKS];
    size_t n, k;
    char err[256];
    if (bbt_tracks_from_json(json_object_get(m, "tracks"), t, BBT_MAX_TRACKS, &n, err,
                             sizeof err) != BBT_OK)
        abort();
    json_t *back = bbt_tracks_to_json(t, n);
    if (!back || bbt_tracks_from_json(back, u, BBT_MAX_TRACKS, &k, err, sizeof err) != BBT_OK ||
        k != n)
        abort();
    for (size_t i = 0; i < n; i++)
        if (!same_track(&t[i], &u[i]))
            abort();
    json_decref(back);
}

static void check_accepted(bbt_msg_type type, const json_t *m)
{
    char err[256];
    if (type >= BBT_MSG__COUNT || bbt_control_validate(type, m, err, sizeof err) != BBT_OK)
        abort();
    size_t len;
    char *text = bbt_control_dump(m, &len);
    if (!text)
        abort();
    /* A dump can be longer than its input ("1e5" becomes "100000.0" in an unknown member), so
     * the size limit of the second parse is the dump's length; depth cannot change. */
    bbt_control_limits lim = {.max_bytes = len > BBT_CONTROL_DEFAULT_MAX_BYTES ? len : 0};
    bbt_msg_type t2;
    json_t *m2 = NULL;
    if (bbt_control_parse(text, len, &lim, &t2, &m2, err, sizeof err) != BBT_OK || t2 != type ||
        !json_equal(m, m2))
        abort();
    json_decref(m2);
    free(text);
    if (type == BBT_MSG_PUBLISH || type == BBT_MSG_PUBLISHED || type == BBT_MSG_TRACKS)
        check_tracks(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bbt_msg_type type;
    json_t *m = NULL;
    char err[256];
    int rc = bbt_control_parse((const char *)data, size, NULL, &type, &m, err, sizeof err);
    check_err(err);
    if (rc != BBT_OK) {
        if (m)
            abort();
        json_t *e = bbt_msg_error(rc, err, type < BBT_MSG__COUNT ? bbt_msg_type_name(type) : NULL);
        if (!e)
            abort();
        json_decref(e);
        return 0;
    }
    check_accepted(type, m);
    json_decref(m);
    return 0;
}

/* proto/control.h — JSON control messages (docs/PROTOCOL.md §3).
 *
 * Every text WebSocket message is one JSON object with a string "type". Each type has a declared
 * parameter table (proto/control_tables.c); bbt_control_parse() checks the size and the nesting
 * depth of the raw text BEFORE parsing it, parses it with jansson (duplicate keys rejected, no
 * trailing data, no NUL in strings), then validates the object against the table of its type.
 * Only a message that passed all of that reaches a handler. Unknown fields are ignored (a newer
 * peer may add fields), but they count toward the size and depth limits.
 *
 * Ownership: every json_t * returned by this module is a new reference the caller owns and
 * releases with json_decref(). Functions taking `const json_t *` never keep a reference.
 * `err`/`errlen` are optional everywhere (NULL/0 means "don't tell me"); when given, `err` always
 * receives a NUL-terminated, printable-ASCII text (safe to log and to put in an `error` message)
 * naming the exact place, e.g. `publish.tracks[2].width: expected an integer 0..7680, got 9000`.
 *
 * No global state: the tables are const, everything else lives on the caller's stack.
 */
#ifndef BBT_CONTROL_H
#define BBT_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define BBT_PROTOCOL_VERSION 1
#define BBT_CONTROL_DEFAULT_MAX_BYTES (64u * 1024u)
#define BBT_CONTROL_DEFAULT_MAX_DEPTH 8
/* Largest integer a JSON number can carry exactly in a browser (2^53). */
#define BBT_JSON_INT_MAX 9007199254740992LL
#define BBT_IDENT_MAX 64 /* session and classroom ids: [A-Za-z0-9_.-]{1,64} */
#define BBT_CODEC_MAX 64 /* codec strings: 1..64 bytes */
#define BBT_MAX_TRACKS 32
#define BBT_LAYER_OMIT (-2) /* bbt_msg_state(): leave "layer" out */

typedef enum bbt_msg_type {
    BBT_MSG_HELLO,
    BBT_MSG_WELCOME,
    BBT_MSG_ERROR,
    BBT_MSG_PUBLISH,
    BBT_MSG_PUBLISHED,
    BBT_MSG_SUBSCRIBE,
    BBT_MSG_UNSUBSCRIBE,
    BBT_MSG_TRACKS,
    BBT_MSG_STATE,
    BBT_MSG_REPORT,
    BBT_MSG_KEYFRAME,
    BBT_MSG_BYE,
    BBT_MSG_PING,
    BBT_MSG_PONG,
    BBT_MSG_PLAN,
    BBT_MSG_HAND,
    /* the timetable (§3.17, §3.18) */
    BBT_MSG_START,
    BBT_MSG_STOP,
    BBT_MSG_SCHOOL_SET,
    BBT_MSG_SCHOOL_LIST,
    BBT_MSG_SCHOOLS,
    BBT_MSG_CLASSROOM_SET,
    BBT_MSG_CLASSROOM_LIST,
    BBT_MSG_CLASSROOMS,
    BBT_MSG_GROUP_SET,
    BBT_MSG_GROUP_LIST,
    BBT_MSG_GROUPS,
    BBT_MSG_HOLIDAY_SET,
    BBT_MSG_HOLIDAY_LIST,
    BBT_MSG_HOLIDAYS,
    BBT_MSG_SESSION_SET,
    BBT_MSG_SESSION_LIST,
    BBT_MSG_SESSIONS,
    BBT_MSG_DELETE,
    BBT_MSG_DELETED,
    BBT_MSG_IMPORT,
    BBT_MSG_IMPORTED,
    BBT_MSG_DAY_LIST,
    BBT_MSG_DAY,
    BBT_MSG_CANCEL,
    BBT_MSG_MOVE,
    BBT_MSG_RESTORE,
    BBT_MSG_OCCURRENCE,
    BBT_MSG_ATTENDANCE_EXPORT,
    BBT_MSG_ATTENDANCE,
    BBT_MSG_CLOCK,
    BBT_MSG_TIME,
    /* credentials (§3.20) */
    BBT_MSG_TOKEN_ISSUE,
    BBT_MSG_TOKEN,
    BBT_MSG_TOKEN_LIST,
    BBT_MSG_TOKENS,
    BBT_MSG_TOKEN_REVOKE,
    BBT_MSG_TOKEN_REVOKED,
    /* the dashboard (§3.19) */
    BBT_MSG_DASH_SUBSCRIBE,
    BBT_MSG_DASH,
    BBT_MSG__COUNT /* also "no type" in the out-parameter of a failed bbt_control_parse() */
} bbt_msg_type;

/* Limits on one incoming text message. A NULL pointer, or a zero field, means the default. */
typedef struct bbt_control_limits {
    size_t max_bytes; /* default BBT_CONTROL_DEFAULT_MAX_BYTES */
    int max_depth;    /* default BBT_CONTROL_DEFAULT_MAX_DEPTH; the top-level object is depth 1 */
} bbt_control_limits;

/* ---- parameter tables --------------------------------------------------------------------- */

typedef enum bbt_ptype {
    BBT_PT_STRING, /* min..max bytes of UTF-8, no NUL; `choices` (if set) lists the allowed values */
    BBT_PT_INT,    /* a JSON integer (no fraction, no exponent) in min..max */
    BBT_PT_NUMBER, /* any finite JSON number in min..max */
    BBT_PT_BOOL,
    BBT_PT_OBJECT, /* validated against `fields` (if set); unknown members ignored */
    BBT_PT_ARRAY,  /* min..max elements, each an object of `fields`, or else a scalar `item` */
    BBT_PT_REF,    /* a message id: an integer 0..2^31-1 or a string of 0..64 bytes */
} bbt_ptype;

enum {
    BBT_P_REQUIRED = 1u << 0,  /* absent is an error */
    BBT_P_NULLABLE = 1u << 1,  /* null is accepted and means the same as absent */
    BBT_P_IDENT = 1u << 2,     /* string of 1..64 characters of [A-Za-z0-9_.-] */
    BBT_P_DATE = 1u << 3,      /* string "YYYY-MM-DD" (a real calendar date) */
    BBT_P_HHMM = 1u << 4,      /* string "HH:MM", 00:00..23:59 */
    BBT_P_OR_CHOICE = 1u << 5, /* BBT_PT_INT that also accepts one of `choices` ("auto") */
};

/* One row of a table; a table is an array of rows ended by a row with name == NULL. */
typedef struct bbt_param {
    const char *name;
    bbt_ptype type;
    unsigned flags;
    int64_t min, max;              /* int/number range, string byte length, array length */
    const struct bbt_param *fields; /* object members, or the element object of an array */
    const char *const *choices;     /* NULL-terminated allowed strings */
    bbt_ptype item; /* elements of an array of scalars (fields == NULL): strings of 0..4096
                     * bytes, numbers within ±2^53, any object; the row's min..max is the length */
} bbt_param;

/* Validate the object `obj` against `table`; `path` prefixes the err text ("publish").
 * Returns BBT_OK or BBT_EMSG_FIELD (BBT_EINVAL for NULL table/obj). Exposed so that other JSON
 * surfaces (the admin HTTP API, bbtctl) declare their requests the same way. Recursion follows
 * the table, never the input, so its depth is bounded by the table. */
int bbt_params_validate(const bbt_param *table, const json_t *obj, const char *path, char *err,
                        size_t errlen);

/* ---- messages ----------------------------------------------------------------------------- */

/* Parse and validate one text message of `len` bytes (need not be NUL-terminated).
 * On BBT_OK, *msg is a new validated object the caller owns and *type its type.
 * On failure *msg is NULL and *type is the message's type if one was recognised (so an error
 * reply can carry ref_type), else BBT_MSG__COUNT. Returns:
 *   BBT_EMSG_TOO_BIG  len > max_bytes (nothing else looked at)
 *   BBT_EMSG_DEPTH    brackets nested deeper than max_depth (found by a scan of the raw text
 *                     that allocates nothing, before any parsing)
 *   BBT_EMSG_JSON     not JSON, invalid UTF-8, "\u0000", duplicate keys, trailing data, numbers
 *                     out of the 64-bit range, or a top level that is not an object
 *   BBT_EMSG_TYPE     "type" missing, not a string, or unknown
 *   BBT_EMSG_FIELD    a field missing, of the wrong type, out of range (or a track-list rule)
 *   BBT_ENOMEM        jansson ran out of memory (it reports some allocation failures as a
 *                     syntax error, BBT_EMSG_JSON: either way the message is refused cleanly)
 *   BBT_EINVAL        NULL text, type or msg. */
int bbt_control_parse(const char *text, size_t len, const bbt_control_limits *lim,
                      bbt_msg_type *type, json_t **msg, char *err, size_t errlen);

/* Validate an already built message as bbt_control_parse() would (used on what we send, so
 * what we send is what we accept). `type` must match msg's "type": BBT_EMSG_TYPE otherwise. */
int bbt_control_validate(bbt_msg_type type, const json_t *msg, char *err, size_t errlen);

/* "hello", "welcome", ...; "?" for values out of range. Never NULL. */
const char *bbt_msg_type_name(bbt_msg_type type);

/* The type named `name`, or BBT_MSG__COUNT. */
bbt_msg_type bbt_msg_type_from_name(const char *name);

/* Compact UTF-8 serialisation of `msg` (members in insertion order, no newline); *len (if len
 * != NULL) receives strlen of the result. Returns a NUL-terminated string the caller free()s
 * (jansson allocates it: with json_set_alloc_funcs() in effect, that pair's free), or NULL
 * (allocation failure, or msg NULL). */
char *bbt_control_dump(const json_t *msg, size_t *len);

/* Copy request's "id" (if any) into reply as "ref_id". BBT_OK, BBT_ENOMEM or BBT_EINVAL. */
int bbt_msg_echo_id(json_t *reply, const json_t *request);

/* ---- builders -----------------------------------------------------------------------------
 * Each returns a new message (caller owns) that passes bbt_control_validate(), or NULL when
 * allocation failed or the arguments cannot make a valid message (a programming error: the
 * builders validate their own output). Text arguments are copied; text longer than its field's
 * limit is cut at a UTF-8 character boundary, and bytes that are not UTF-8 become '?'. */

/* {"type":"error","code":-status,"name":bbt_status_name(status),"message":...,"ref_type":...}
 * status is a BBT_E* code (-999..-1); message NULL means bbt_strerror(status); ref_type NULL
 * omits it. Add "ref_id", "session", "fatal" with bbt_msg_echo_id()/json_object_set_new(). */
json_t *bbt_msg_error(int status, const char *message, const char *ref_type);

typedef struct bbt_welcome {
    const char *server;       /* software name and version, "bbt-relay/0.1.0" */
    int64_t time_us;          /* relay wall clock, µs since the epoch */
    const char *subject;      /* whom the token names (classroom or operator) */
    const char *role;         /* "source" | "receiver" | "operator" | "relay" */
    int heartbeat_ms;         /* how often the client must send something */
    int64_t rtt_us;           /* TCP's smallest round trip to the client so far, µs; 0: omit */
    size_t max_frame_bytes;   /* both 0: no "limits" object */
    size_t max_message_bytes;
} bbt_welcome;
json_t *bbt_msg_welcome(const bbt_welcome *w);

/* state: "waiting" | "live" | "interrupted" | "ended"; reason NULL omits it; layer is the
 * viewer's video track id, -1 for audio only, BBT_LAYER_OMIT to leave it out. */
json_t *bbt_msg_state(const char *session, const char *state, const char *reason, int layer);

json_t *bbt_msg_keyframe(int track);          /* track 0..31 */
json_t *bbt_msg_bye(const char *reason);      /* reason NULL omits it */

/* ---- the track list (publish, published, tracks) ------------------------------------------ */

typedef enum bbt_track_kind {
    BBT_TRACK_VIDEO,
    BBT_TRACK_AUDIO,
    BBT_TRACK_COURSEWARE, /* screen/slides as video at a low frame rate */
} bbt_track_kind;

typedef struct bbt_track_info {
    int id;                         /* 0..31, the track byte of media frames */
    bbt_track_kind kind;
    char codec[BBT_CODEC_MAX + 1];  /* "avc1.42E01F", "opus" */
    int layer;                      /* 0 = lowest quality (default 0) */
    int width, height;              /* video and courseware: > 0; audio: 0 unless given */
    double fps;                     /* 0 when absent */
    int64_t bitrate;                /* bit/s, 0 when absent */
    int sample_rate, channels;      /* audio: sample_rate required, channels default 1 */
} bbt_track_info;

/* Fill out[0..*n) from a "tracks" array (validated here against the track table, so unvalidated
 * input is fine). Rejects (BBT_EMSG_FIELD) duplicate ids, video/courseware without a positive
 * width and height, audio without sample_rate; BBT_EFULL if the array has more than `max`
 * elements; BBT_EINVAL for NULL arguments. err paths start with "tracks". */
int bbt_tracks_from_json(const json_t *tracks_array, bbt_track_info *out, size_t max, size_t *n,
                         char *err, size_t errlen);

/* The "tracks" array for `n` tracks (caller owns), or NULL (allocation failure, n > 32, or a
 * track the table would reject). Zero optional fields are left out; layer is always written. */
json_t *bbt_tracks_to_json(const bbt_track_info *tracks, size_t n);

/* "video" | "audio" | "courseware"; "?" for others. */
const char *bbt_track_kind_name(bbt_track_kind kind);

#endif

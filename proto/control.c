/* proto/control.c — control message parsing and the parameter-table engine (see control.h,
 * docs/PROTOCOL.md §3). The tables themselves are in control_tables.c, the builders and the
 * typed track list in control_build.c. */
#include "control.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_internal.h"
#include "status.h"

#define DESC_MAX 48 /* a described value: "\"...\"" (≤ 32 bytes echoed) or a number */
#define ECHO_MAX 32
#define SCALAR_STRING_MAX 4096 /* elements of an array of strings */

void bbt_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    for (char *p = err; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            *p = '?';
}

static bool utf8_valid(const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t k = bbt_utf8_seq((const unsigned char *)s + i, len - i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

/* ---- describing values and expectations for err ------------------------------------------- */

static bool echoable(const char *s, size_t len)
{
    if (len > ECHO_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
            return false;
    return true;
}

/* What the peer sent, short and printable: 9000, 30.0, "teacher", null, an array of 3 items. */
static const char *describe(const json_t *v, char *buf, size_t n)
{
    switch (json_typeof(v)) {
    case JSON_NULL:
        return "null";
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    case JSON_INTEGER:
        snprintf(buf, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    case JSON_REAL:
        snprintf(buf, n, "%.15g", json_real_value(v));
        if (!strpbrk(buf, ".en"))
            snprintf(buf + strlen(buf), n - strlen(buf), ".0"); /* 30.0 is not the integer 30 */
        return buf;
    case JSON_STRING:
        if (echoable(json_string_value(v), json_string_length(v)))
            snprintf(buf, n, "\"%s\"", json_string_value(v));
        else
            snprintf(buf, n, "a string of %zu bytes", json_string_length(v));
        return buf;
    case JSON_ARRAY:
        snprintf(buf, n, "an array of %zu items", json_array_size(v));
        return buf;
    case JSON_OBJECT:
        return "an object";
    }
    return "?";
}

static void cat(char *buf, size_t n, const char *s)
{
    size_t used = strlen(buf);
    if (used < n)
        snprintf(buf + used, n - used, "%s", s);
}

static void expect_choices(const char *const *c, const char *sep, bool quote, char *buf, size_t n)
{
    for (size_t i = 0; c[i]; i++) {
        if (i > 0)
            cat(buf, n, sep);
        if (quote)
            cat(buf, n, "\"");
        cat(buf, n, c[i]);
        if (quote)
            cat(buf, n, "\"");
    }
}

/* "expected an integer 0..7680" and so on: what the row accepts. */
static void expectation(const bbt_param *p, char *buf, size_t n)
{
    long long lo = (long long)p->min, hi = (long long)p->max;
    buf[0] = '\0';
    switch (p->type) {
    case BBT_PT_STRING:
        if (p->flags & BBT_P_IDENT)
            snprintf(buf, n, "expected 1..%d characters of [A-Za-z0-9_.-]", BBT_IDENT_MAX);
        else if (p->flags & BBT_P_DATE)
            snprintf(buf, n, "expected a date YYYY-MM-DD");
        else if (p->flags & BBT_P_HHMM)
            snprintf(buf, n, "expected a time HH:MM");
        else if (p->choices) {
            cat(buf, n, "expected one of ");
            expect_choices(p->choices, "|", false, buf, n);
        } else
            snprintf(buf, n, "expected a string of %lld..%lld bytes", lo, hi);
        break;
    case BBT_PT_INT:
        if ((p->flags & BBT_P_OR_CHOICE) && p->choices) {
            cat(buf, n, "expected ");
            expect_choices(p->choices, " or ", true, buf, n);
            cat(buf, n, " or ");
        } else
            cat(buf, n, "expected ");
        snprintf(buf + strlen(buf), n - strlen(buf), "an integer %lld..%lld", lo, hi);
        break;
    case BBT_PT_NUMBER:
        snprintf(buf, n, "expected a number %lld..%lld", lo, hi);
        break;
    case BBT_PT_BOOL:
        snprintf(buf, n, "expected true or false");
        break;
    case BBT_PT_OBJECT:
        snprintf(buf, n, "expected an object");
        break;
    case BBT_PT_ARRAY:
        snprintf(buf, n, "expected an array of %lld..%lld items", lo, hi);
        break;
    case BBT_PT_REF:
        snprintf(buf, n, "expected an integer 0..2147483647 or a string of 0..64 bytes");
        break;
    }
}

/* ---- checking one value ------------------------------------------------------------------- */

static bool in_choices(const char *const *c, const char *s, size_t len)
{
    for (size_t i = 0; c && c[i]; i++)
        if (strlen(c[i]) == len && memcmp(c[i], s, len) == 0)
            return true;
    return false;
}

static bool ident_ok(const char *s, size_t len)
{
    if (len < 1 || len > BBT_IDENT_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

/* Parse exactly `len` digits at s; -1 if any is not a digit. */
static int digits(const char *s, size_t len)
{
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static bool date_ok(const char *s, size_t len)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (len != 10 || s[4] != '-' || s[7] != '-')
        return false;
    int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

static bool hhmm_ok(const char *s, size_t len)
{
    if (len != 5 || s[2] != ':')
        return false;
    int h = digits(s, 2), m = digits(s + 3, 2);
    return h >= 0 && h <= 23 && m >= 0 && m <= 59;
}

static bool string_ok(const bbt_param *p, const char *s, size_t len)
{
    if (p->flags & BBT_P_IDENT)
        return ident_ok(s, len);
    if (p->flags & BBT_P_DATE)
        return date_ok(s, len);
    if (p->flags & BBT_P_HHMM)
        return hhmm_ok(s, len);
    if (p->choices)
        return in_choices(p->choices, s, len);
    return (int64_t)len >= p->min && (int64_t)len <= p->max;
}

static bool int_in(const json_t *v, int64_t lo, int64_t hi)
{
    return json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi;
}

/* The scalar shape of a row: true if `v` is acceptable (strings are checked for encoding
 * before this is called). */
static bool scalar_ok(const bbt_param *p, const json_t *v)
{
    switch (p->type) {
    case BBT_PT_STRING:
        return json_is_string(v) && string_ok(p, json_string_value(v), json_string_length(v));
    case BBT_PT_INT:
        if ((p->flags & BBT_P_OR_CHOICE) && json_is_string(v))
            return in_choices(p->choices, json_string_value(v), json_string_length(v));
        return int_in(v, p->min, p->max);
    case BBT_PT_NUMBER: {
        if (!json_is_number(v))
            return false;
        double d = json_number_value(v);
        return isfinite(d) && d >= (double)p->min && d <= (double)p->max;
    }
    case BBT_PT_BOOL:
        return json_is_boolean(v);
    case BBT_PT_REF:
        if (json_is_string(v))
            return json_string_length(v) <= 64;
        return int_in(v, 0, 2147483647);
    case BBT_PT_OBJECT:
        return json_is_object(v);
    case BBT_PT_ARRAY:
        return json_is_array(v) && (int64_t)json_array_size(v) >= p->min &&
               (int64_t)json_array_size(v) <= p->max;
    }
    return false;
}

static int validate_object(const bbt_param *table, const json_t *obj, const char *path,
                           char *err, size_t errlen);

/* The elements of an array row: objects of p->fields, or scalars of type p->item. */
static int check_elements(const bbt_param *p, const json_t *arr, const char *path, char *err,
                          size_t errlen)
{
    bool str = p->item == BBT_PT_STRING;
    const bbt_param scalar = {p->name, p->item, 0, str ? 0 : -BBT_JSON_INT_MAX,
                              str ? SCALAR_STRING_MAX : BBT_JSON_INT_MAX, NULL, NULL, 0};
    const bbt_param *elem = p->fields ? &(bbt_param){p->name, BBT_PT_OBJECT, 0, 0, 0,
                                                     p->fields, NULL, BBT_PT_STRING}
                                      : &scalar;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        char sub[BBT_PATH_MAX];
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        int rc = bbt_param_check(elem, json_array_get(arr, i), sub, err, errlen);
        if (rc != BBT_OK)
            return rc;
    }
    return BBT_OK;
}

int bbt_param_check(const bbt_param *p, const json_t *v, const char *path, char *err,
                    size_t errlen)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        if (memchr(s, '\0', len)) {
            bbt_errf(err, errlen, "%s: contains a NUL character", path);
            return BBT_EMSG_FIELD;
        }
        if (!utf8_valid(s, len)) {
            bbt_errf(err, errlen, "%s: not valid UTF-8", path);
            return BBT_EMSG_FIELD;
        }
    }
    if (!scalar_ok(p, v)) {
        char want[160], got[DESC_MAX];
        expectation(p, want, sizeof want);
        bbt_errf(err, errlen, "%s%s%s, got %s", path, *path ? ": " : "", want,
                 describe(v, got, sizeof got));
        return BBT_EMSG_FIELD;
    }
    if (p->type == BBT_PT_OBJECT && p->fields)
        return validate_object(p->fields, v, path, err, errlen);
    if (p->type == BBT_PT_ARRAY)
        return check_elements(p, v, path, err, errlen);
    return BBT_OK;
}

static int validate_object(const bbt_param *table, const json_t *obj, const char *path,
                           char *err, size_t errlen)
{
    for (const bbt_param *p = table; p->name; p++) {
        const json_t *v = json_object_get(obj, p->name);
        if (!v) {
            if (!(p->flags & BBT_P_REQUIRED))
                continue;
            bbt_errf(err, errlen, "%s%smissing required field \"%s\"", path, *path ? ": " : "",
                     p->name);
            return BBT_EMSG_FIELD;
        }
        if (json_is_null(v) && (p->flags & BBT_P_NULLABLE))
            continue;
        char sub[BBT_PATH_MAX];
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", p->name);
        int rc = bbt_param_check(p, v, sub, err, errlen);
        if (rc != BBT_OK)
            return rc;
    }
    return BBT_OK;
}

int bbt_params_validate(const bbt_param *table, const json_t *obj, const char *path, char *err,
                        size_t errlen)
{
    if (!table || !obj)
        return BBT_EINVAL;
    const bbt_param whole = {path ? path : "", BBT_PT_OBJECT, 0, 0, 0, table, NULL, 0};
    return bbt_param_check(&whole, obj, path ? path : "", err, errlen);
}

/* ---- messages ----------------------------------------------------------------------------- */

const char *bbt_msg_type_name(bbt_msg_type type)
{
    const struct bbt_msg_spec *s = bbt_msg_spec_get(type);
    return s ? s->name : "?";
}

static bbt_msg_type type_from_namen(const char *name, size_t len)
{
    for (int t = 0; t < BBT_MSG__COUNT; t++) {
        const char *n = bbt_msg_spec_get((bbt_msg_type)t)->name;
        if (strlen(n) == len && memcmp(n, name, len) == 0)
            return (bbt_msg_type)t;
    }
    return BBT_MSG__COUNT;
}

bbt_msg_type bbt_msg_type_from_name(const char *name)
{
    return name ? type_from_namen(name, strlen(name)) : BBT_MSG__COUNT;
}

/* Find the type of the object `m`: BBT_OK or BBT_EMSG_TYPE. */
static int classify(const json_t *m, bbt_msg_type *type, char *err, size_t errlen)
{
    const json_t *t = json_object_get(m, "type");
    char got[DESC_MAX];
    if (!t) {
        bbt_errf(err, errlen, "missing required field \"type\"");
        return BBT_EMSG_TYPE;
    }
    if (!json_is_string(t)) {
        bbt_errf(err, errlen, "type: expected a string, got %s", describe(t, got, sizeof got));
        return BBT_EMSG_TYPE;
    }
    bbt_msg_type mt = type_from_namen(json_string_value(t), json_string_length(t));
    if (mt == BBT_MSG__COUNT) {
        bbt_errf(err, errlen, "type: unknown message type %s", describe(t, got, sizeof got));
        return BBT_EMSG_TYPE;
    }
    *type = mt;
    return BBT_OK;
}

static bool declares(const bbt_param *table, const char *name)
{
    for (const bbt_param *p = table; p->name; p++)
        if (strcmp(p->name, name) == 0)
            return true;
    return false;
}

/* Envelope, then the type's table, then its cross-field rule. */
static int validate_as(bbt_msg_type type, const json_t *m, char *err, size_t errlen)
{
    const struct bbt_msg_spec *s = bbt_msg_spec_get(type);
    int rc = BBT_OK;
    for (const bbt_param *p = bbt_envelope_params; rc == BBT_OK && p->name; p++) {
        const json_t *v = json_object_get(m, p->name);
        char sub[BBT_PATH_MAX];
        snprintf(sub, sizeof sub, "%s.%s", s->name, p->name);
        if (v && !declares(s->params, p->name)) /* a type may redeclare it (error.ref_id) */
            rc = bbt_param_check(p, v, sub, err, errlen);
    }
    if (rc == BBT_OK)
        rc = validate_object(s->params, m, s->name, err, errlen);
    if (rc == BBT_OK && s->check)
        rc = s->check(m, s->name, err, errlen);
    return rc;
}

int bbt_control_validate(bbt_msg_type type, const json_t *msg, char *err, size_t errlen)
{
    if (!msg || !bbt_msg_spec_get(type))
        return BBT_EINVAL;
    char got[DESC_MAX];
    if (!json_is_object(msg)) {
        bbt_errf(err, errlen, "expected a JSON object, got %s", describe(msg, got, sizeof got));
        return BBT_EMSG_JSON;
    }
    bbt_msg_type actual;
    int rc = classify(msg, &actual, err, errlen);
    if (rc != BBT_OK)
        return rc;
    if (actual != type) {
        bbt_errf(err, errlen, "type: expected \"%s\", got \"%s\"", bbt_msg_type_name(type),
                 bbt_msg_type_name(actual));
        return BBT_EMSG_TYPE;
    }
    return validate_as(type, msg, err, errlen);
}

/* Nesting depth of the raw text, counting brackets outside strings, without parsing or
 * allocating: BBT_EMSG_DEPTH as soon as it exceeds max. For valid JSON this is exactly the
 * parser's depth; for invalid JSON it does not matter (the parser rejects it next). */
static int scan_depth(const char *s, size_t n, int max)
{
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max)
                return BBT_EMSG_DEPTH;
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return BBT_OK;
}

/* Size, depth, then jansson: the parsed object (caller owns) or NULL with rc set. */
static json_t *load(const char *text, size_t len, const bbt_control_limits *lim, int *rc,
                    char *err, size_t errlen)
{
    size_t max_bytes = lim && lim->max_bytes ? lim->max_bytes : BBT_CONTROL_DEFAULT_MAX_BYTES;
    int max_depth = lim && lim->max_depth > 0 ? lim->max_depth : BBT_CONTROL_DEFAULT_MAX_DEPTH;
    if (len > max_bytes) {
        bbt_errf(err, errlen, "message of %zu bytes exceeds the limit of %zu bytes", len,
                 max_bytes);
        *rc = BBT_EMSG_TOO_BIG;
        return NULL;
    }
    if (scan_depth(text, len, max_depth) != BBT_OK) {
        bbt_errf(err, errlen, "nested deeper than %d levels", max_depth);
        *rc = BBT_EMSG_DEPTH;
        return NULL;
    }
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        /* jansson returns NULL without an error text when an allocation fails mid-parse */
        bool oom = json_error_code(&je) == json_error_out_of_memory || je.text[0] == '\0';
        if (oom) {
            bbt_errf(err, errlen, "out of memory while parsing");
            *rc = BBT_ENOMEM;
            return NULL;
        }
        *rc = BBT_EMSG_JSON;
        bbt_errf(err, errlen, "invalid JSON at line %d column %d: %s", je.line, je.column,
                 je.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        char got[DESC_MAX];
        bbt_errf(err, errlen, "expected a JSON object, got %s", describe(root, got, sizeof got));
        json_decref(root);
        *rc = BBT_EMSG_JSON;
        return NULL;
    }
    *rc = BBT_OK;
    return root;
}

int bbt_control_parse(const char *text, size_t len, const bbt_control_limits *lim,
                      bbt_msg_type *type, json_t **msg, char *err, size_t errlen)
{
    if (msg)
        *msg = NULL;
    if (type)
        *type = BBT_MSG__COUNT;
    if (!text || !type || !msg) {
        bbt_errf(err, errlen, "invalid argument");
        return BBT_EINVAL;
    }
    int rc;
    json_t *root = load(text, len, lim, &rc, err, errlen);
    if (!root)
        return rc;
    bbt_msg_type t;
    rc = classify(root, &t, err, errlen);
    if (rc == BBT_OK) {
        *type = t;
        rc = validate_as(t, root, err, errlen);
    }
    if (rc != BBT_OK) {
        json_decref(root);
        return rc;
    }
    *msg = root;
    if (err && errlen)
        err[0] = '\0';
    return BBT_OK;
}

char *bbt_control_dump(const json_t *msg, size_t *len)
{
    char *s = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    if (len)
        *len = s ? strlen(s) : 0;
    return s;
}

int bbt_msg_echo_id(json_t *reply, const json_t *request)
{
    if (!json_is_object(reply) || !json_is_object(request))
        return BBT_EINVAL;
    const json_t *id = json_object_get(request, "id");
    if (!id)
        return BBT_OK;
    json_t *copy = json_deep_copy(id);
    if (!copy || json_object_set_new(reply, "ref_id", copy) != 0)
        return BBT_ENOMEM;
    return BBT_OK;
}

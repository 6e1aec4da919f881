/* config/value.c — one value of a directive: parse, check, store, describe (see value.h). */
#include "value.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/status.h"
#include "proto/utf8.h"

static size_t seq_len(unsigned char b)
{
    return b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
}

/* `s` in double quotes for a message: at most ~48 bytes, never cutting a UTF-8 character,
 * with ", \ and control characters escaped, "..." appended if cut. buflen >= 16. */
const char *bbt_cfg_quote(const char *s, char *buf, size_t buflen)
{
    size_t o = 0, i = 0;
    buf[o++] = '"';
    while (s[i] && i < 48) {
        unsigned char ch = (unsigned char)s[i];
        size_t l = seq_len(ch), k = 1;
        while (k < l && s[i + k])
            k++;
        if (o + k + 8 > buflen)
            break;
        if (ch == '"' || ch == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)ch;
        } else if (ch < 0x20 || ch == 0x7f) {
            o += (size_t)snprintf(buf + o, buflen - o, "\\x%02x", ch);
        } else {
            memcpy(buf + o, s + i, k);
            o += k;
        }
        i += k;
    }
    if (s[i]) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

/* Index of the first byte of s[0..len) that is a control character (tab excepted) or not
 * valid UTF-8 (overlong forms, surrogates and code points above U+10FFFF included); len if
 * none. */
size_t bbt_cfg_bad_byte(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return i;
            i++;
            continue;
        }
        size_t l = bbt_utf8_seq(s + i, len - i);
        if (l == 0)
            return i;
        i += l;
    }
    return len;
}

/* Describes the byte that bad_byte() found at s[i]. */
void bbt_cfg_bad_byte_text(const char *s, size_t i, bool in_file, char *buf, size_t buflen)
{
    unsigned char ch = (unsigned char)s[i];
    const char *of = in_file ? "" : " of the value";
    if (ch == 0)
        snprintf(buf, buflen, "NUL byte at byte %zu%s", i + 1, of);
    else if (ch == '\r')
        snprintf(buf, buflen, "carriage return at byte %zu%s (line ends must be LF or CRLF)", i + 1,
                 of);
    else if (ch < 0x20 || ch == 0x7f)
        snprintf(buf, buflen, "control character 0x%02x at byte %zu%s", ch, i + 1, of);
    else
        snprintf(buf, buflen, "invalid UTF-8 at byte %zu%s%s", i + 1, of,
                 in_file ? " (save the file as UTF-8, not GBK)" : "");
}

void *bbt_cfg_alloc(const bbt_config_opts *o, size_t size)
{
    return o && o->alloc ? o->alloc(size, o->alloc_ud) : malloc(size);
}

bool bbt_cfg_is_string(enum bbt_cfg_type t)
{
    return t == BBT_CFG_STRING || t == BBT_CFG_PATH || t == BBT_CFG_LIST;
}

char **bbt_cfg_string_field(const bbt_directive *d, void *dest)
{
    return (char **)(void *)((char *)dest + d->offset);
}
/* Decimal digits at s (at least one) into *v, failing above `limit`; returns the end or NULL. */
static const char *parse_digits(const char *s, uint64_t limit, uint64_t *v)
{
    if (*s < '0' || *s > '9')
        return NULL;
    *v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (*v > (limit - d) / 10)
            return NULL;
        *v = *v * 10 + d;
    }
    return s;
}

static bool parse_int(const char *s, int64_t *out)
{
    bool neg = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    uint64_t v;
    s = parse_digits(s, neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, &v);
    if (!s || *s)
        return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* A number with an optional unit from `units` (matched in any case): into v * its factor. */
static bool parse_scaled(const char *s, const char *const *units, const int64_t *factor,
                         int64_t *out)
{
    uint64_t v;
    s = parse_digits(s, INT64_MAX, &v);
    if (!s)
        return false;
    for (size_t i = 0; units[i]; i++)
        if (strcasecmp(s, units[i]) == 0) {
            if (v > (uint64_t)(INT64_MAX / factor[i]))
                return false;
            *out = (int64_t)v * factor[i];
            return true;
        }
    return false;
}

static bool parse_size(const char *s, int64_t *out)
{
    static const char *const units[] = {"", "k", "m", "g", NULL};
    static const int64_t factor[] = {1, 1 << 10, 1 << 20, 1 << 30};
    return parse_scaled(s, units, factor, out);
}

static bool parse_duration(const char *s, int64_t *out)
{
    static const char *const units[] = {"", "ms", "s", "m", "h", NULL};
    static const int64_t factor[] = {1, 1, 1000, 60000, 3600000};
    return parse_scaled(s, units, factor, out);
}

/* [+-]digits[.digits], at most 15 significant digits and 15 decimals, so that the result is
 * the correctly rounded double (an exact integer divided by an exact power of ten). */
static bool parse_double(const char *s, double *out)
{
    static const double p10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    bool neg = *s == '-', dot = false;
    if (*s == '-' || *s == '+')
        s++;
    if (*s < '0' || *s > '9')
        return false;
    uint64_t m = 0;
    int sig = 0, frac = 0;
    for (; *s; s++) {
        if (*s == '.' && !dot && s[1] >= '0' && s[1] <= '9') {
            dot = true;
            continue;
        }
        if (*s < '0' || *s > '9')
            return false;
        if ((m > 0 || *s != '0') && ++sig > 15)
            return false;
        if (dot && ++frac > 15)
            return false;
        m = m * 10 + (uint64_t)(*s - '0');
    }
    double v = (double)m / p10[frac];
    *out = neg ? -v : v;
    return true;
}

static bool parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no",
                                                                               "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
            *out = strcasecmp(s, yes[i]) == 0;
            return true;
        }
    }
    return false;
}

static bool parse_enum(const char *const *choices, const char *s, int *out)
{
    for (int i = 0; choices && choices[i]; i++)
        if (strcasecmp(s, choices[i]) == 0) {
            *out = i;
            return true;
        }
    return false;
}

static bool unbounded(const bbt_directive *d)
{
    return d->min == 0 && d->max == 0;
}

static bool in_range(const bbt_directive *d, int64_t v)
{
    return unbounded(d) || (v >= d->min && v <= d->max);
}

static void fmt_size(int64_t v, char *buf, size_t buflen)
{
    static const char units[] = "GMk";
    for (int i = 0; i < 3; i++) {
        int64_t f = (int64_t)1 << (30 - 10 * i);
        if (v != 0 && v % f == 0) {
            snprintf(buf, buflen, "%" PRId64 "%c", v / f, units[i]);
            return;
        }
    }
    snprintf(buf, buflen, "%" PRId64, v);
}

static void fmt_duration(int64_t v, char *buf, size_t buflen)
{
    static const int64_t f[] = {3600000, 60000, 1000};
    static const char *const units[] = {"h", "m", "s"};
    for (int i = 0; i < 3; i++)
        if (v != 0 && v % f[i] == 0) {
            snprintf(buf, buflen, "%" PRId64 "%s", v / f[i], units[i]);
            return;
        }
    snprintf(buf, buflen, v ? "%" PRId64 "ms" : "%" PRId64, v);
}

void bbt_config_describe_range(const bbt_directive *d, char *buf, size_t buflen)
{
    char a[32], b[32];
    buf[0] = '\0';
    if (d->type == BBT_CFG_ENUM) {
        size_t o = 0;
        for (size_t i = 0; d->choices && d->choices[i] && o < buflen; i++)
            o += (size_t)snprintf(buf + o, buflen - o, "%s%s", i ? ", " : "", d->choices[i]);
        return;
    }
    if (d->type == BBT_CFG_BOOL || unbounded(d))
        return;
    if (d->type == BBT_CFG_SIZE || d->type == BBT_CFG_DURATION) {
        void (*fmt)(int64_t, char *, size_t) = d->type == BBT_CFG_SIZE ? fmt_size : fmt_duration;
        fmt(d->min, a, sizeof a);
        fmt(d->max, b, sizeof b);
        snprintf(buf, buflen, "%s..%s", a, b);
    } else if (d->type == BBT_CFG_DOUBLE) {
        snprintf(buf, buflen, "%g..%g", (double)d->min / 1e6, (double)d->max / 1e6);
    } else {
        snprintf(buf, buflen, "%" PRId64 "..%" PRId64 "%s", d->min, d->max,
                 bbt_cfg_is_string(d->type) ? " bytes" : "");
    }
}

/* "an integer 1..65535": what a value of d must look like, for messages. */
static void expected(const bbt_directive *d, char *buf, size_t buflen)
{
    char r[256];
    bbt_config_describe_range(d, r, sizeof r);
    const char *sp = r[0] ? " " : "";
    switch (d->type) {
    case BBT_CFG_INT: snprintf(buf, buflen, "an integer%s%s", sp, r); break;
    case BBT_CFG_SIZE:
        snprintf(buf, buflen, "a size%s%s (bytes, or a number with k, M or G)", sp, r);
        break;
    case BBT_CFG_DURATION:
        snprintf(buf, buflen, "a duration%s%s (a number with ms, s, m or h; a bare number is ms)",
                 sp, r);
        break;
    case BBT_CFG_BOOL: snprintf(buf, buflen, "true or false (or yes/no, on/off, 1/0)"); break;
    case BBT_CFG_ENUM: snprintf(buf, buflen, "one of %s", r); break;
    case BBT_CFG_DOUBLE: snprintf(buf, buflen, "a number%s%s", sp, r); break;
    default: snprintf(buf, buflen, "a string of %s", r); break;
    }
}

static int run_check(const bbt_directive *d, const char *text, char *msg, size_t msglen)
{
    if (!d->check)
        return BBT_OK;
    char why[512] = "";
    int rc = d->check(text, why, sizeof why);
    if (rc == BBT_OK)
        return BBT_OK;
    snprintf(msg, msglen, "[%s] %s: %s", d->section, d->key, why[0] ? why : "invalid value");
    return rc == BBT_ENOMEM ? BBT_ENOMEM : BBT_ECONFIG_VALUE;
}

static int parse_string(const bbt_config_opts *opts, const bbt_directive *d, const char *text,
                        union bbt_cfg_value *v, char *msg, size_t msglen)
{
    size_t len = strlen(text);
    if (!in_range(d, (int64_t)len)) {
        char exp[512];
        expected(d, exp, sizeof exp);
        snprintf(msg, msglen, "[%s] %s: expected %s, got %zu byte%s", d->section, d->key, exp, len,
                 len == 1 ? "" : "s");
        return BBT_ECONFIG_VALUE;
    }
    int rc = run_check(d, text, msg, msglen);
    if (rc != BBT_OK)
        return rc;
    v->s = bbt_cfg_alloc(opts, len + 1);
    if (!v->s) {
        snprintf(msg, msglen, "out of memory");
        return BBT_ENOMEM;
    }
    memcpy(v->s, text, len + 1);
    return BBT_OK;
}

int bbt_cfg_parse(const bbt_config_opts *opts, const bbt_directive *d, const char *text,
                  union bbt_cfg_value *v, char *msg, size_t msglen)
{
    bool ok;
    switch (d->type) {
    case BBT_CFG_INT: ok = parse_int(text, &v->i) && in_range(d, v->i); break;
    case BBT_CFG_SIZE: ok = parse_size(text, &v->i) && in_range(d, v->i); break;
    case BBT_CFG_DURATION: ok = parse_duration(text, &v->i) && in_range(d, v->i); break;
    case BBT_CFG_BOOL: ok = parse_bool(text, &v->b); break;
    case BBT_CFG_ENUM: ok = parse_enum(d->choices, text, &v->e); break;
    case BBT_CFG_DOUBLE:
        ok = parse_double(text, &v->d) &&
             (unbounded(d) || (v->d >= (double)d->min / 1e6 && v->d <= (double)d->max / 1e6));
        break;
    case BBT_CFG_STRING:
    case BBT_CFG_PATH:
    case BBT_CFG_LIST: return parse_string(opts, d, text, v, msg, msglen);
    default:
        snprintf(msg, msglen, "[%s] %s: unknown type in the table", d->section, d->key);
        return BBT_EINVAL;
    }
    if (!ok) {
        char exp[512], q[128];
        expected(d, exp, sizeof exp);
        snprintf(msg, msglen, "[%s] %s: expected %s, got %s", d->section, d->key, exp,
                 bbt_cfg_quote(text, q, sizeof q));
        return BBT_ECONFIG_VALUE;
    }
    return run_check(d, text, msg, msglen);
}

/* Writes v into dest (taking ownership of a string, freeing the one it replaces). */
void bbt_cfg_store(const bbt_directive *d, void *dest, const union bbt_cfg_value *v)
{
    char *p = (char *)dest + d->offset;
    switch (d->type) {
    case BBT_CFG_INT:
    case BBT_CFG_SIZE:
    case BBT_CFG_DURATION: memcpy(p, &v->i, sizeof v->i); break;
    case BBT_CFG_BOOL: memcpy(p, &v->b, sizeof v->b); break;
    case BBT_CFG_ENUM: memcpy(p, &v->e, sizeof v->e); break;
    case BBT_CFG_DOUBLE: memcpy(p, &v->d, sizeof v->d); break;
    default:
        free(*bbt_cfg_string_field(d, dest));
        *bbt_cfg_string_field(d, dest) = v->s;
        break;
    }
}

/* Markdown table cell text: '|' escaped, the help's line break as <br>. */
static void put_cell(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else if (*s == '\n')
            fputs("<br>", out);
        else
            fputc(*s, out);
    }
}

int bbt_config_describe(FILE *out, const bbt_directive *table, size_t n)
{
    static const char *const type_names[] = {"string", "integer", "boolean", "size", "duration",
                                             "choice", "number",  "path",    "list"};
    if (!out || (!table && n))
        return BBT_EINVAL;
    for (size_t i = 0; i < n; i++) {
        const bbt_directive *d = &table[i];
        char range[512];
        if (i == 0 || strcmp(table[i - 1].section, d->section) != 0)
            fprintf(out, "%s#### [%s]\n\n| key | type | default | range | 说明 / description |\n"
                         "|---|---|---|---|---|\n",
                    i ? "\n" : "", d->section);
        bbt_config_describe_range(d, range, sizeof range);
        const char *def = d->def ? d->def : "";
        fprintf(out, "| `%s` | %s | `%s%s%s` | ", d->key,
                (unsigned)d->type <= BBT_CFG_LIST ? type_names[d->type] : "?", *def ? "" : "\"",
                def, *def ? "" : "\"");
        put_cell(out, range);
        fputs(" | ", out);
        put_cell(out, d->help ? d->help : "");
        fputs(" |\n", out);
    }
    return ferror(out) ? BBT_EIO : BBT_OK;
}

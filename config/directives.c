/* config/directives.c — the table-driven INI loader (see directives.h, docs/CONFIG.md). */
#include "directives.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "proto/status.h"
#include "value.h"

const char *const bbt_cfg_log_levels[] = {"error", "warn", "info", "debug", NULL};

/* ---- error messages --------------------------------------------------------------------- */

enum src_kind { SRC_FILE, SRC_SET, SRC_DEFAULT, SRC_TABLE };

/* What an operation works on, and where it is, for the prefix of every error message. */
struct ctx {
    const bbt_config_opts *opts;
    const bbt_directive *table;
    size_t n;
    void *dest;
    char *err;
    size_t errlen;
    enum src_kind kind;
    const char *name; /* SRC_FILE: the file name */
    unsigned line;    /* SRC_FILE: 1-based line, 0 for the whole file */
};

__attribute__((format(printf, 3, 4))) static int fail(struct ctx *c, int code, const char *fmt,
                                                      ...)
{
    if (!c->err || c->errlen == 0)
        return code;
    int k;
    if (c->kind == SRC_SET)
        k = snprintf(c->err, c->errlen, "--set: ");
    else if (c->kind == SRC_DEFAULT)
        k = snprintf(c->err, c->errlen, "built-in default: ");
    else if (c->kind == SRC_TABLE)
        k = snprintf(c->err, c->errlen, "table: ");
    else if (c->line)
        k = snprintf(c->err, c->errlen, "%s:%u: ", c->name, c->line);
    else
        k = snprintf(c->err, c->errlen, "%s: ", c->name);
    if (k >= 0 && (size_t)k < c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err + k, c->errlen - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return code;
}

static void clear_err(char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
}

/* A hint for lines typed with a Chinese input method still in full-width mode. */
static const char *fullwidth_hint(const char *s)
{
    if (strstr(s, "\xef\xbc\x9d"))
        return " (use an ASCII '=', not a full-width '\xef\xbc\x9d')";
    if (strstr(s, "\xef\xbc\xbb") || strstr(s, "\xe3\x80\x90"))
        return " (use ASCII '[' and ']', not full-width brackets)";
    if (strstr(s, "\xe3\x80\x80"))
        return " (remove the full-width space)";
    return "";
}

/* ---- values ----------------------------------------------------------------------------- */

static void null_strings(const bbt_directive *t, size_t n, void *dest)
{
    for (size_t i = 0; i < n; i++)
        if (bbt_cfg_is_string(t[i].type))
            *bbt_cfg_string_field(&t[i], dest) = NULL;
}

static int parse_value(struct ctx *c, const bbt_directive *d, const char *text,
                       union bbt_cfg_value *v)
{
    char msg[768];
    int rc = bbt_cfg_parse(c->opts, d, text, v, msg, sizeof msg);
    return rc == BBT_OK ? BBT_OK : fail(c, rc, "%s", msg);
}

/* ---- names and hints -------------------------------------------------------------------- */

static bool valid_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-'))
            return false;
    return true;
}

static const bbt_directive *find_key(const struct ctx *c, const char *section, const char *key,
                                     size_t *idx)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->table[i].section, section) == 0 && strcmp(c->table[i].key, key) == 0) {
            if (idx)
                *idx = i;
            return &c->table[i];
        }
    return NULL;
}

static const char *find_section(const struct ctx *c, const char *section)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->table[i].section, section) == 0)
            return c->table[i].section;
    return NULL;
}

/* Levenshtein distance, for names up to 63 bytes (longer ones are "far"). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[64];
    if (la > 63 || lb > 63)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb];
}

static void section_hint(const struct ctx *c, const char *section, char *buf, size_t buflen)
{
    size_t best = 3, o = 0;
    const char *near = NULL;
    buf[0] = '\0';
    for (size_t i = 0; i < c->n; i++) {
        size_t dist = edit_distance(section, c->table[i].section);
        if (dist < best) {
            best = dist;
            near = c->table[i].section;
        }
    }
    if (near) {
        snprintf(buf, buflen, " (did you mean [%s]?)", near);
        return;
    }
    for (size_t i = 0; i < c->n && o < buflen; i++)
        if (i == 0 || strcmp(c->table[i - 1].section, c->table[i].section) != 0)
            o += (size_t)snprintf(buf + o, buflen - o, "%s[%s]", o ? ", " : " (sections: ",
                                  c->table[i].section);
    if (o && o + 1 < buflen)
        strcat(buf, ")");
}

static void key_hint(const struct ctx *c, const char *section, const char *key, char *buf,
                     size_t buflen)
{
    size_t best = 3;
    const char *near = NULL;
    buf[0] = '\0';
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->table[i].key, key) == 0) {
            snprintf(buf, buflen, " (it belongs in [%s])", c->table[i].section);
            return;
        }
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->table[i].section, section) != 0)
            continue;
        size_t dist = edit_distance(key, c->table[i].key);
        if (dist < best) {
            best = dist;
            near = c->table[i].key;
        }
    }
    if (near)
        snprintf(buf, buflen, " (did you mean \"%s\"?)", near);
}

static int unknown_key(struct ctx *c, const char *section, const char *key)
{
    char hint[256];
    if (!find_section(c, section)) {
        section_hint(c, section, hint, sizeof hint);
        return fail(c, BBT_ECONFIG_KEY, "unknown section [%s]%s", section, hint);
    }
    key_hint(c, section, key, hint, sizeof hint);
    return fail(c, BBT_ECONFIG_KEY, "unknown key [%s] %s%s", section, key, hint);
}

/* ---- lines ------------------------------------------------------------------------------ */

struct load {
    struct ctx c;
    const char *section; /* the table's name of the current section, NULL before the first */
    unsigned *seen;      /* per directive: the line that set it, 0 if none */
};

static char *skip_ws(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static char *trim(char *s)
{
    s = skip_ws(s);
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

static bool is_comment(const char *s)
{
    return *s == '\0' || *s == '#' || *s == ';';
}

static int parse_section(struct load *l, char *s)
{
    char q[128], *close = strchr(s, ']');
    if (!close)
        return fail(&l->c, BBT_ECONFIG_SYNTAX, "expected ']' to close the section name");
    *close = '\0';
    char *rest = skip_ws(close + 1), *name = trim(s + 1);
    if (!is_comment(rest))
        return fail(&l->c, BBT_ECONFIG_SYNTAX, "unexpected text after ']': %s",
                    bbt_cfg_quote(rest, q, sizeof q));
    if (!valid_name(name))
        return fail(&l->c, BBT_ECONFIG_SYNTAX,
                    "invalid section name %s (letters, digits, '_' and '-' only)%s",
                    bbt_cfg_quote(name, q, sizeof q), fullwidth_hint(name));
    l->section = find_section(&l->c, name);
    return l->section ? BBT_OK : unknown_key(&l->c, name, "");
}

/* The value after '=' at s, unquoted and with any comment removed, into *out (in place). */
static int read_value(struct load *l, char *s, char **out)
{
    char q[128], *w, *r;
    s = skip_ws(s);
    if (*s != '"') {
        for (size_t i = 0; s[i]; i++)
            if ((s[i] == '#' || s[i] == ';') && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t')) {
                s[i] = '\0';
                break;
            }
        *out = trim(s);
        return BBT_OK;
    }
    for (w = s, r = s + 1; *r != '"'; *w++ = *r++) {
        if (*r == '\\') {
            r++;
            if (*r && *r != '"' && *r != '\\')
                return fail(&l->c, BBT_ECONFIG_SYNTAX,
                            "unknown escape in a quoted value: only \\\" and \\\\ are allowed");
        }
        if (*r == '\0')
            return fail(&l->c, BBT_ECONFIG_SYNTAX, "unterminated quoted value: add the closing \"");
    }
    *w = '\0';
    r = skip_ws(r + 1);
    if (!is_comment(r))
        return fail(&l->c, BBT_ECONFIG_SYNTAX, "unexpected text after the closing quote: %s",
                    bbt_cfg_quote(r, q, sizeof q));
    *out = s;
    return BBT_OK;
}

static int parse_assignment(struct load *l, char *s)
{
    char q[128], *eq = strchr(s, '='), *value = NULL;
    if (!eq)
        return fail(&l->c, BBT_ECONFIG_SYNTAX,
                    "expected [section], key = value or a comment, got %s%s", bbt_cfg_quote(s, q, sizeof q),
                    fullwidth_hint(s));
    *eq = '\0';
    char *key = trim(s);
    if (!*key)
        return fail(&l->c, BBT_ECONFIG_SYNTAX, "missing key before '='");
    if (!valid_name(key))
        return fail(&l->c, BBT_ECONFIG_SYNTAX, "invalid key %s (letters, digits, '_' and '-' only)%s",
                    bbt_cfg_quote(key, q, sizeof q), fullwidth_hint(key));
    if (!l->section)
        return fail(&l->c, BBT_ECONFIG_SYNTAX,
                    "key \"%s\" is outside any section: put a [section] line above it", key);
    int rc = read_value(l, eq + 1, &value);
    if (rc != BBT_OK)
        return rc;
    size_t idx;
    const bbt_directive *d = find_key(&l->c, l->section, key, &idx);
    if (!d)
        return unknown_key(&l->c, l->section, key);
    if (l->seen[idx])
        return fail(&l->c, BBT_ECONFIG_KEY, "[%s] %s is set twice (first on line %u)", d->section,
                    d->key, l->seen[idx]);
    union bbt_cfg_value v;
    rc = parse_value(&l->c, d, value, &v);
    if (rc != BBT_OK)
        return rc;
    bbt_cfg_store(d, l->c.dest, &v);
    l->seen[idx] = l->c.line;
    return BBT_OK;
}

static int parse_lines(struct load *l, const char *text, size_t len)
{
    char line[BBT_CONFIG_MAX_LINE + 1], what[160];
    size_t pos = len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    for (l->c.line = 1; pos < len; l->c.line++) {
        const char *start = text + pos, *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        pos += n + (nl != NULL);
        if (n > 0 && start[n - 1] == '\r')
            n--;
        if (n > BBT_CONFIG_MAX_LINE)
            return fail(&l->c, BBT_ECONFIG_SYNTAX, "line longer than %d bytes", BBT_CONFIG_MAX_LINE);
        size_t bad = bbt_cfg_bad_byte((const unsigned char *)start, n);
        if (bad < n) {
            bbt_cfg_bad_byte_text(start, bad, true, what, sizeof what);
            return fail(&l->c, BBT_ECONFIG_SYNTAX, "%s", what);
        }
        memcpy(line, start, n);
        line[n] = '\0';
        char *s = skip_ws(line);
        int rc = is_comment(s) ? BBT_OK : *s == '[' ? parse_section(l, s) : parse_assignment(l, s);
        if (rc != BBT_OK)
            return rc;
    }
    return BBT_OK;
}

/* ---- entry points ----------------------------------------------------------------------- */

static int apply_defaults(struct ctx *c)
{
    c->kind = SRC_DEFAULT;
    for (size_t i = 0; i < c->n; i++) {
        union bbt_cfg_value v;
        int rc = parse_value(c, &c->table[i], c->table[i].def ? c->table[i].def : "", &v);
        if (rc != BBT_OK)
            return rc;
        bbt_cfg_store(&c->table[i], c->dest, &v);
    }
    c->kind = SRC_FILE;
    return BBT_OK;
}

int bbt_config_load_buffer_ex(const bbt_config_opts *opts, const char *name, const char *text,
                              size_t len, const bbt_directive *table, size_t n, void *dest,
                              char *err, size_t errlen)
{
    struct load l = {.c = {opts, table, n, dest, err, errlen, SRC_FILE, name ? name : "config", 0}};
    clear_err(err, errlen);
    if (!dest || (!table && n) || (!text && len))
        return fail(&l.c, BBT_EINVAL, "invalid arguments");
    null_strings(table, n, dest);
    if (len > BBT_CONFIG_MAX_FILE)
        return fail(&l.c, BBT_ECONFIG_FILE, "larger than 1 MiB (%zu bytes)", len);
    int rc = apply_defaults(&l.c);
    if (rc == BBT_OK && n > 0) {
        l.seen = bbt_cfg_alloc(opts, n * sizeof *l.seen);
        if (l.seen)
            memset(l.seen, 0, n * sizeof *l.seen);
        else
            rc = fail(&l.c, BBT_ENOMEM, "out of memory");
    }
    if (rc == BBT_OK && len > 0)
        rc = parse_lines(&l, text, len);
    free(l.seen);
    if (rc != BBT_OK)
        bbt_config_free(table, n, dest);
    return rc;
}

int bbt_config_load_buffer(const char *name, const char *text, size_t len,
                           const bbt_directive *table, size_t n, void *dest, char *err,
                           size_t errlen)
{
    return bbt_config_load_buffer_ex(NULL, name, text, len, table, n, dest, err, errlen);
}

/* Reads the whole file (at most BBT_CONFIG_MAX_FILE bytes) into a new buffer. */
static int read_file(struct ctx *c, const char *path, char **out, size_t *outlen)
{
    char ebuf[128], *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(c, BBT_ECONFIG_FILE, "cannot open: %s", strerror_r(errno, ebuf, sizeof ebuf));
    size_t len = 0, cap = 0;
    int rc = BBT_OK;
    for (;;) {
        if (len == cap) {
            if (cap > BBT_CONFIG_MAX_FILE) {
                rc = fail(c, BBT_ECONFIG_FILE, "larger than 1 MiB");
                break;
            }
            size_t ncap = cap ? cap * 2 : 16384;
            ncap = ncap > BBT_CONFIG_MAX_FILE ? BBT_CONFIG_MAX_FILE + 1 : ncap;
            char *nb = bbt_cfg_alloc(c->opts, ncap);
            if (!nb) {
                rc = fail(c, BBT_ENOMEM, "out of memory");
                break;
            }
            if (len)
                memcpy(nb, buf, len);
            free(buf);
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f))
                rc = fail(c, BBT_ECONFIG_FILE, "cannot read: %s",
                          strerror_r(errno, ebuf, sizeof ebuf));
            break;
        }
    }
    fclose(f);
    if (rc != BBT_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    *outlen = len;
    return BBT_OK;
}

int bbt_config_load_file_ex(const bbt_config_opts *opts, const char *path,
                            const bbt_directive *table, size_t n, void *dest, char *err,
                            size_t errlen)
{
    struct ctx c = {opts, table, n, dest, err, errlen, SRC_FILE, path ? path : "config", 0};
    clear_err(err, errlen);
    if (!path || !dest || (!table && n))
        return fail(&c, BBT_EINVAL, "invalid arguments");
    null_strings(table, n, dest);
    char *buf = NULL;
    size_t len = 0;
    int rc = read_file(&c, path, &buf, &len);
    if (rc != BBT_OK)
        return rc;
    rc = bbt_config_load_buffer_ex(opts, path, buf, len, table, n, dest, err, errlen);
    free(buf);
    return rc;
}

int bbt_config_load_file(const char *path, const bbt_directive *table, size_t n, void *dest,
                         char *err, size_t errlen)
{
    return bbt_config_load_file_ex(NULL, path, table, n, dest, err, errlen);
}

int bbt_config_set_ex(const bbt_config_opts *opts, const bbt_directive *table, size_t n,
                      void *dest, const char *section, const char *key, const char *value,
                      char *err, size_t errlen)
{
    struct ctx c = {opts, table, n, dest, err, errlen, SRC_SET, NULL, 0};
    clear_err(err, errlen);
    if (!dest || !section || !key || !value || (!table && n))
        return fail(&c, BBT_EINVAL, "invalid arguments");
    const bbt_directive *d = find_key(&c, section, key, NULL);
    if (!d)
        return unknown_key(&c, section, key);
    size_t len = strlen(value), bad = bbt_cfg_bad_byte((const unsigned char *)value, len);
    if (len > BBT_CONFIG_MAX_LINE)
        return fail(&c, BBT_ECONFIG_VALUE, "[%s] %s: value longer than %d bytes", section, key,
                    BBT_CONFIG_MAX_LINE);
    if (bad < len) {
        char what[160];
        bbt_cfg_bad_byte_text(value, bad, false, what, sizeof what);
        return fail(&c, BBT_ECONFIG_VALUE, "[%s] %s: %s", section, key, what);
    }
    union bbt_cfg_value v;
    int rc = parse_value(&c, d, value, &v);
    if (rc == BBT_OK)
        bbt_cfg_store(d, dest, &v);
    return rc;
}

int bbt_config_set(const bbt_directive *table, size_t n, void *dest, const char *section,
                   const char *key, const char *value, char *err, size_t errlen)
{
    return bbt_config_set_ex(NULL, table, n, dest, section, key, value, err, errlen);
}

int bbt_config_set_arg_ex(const bbt_config_opts *opts, const bbt_directive *table, size_t n,
                          void *dest, const char *arg, char *err, size_t errlen)
{
    struct ctx c = {opts, table, n, dest, err, errlen, SRC_SET, NULL, 0};
    char section[128], key[128], q[128];
    clear_err(err, errlen);
    if (!arg)
        return fail(&c, BBT_EINVAL, "invalid arguments");
    const char *eq = strchr(arg, '='), *dot = eq ? memchr(arg, '.', (size_t)(eq - arg)) : NULL;
    if (!dot || dot == arg || dot + 1 == eq)
        return fail(&c, BBT_ECONFIG_SYNTAX, "expected section.key=value, got %s",
                    bbt_cfg_quote(arg, q, sizeof q));
    size_t ls = (size_t)(dot - arg), lk = (size_t)(eq - dot - 1);
    if (ls >= sizeof section || lk >= sizeof key)
        return fail(&c, BBT_ECONFIG_KEY, "unknown key %s", bbt_cfg_quote(arg, q, sizeof q));
    memcpy(section, arg, ls);
    section[ls] = '\0';
    memcpy(key, dot + 1, lk);
    key[lk] = '\0';
    return bbt_config_set_ex(opts, table, n, dest, section, key, eq + 1, err, errlen);
}

int bbt_config_set_arg(const bbt_directive *table, size_t n, void *dest, const char *arg,
                       char *err, size_t errlen)
{
    return bbt_config_set_arg_ex(NULL, table, n, dest, arg, err, errlen);
}

void bbt_config_free(const bbt_directive *table, size_t n, void *dest)
{
    if (!table || !dest)
        return;
    for (size_t i = 0; i < n; i++)
        if (bbt_cfg_is_string(table[i].type)) {
            free(*bbt_cfg_string_field(&table[i], dest));
            *bbt_cfg_string_field(&table[i], dest) = NULL;
        }
}


static int check_entry(struct ctx *c, size_t i)
{
    const bbt_directive *d = &c->table[i];
    if (!d->section || !d->key || !valid_name(d->section) || !valid_name(d->key))
        return fail(c, BBT_EINVAL, "entry %zu: invalid section or key name", i);
    if ((unsigned)d->type > BBT_CFG_LIST || d->min > d->max || !d->help || !d->help[0])
        return fail(c, BBT_EINVAL, "[%s] %s: bad type, range (min > max) or no help", d->section,
                    d->key);
    if (d->type == BBT_CFG_ENUM && (!d->choices || !d->choices[0]))
        return fail(c, BBT_EINVAL, "[%s] %s: an ENUM without choices", d->section, d->key);
    for (size_t j = 0; j < i; j++) {
        const bbt_directive *e = &c->table[j];
        if (strcmp(e->section, d->section) == 0 && strcmp(e->key, d->key) == 0)
            return fail(c, BBT_EINVAL, "[%s] %s: listed twice", d->section, d->key);
        if (bbt_cfg_is_string(e->type) && bbt_cfg_is_string(d->type) && e->offset == d->offset)
            return fail(c, BBT_EINVAL, "[%s] %s: same string field as [%s] %s", d->section, d->key,
                        e->section, e->key);
        if (j + 1 < i && strcmp(e->section, d->section) == 0 &&
            strcmp(c->table[i - 1].section, d->section) != 0)
            return fail(c, BBT_EINVAL, "[%s] %s: keep a section's keys together", d->section,
                        d->key);
    }
    union bbt_cfg_value v;
    c->kind = SRC_DEFAULT;
    int rc = parse_value(c, d, d->def ? d->def : "", &v);
    c->kind = SRC_TABLE;
    if (rc != BBT_OK)
        return rc == BBT_ENOMEM ? rc : BBT_EINVAL;
    if (bbt_cfg_is_string(d->type))
        free(v.s);
    return BBT_OK;
}

int bbt_config_check_table(const bbt_directive *table, size_t n, char *err, size_t errlen)
{
    struct ctx c = {NULL, table, n, NULL, err, errlen, SRC_TABLE, NULL, 0};
    clear_err(err, errlen);
    if (!table && n)
        return fail(&c, BBT_EINVAL, "invalid arguments");
    for (size_t i = 0; i < n; i++) {
        int rc = check_entry(&c, i);
        if (rc != BBT_OK)
            return rc;
    }
    return BBT_OK;
}


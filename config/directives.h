/* config/directives.h — table-driven INI configuration (the syntax and units: docs/CONFIG.md).
 *
 * A program describes its configuration once, as a table of directives — one entry per key:
 * section, key, type, default, range, where the value lives in the program's struct, help —
 * and this loader does the rest: defaults, parsing, units, range checks, `--set` overrides,
 * documentation, and errors that name the file, the line and what was expected:
 *
 *     relay.ini:12: [relay] port: expected an integer 1..65535, got "80a"
 *
 * Syntax: UTF-8 text (one leading BOM is skipped; LF or CRLF line ends) made of lines
 *     [section]
 *     key = value        unquoted: trimmed; a # or ; at its start or after a space or tab
 *                        begins a comment (so ws://host/#x keeps its #)
 *     key = "a value"    quoted: keeps spaces, # and ;, with the escapes \" and \\ only;
 *                        a comment may follow the closing quote
 *     # comment   ; comment   (whole lines), and blank lines.
 * Section and key names are ASCII letters, digits, '_' and '-'; they are case-sensitive.
 * Rejected, with the line named: NUL bytes and other control characters (tab excepted),
 * invalid UTF-8 (a GBK file, say), lines over BBT_CONFIG_MAX_LINE bytes, a key before any
 * [section], a key set twice in one section, unknown sections or keys (with a "did you mean"
 * hint), values of the wrong type or out of range. Files over BBT_CONFIG_MAX_FILE bytes are
 * rejected whole. A section may appear more than once; its keys still may not repeat.
 *
 * Status: every function returns BBT_OK or a negative code of proto/status.h:
 * BBT_ECONFIG_SYNTAX, _KEY, _VALUE, _FILE, BBT_ENOMEM, or BBT_EINVAL for a caller's mistake
 * (NULL arguments, a malformed table). `err`/`errlen` may be NULL/0; otherwise err always
 * receives a NUL-terminated line (empty on success) naming where: "FILE:LINE: ", "FILE: "
 * for whole-file problems, "--set: " for overrides, "built-in default: " for a table's own
 * default (a programming error that the tests catch).
 *
 * Ownership: `dest` is the caller's struct; the table says where each value goes. STRING,
 * PATH and LIST fields are malloc'd `char *` owned by dest and released by bbt_config_free();
 * after a successful load none is NULL (an empty value is ""). Loading ignores what dest held
 * before (load into a fresh struct, or free it first): it writes every field of the table,
 * defaults first, then the file. On failure every string it allocated is freed and its field
 * set to NULL, so nothing leaks and bbt_config_free(dest) stays harmless. bbt_config_set()
 * replaces one field of a loaded dest (freeing the old string) and leaves dest unchanged on
 * failure. No global state: the functions are reentrant and tables are read-only.
 */
#ifndef BBT_CONFIG_DIRECTIVES_H
#define BBT_CONFIG_DIRECTIVES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BBT_CONFIG_MAX_LINE 4096             /* bytes per line, line end excluded */
#define BBT_CONFIG_MAX_FILE (1024 * 1024)    /* bytes per file */

/* The C type each directive writes at dest + offset. */
enum bbt_cfg_type {
    BBT_CFG_STRING,   /* char *, malloc'd. min..max: length in bytes */
    BBT_CFG_INT,      /* int64_t. Decimal, optional sign */
    BBT_CFG_BOOL,     /* bool. true/false, yes/no, on/off, 1/0 (any case); min/max unused */
    BBT_CFG_SIZE,     /* int64_t bytes. 512, 64k, 2M, 1G (any case; k = 1024) */
    BBT_CFG_DURATION, /* int64_t milliseconds. 250ms, 2s, 5m, 1h (any case); bare number = ms */
    BBT_CFG_ENUM,     /* int: index into `choices` (NULL-terminated; matched in any case) */
    BBT_CFG_DOUBLE,   /* double. 0.8, -1.25 (no exponent, at most 15 digits; never locale-
                       * dependent). min..max in millionths: write BBT_CFG_MICRO(0.1) */
    BBT_CFG_PATH,     /* char *, as STRING; the file need not exist when the config is loaded */
    BBT_CFG_LIST,     /* char *, as STRING: comma-separated items, kept as written */
};

/* Range bounds. min == max == 0 means "no range" (for SIZE and DURATION: any value ≥ 0). */
#define BBT_CFG_KIB(x) ((int64_t)(x) * 1024)
#define BBT_CFG_MIB(x) ((int64_t)(x) * 1024 * 1024)
#define BBT_CFG_SEC(x) ((int64_t)(x) * 1000)
#define BBT_CFG_MINUTES(x) ((int64_t)(x) * 60 * 1000)
#define BBT_CFG_MICRO(x) ((int64_t)((x) * 1000000.0 + ((x) < 0 ? -0.5 : 0.5)))

/* An extra check of a value that parsed and is in range (a ladder, a URL...). Returns BBT_OK,
 * or BBT_ECONFIG_VALUE with a message, which the loader prefixes with the place and key. */
typedef int (*bbt_cfg_check_fn)(const char *value, char *msg, size_t msglen);

/* One configuration key. Adding a key is one entry in a table (see config/relay_config.c). */
typedef struct bbt_directive {
    const char *section;
    const char *key;
    enum bbt_cfg_type type;
    const char *def;            /* default, written as in a file; goes through the same parser.
                                 * NULL means "" */
    int64_t min, max;           /* range, in the type's unit (see above) */
    size_t offset;              /* offsetof(the struct, field) */
    const char *const *choices; /* ENUM only */
    const char *help;           /* documentation: a Simplified Chinese line, '\n', an English line */
    bbt_cfg_check_fn check;     /* optional, NULL if none */
} bbt_directive;

/* Options of the _ex functions; NULL means all defaults. `alloc` replaces malloc for every
 * allocation the loader makes (file buffer, bookkeeping, strings): it exists so tests can make
 * any allocation fail. It must return memory that free() releases. */
typedef struct bbt_config_opts {
    void *(*alloc)(size_t size, void *ud);
    void *alloc_ud;
} bbt_config_opts;

/* Defaults, then the file at `path`. Errors name `path` and the line. */
int bbt_config_load_file(const char *path, const bbt_directive *table, size_t n, void *dest,
                         char *err, size_t errlen);

/* Defaults, then `len` bytes of `text` (not NUL-terminated); `name` (NULL: "config") is the
 * file name that errors show. */
int bbt_config_load_buffer(const char *name, const char *text, size_t len,
                           const bbt_directive *table, size_t n, void *dest, char *err,
                           size_t errlen);

/* One override of an already loaded dest: `value` as it would be written in a file, unquoted
 * (for `--set section.key=value`). Also checks the value is UTF-8 without control characters. */
int bbt_config_set(const bbt_directive *table, size_t n, void *dest, const char *section,
                   const char *key, const char *value, char *err, size_t errlen);

/* bbt_config_set() on an argument written "section.key=value". BBT_ECONFIG_SYNTAX if it is
 * not of that form. */
int bbt_config_set_arg(const bbt_directive *table, size_t n, void *dest, const char *arg,
                       char *err, size_t errlen);

/* The same four with options (an allocation hook); opts may be NULL. */
int bbt_config_load_file_ex(const bbt_config_opts *opts, const char *path,
                            const bbt_directive *table, size_t n, void *dest, char *err,
                            size_t errlen);
int bbt_config_load_buffer_ex(const bbt_config_opts *opts, const char *name, const char *text,
                              size_t len, const bbt_directive *table, size_t n, void *dest,
                              char *err, size_t errlen);
int bbt_config_set_ex(const bbt_config_opts *opts, const bbt_directive *table, size_t n,
                      void *dest, const char *section, const char *key, const char *value,
                      char *err, size_t errlen);
int bbt_config_set_arg_ex(const bbt_config_opts *opts, const bbt_directive *table, size_t n,
                          void *dest, const char *arg, char *err, size_t errlen);

/* Frees every string field of dest and sets it to NULL; other fields are left alone.
 * Harmless on a dest that a failed load left behind, and when called twice. */
void bbt_config_free(const bbt_directive *table, size_t n, void *dest);

/* Writes the table as Markdown, one table per section: key, type, default, range, help.
 * Returns BBT_OK, or BBT_EIO if writing failed. docs/CONFIG.md holds its output. */
int bbt_config_describe(FILE *out, const bbt_directive *table, size_t n);

/* The range column of bbt_config_describe for one directive ("1..65535", "100ms..5m",
 * "error, warn, info, debug"; "" when unbounded). */
void bbt_config_describe_range(const bbt_directive *d, char *buf, size_t buflen);

/* Checks a table itself: names, types, ranges, choices, distinct keys and string offsets,
 * help present, and that every default parses. BBT_OK or BBT_EINVAL with a message. For tests. */
int bbt_config_check_table(const bbt_directive *table, size_t n, char *err, size_t errlen);

/* Log levels, shared by the relay and the node ([relay] / [node] log_level). */
enum { BBT_CFG_LOG_ERROR, BBT_CFG_LOG_WARN, BBT_CFG_LOG_INFO, BBT_CFG_LOG_DEBUG };
extern const char *const bbt_cfg_log_levels[]; /* "error", "warn", "info", "debug", NULL */

#endif

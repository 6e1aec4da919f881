/* config/value.h — internal to libbbtconfig (not for other modules): parsing, checking and
 * storing one value of a directive, and the texts that describe values in messages.
 * config/directives.c (files, lines, sections, --set) is built on it.
 *
 * Messages written to `msg` name the key but not the place ("[relay] port: expected an
 * integer 1..65535, got \"80a\""); the caller prefixes the file and line. */
#ifndef BBT_CONFIG_VALUE_H
#define BBT_CONFIG_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "directives.h"

union bbt_cfg_value {
    int64_t i; /* INT, SIZE, DURATION */
    bool b;    /* BOOL */
    int e;     /* ENUM */
    double d;  /* DOUBLE */
    char *s;   /* STRING, PATH, LIST: allocated, owned by whoever holds the value */
};

/* malloc, or the allocation hook of opts (may be NULL). */
void *bbt_cfg_alloc(const bbt_config_opts *opts, size_t size);

/* STRING, PATH and LIST: the types stored as an owned char *. */
bool bbt_cfg_is_string(enum bbt_cfg_type t);

/* The char * field of a string directive inside dest. */
char **bbt_cfg_string_field(const bbt_directive *d, void *dest);

/* Parses `text` as a value of d (type, range, then d->check) into *v; a string is allocated
 * with opts and the caller owns it. BBT_OK, BBT_ECONFIG_VALUE, BBT_ENOMEM or BBT_EINVAL (a
 * type the table should not have), with a message in msg on failure. */
int bbt_cfg_parse(const bbt_config_opts *opts, const bbt_directive *d, const char *text,
                  union bbt_cfg_value *v, char *msg, size_t msglen);

/* Writes v into dest at d->offset, taking ownership of a string and freeing the old one. */
void bbt_cfg_store(const bbt_directive *d, void *dest, const union bbt_cfg_value *v);

/* `s` in double quotes for a message: at most ~48 bytes, never cutting a UTF-8 character,
 * with ", \ and control characters escaped, "..." appended if cut. buflen >= 16. */
const char *bbt_cfg_quote(const char *s, char *buf, size_t buflen);

/* Index of the first byte of s[0..len) that is a control character (tab excepted) or not
 * valid UTF-8 (overlong forms, surrogates, code points above U+10FFFF); len if none. */
size_t bbt_cfg_bad_byte(const unsigned char *s, size_t len);

/* Describes the byte bbt_cfg_bad_byte() found at s[i]: "invalid UTF-8 at byte 5 (...)". */
void bbt_cfg_bad_byte_text(const char *s, size_t i, bool in_file, char *buf, size_t buflen);

#endif

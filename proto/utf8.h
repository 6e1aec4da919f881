/* proto/utf8.h — the project's one UTF-8 check (control messages, timetable CSV, config). */
#ifndef BBT_UTF8_H
#define BBT_UTF8_H

#include <stddef.h>

/* Length (1..4) of the well-formed UTF-8 sequence at s[0..n), or 0 if it is not one: overlong
 * forms, surrogates, code points above U+10FFFF and truncated sequences are refused. ASCII,
 * NUL included, is 1: callers that refuse control characters check them themselves. */
size_t bbt_utf8_seq(const unsigned char *s, size_t n);

#endif

/* proto/strbuf.h — a growable text buffer for building responses (metrics, pages, CSV).
 * Errors are sticky: after an allocation failure every append is a no-op and bbt_strbuf_ok()
 * returns 0, so a builder appends freely and checks once at the end. */
#ifndef BBT_STRBUF_H
#define BBT_STRBUF_H

#include <stddef.h>

typedef struct bbt_strbuf {
    char *data;  /* NUL-terminated while ok; owned, free with bbt_strbuf_free */
    size_t len;
    size_t cap;
    int failed;
} bbt_strbuf;

#define BBT_STRBUF_INIT {0, 0, 0, 0}

void bbt_strbuf_append(bbt_strbuf *b, const char *s, size_t n);
void bbt_strbuf_puts(bbt_strbuf *b, const char *s);
void bbt_strbuf_printf(bbt_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int bbt_strbuf_ok(const bbt_strbuf *b);
/* Hand the text to the caller (who free()s it); the buffer is reset. NULL if it failed. */
char *bbt_strbuf_take(bbt_strbuf *b, size_t *len);
void bbt_strbuf_free(bbt_strbuf *b);

#endif

/* tests/support/failalloc.h — allocation-failure injection for unit tests.
 * A test program registered with FAILALLOC is linked with -Wl,--wrap=malloc,calloc,realloc,strdup:
 * every allocation made by the code under test goes through these wrappers, which succeed until
 * the countdown set by failalloc_after() reaches zero and then fail (return NULL) until
 * failalloc_reset(). Test-only global state; production code has none. */
#ifndef BBT_TEST_FAILALLOC_H
#define BBT_TEST_FAILALLOC_H

/* Let `n` more allocations succeed, then fail every one. */
void failalloc_after(long n);
/* Stop failing. */
void failalloc_reset(void);
/* Allocations attempted since the last reset (to size a loop over every failure point). */
long failalloc_count(void);

#endif

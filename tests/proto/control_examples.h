/* tests/proto/control_examples.h — the JSON examples of docs/PROTOCOL.md §3 as test fixtures.
 * The tests read them from the specification itself, so the document and the code cannot
 * drift apart: every ```json block between "## 3." and "## 4." is one message. Test-only
 * global state (loaded once per test program). */
#ifndef BBT_TEST_CONTROL_EXAMPLES_H
#define BBT_TEST_CONTROL_EXAMPLES_H

#include <stddef.h>

#include "proto/control.h"

/* Read and parse the examples; returns how many, or -1 (message on stderr) if the document
 * cannot be read or an example does not parse. Safe to call again (no-op). */
int examples_load(void);
void examples_free(void);

/* The whole text of §3 (for checks of the error texts it quotes). */
const char *examples_section(void);

size_t examples_count(void);
const char *example_at(size_t i, bbt_msg_type *type); /* the raw text (NUL-terminated) */

/* The nth example of `type` (0 = first) as a new parsed object, or NULL if there is none. */
json_t *example_json(bbt_msg_type type, int nth);

#endif

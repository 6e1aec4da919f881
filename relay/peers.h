/* relay/peers.h — open connections per peer address, for [limits] max_connections_per_ip.
 *
 * A plain array searched linearly: the distinct addresses of a county relay's clients are a few
 * hundred at most (each school's NAT is one), and a connection looks its address up twice in
 * its life (filtering its handshake, and adding itself) and once more when it closes. An
 * address leaves the table with its last connection. A zeroed bbt_peers is an empty table; its
 * array grows by doubling (64 first) and is freed by bbt_peers_free. Not thread-safe: the
 * relay's event-loop thread owns it.
 */
#ifndef BBT_PEERS_H
#define BBT_PEERS_H

#include <stddef.h>

typedef struct bbt_peers {
    struct bbt_peer_count {
        char addr[64]; /* longer addresses are cut (IPv6 text is at most 45 bytes) */
        unsigned count;
    } *v;
    size_t n, cap;
} bbt_peers;

/* One more connection from addr. BBT_OK, or BBT_ENOMEM (the table is unchanged). */
int bbt_peers_add(bbt_peers *p, const char *addr);

/* One connection fewer from addr (nothing when it has none). */
void bbt_peers_remove(bbt_peers *p, const char *addr);

/* Open connections from addr. */
unsigned bbt_peers_count(const bbt_peers *p, const char *addr);

/* Distinct addresses with a connection open. */
size_t bbt_peers_size(const bbt_peers *p);

/* Frees the array; the table is empty again. NULL is ignored. */
void bbt_peers_free(bbt_peers *p);

#endif

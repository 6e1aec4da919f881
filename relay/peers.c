/* relay/peers.c — open connections per peer address (peers.h). */
#include "relay/peers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/status.h"

static struct bbt_peer_count *find(const bbt_peers *p, const char *addr)
{
    for (size_t i = 0; i < p->n; i++)
        if (strncmp(p->v[i].addr, addr, sizeof p->v[i].addr - 1) == 0)
            return &p->v[i];
    return NULL;
}

int bbt_peers_add(bbt_peers *p, const char *addr)
{
    struct bbt_peer_count *e = find(p, addr);
    if (!e) {
        if (p->n == p->cap) {
            size_t cap = p->cap ? p->cap * 2 : 64;
            struct bbt_peer_count *v = realloc(p->v, cap * sizeof *v);
            if (!v)
                return BBT_ENOMEM;
            p->v = v;
            p->cap = cap;
        }
        e = &p->v[p->n++];
        snprintf(e->addr, sizeof e->addr, "%s", addr);
        e->count = 0;
    }
    e->count++;
    return BBT_OK;
}

void bbt_peers_remove(bbt_peers *p, const char *addr)
{
    struct bbt_peer_count *e = find(p, addr);
    if (e && --e->count == 0)
        *e = p->v[--p->n]; /* the last entry takes its place: order does not matter */
}

unsigned bbt_peers_count(const bbt_peers *p, const char *addr)
{
    const struct bbt_peer_count *e = find(p, addr);
    return e ? e->count : 0;
}

size_t bbt_peers_size(const bbt_peers *p)
{
    return p->n;
}

void bbt_peers_free(bbt_peers *p)
{
    if (!p)
        return;
    free(p->v);
    *p = (bbt_peers){0};
}

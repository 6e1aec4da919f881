/* relay/pace.c — the viewers' write timer wheel (see pace.h). */
#include "pace.h"

#include <stdlib.h>

struct bbt_pace {
    int64_t g;          /* slot length, µs */
    unsigned nslots;
    unsigned cur;       /* slot whose boundary is cur_time */
    int64_t cur_time;   /* never ahead of the latest `now` seen, so "due now" is never delayed */
    unsigned count;
    /* each slot a FIFO: a relay that has fallen behind writes its overdue viewers in the order
     * they fell due, and one that keeps falling due again cannot overtake one that waits */
    struct pace_slot {
        bbt_pace_node *head, *tail;
    } slots[];
};

bbt_pace *bbt_pace_new(int64_t granularity_us, unsigned slots)
{
    if (granularity_us <= 0 || slots == 0)
        return NULL;
    bbt_pace *p = calloc(1, sizeof *p + slots * sizeof p->slots[0]);
    if (!p)
        return NULL;
    p->g = granularity_us;
    p->nslots = slots;
    return p;
}

void bbt_pace_free(bbt_pace *p)
{
    free(p);
}

static void unlink_node(bbt_pace *p, bbt_pace_node *n)
{
    struct pace_slot *sl = &p->slots[n->slot];
    if (n->prev)
        n->prev->next = n->next;
    else
        sl->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        sl->tail = n->prev;
    n->prev = n->next = NULL;
    n->queued = false;
    p->count--;
}

/* Slots from the current one to the first boundary at or after due_us, within the horizon. */
static unsigned distance_for(const bbt_pace *p, int64_t due_us)
{
    int64_t ahead = due_us - p->cur_time;
    if (ahead <= 0)
        return 0;
    int64_t d = (ahead + p->g - 1) / p->g;
    return d >= (int64_t)p->nslots ? p->nslots - 1 : (unsigned)d;
}

int64_t bbt_pace_add(bbt_pace *p, bbt_pace_node *n, int64_t due_us, int64_t now_us)
{
    if (p->count == 0) /* an empty wheel restarts at now (a floor, so never ahead of it) */
        p->cur_time = now_us - (now_us % p->g + p->g) % p->g;
    /* Due now: the current slot, whose boundary is never ahead of now. */
    unsigned d = due_us <= now_us ? 0 : distance_for(p, due_us);
    if (n->queued) {
        unsigned have = (n->slot + p->nslots - p->cur) % p->nslots;
        if (have <= d)
            return p->cur_time + (int64_t)have * p->g; /* already due no later */
        unlink_node(p, n);
    }
    unsigned s = (p->cur + d) % p->nslots;
    struct pace_slot *sl = &p->slots[s];
    n->slot = s;
    n->next = NULL;
    n->prev = sl->tail;
    if (sl->tail)
        sl->tail->next = n;
    else
        sl->head = n;
    sl->tail = n;
    n->queued = true;
    p->count++;
    return p->cur_time + (int64_t)d * p->g;
}

void bbt_pace_remove(bbt_pace *p, bbt_pace_node *n)
{
    if (n->queued)
        unlink_node(p, n);
}

int64_t bbt_pace_next_due(const bbt_pace *p)
{
    if (p->count == 0)
        return -1;
    for (unsigned d = 0; d < p->nslots; d++)
        if (p->slots[(p->cur + d) % p->nslots].head)
            return p->cur_time + (int64_t)d * p->g;
    return -1; /* unreachable: count > 0 means some slot holds a node */
}

bbt_pace_node *bbt_pace_pop(bbt_pace *p, int64_t now_us)
{
    while (p->count > 0) {
        bbt_pace_node *n = p->slots[p->cur].head;
        if (n) {
            if (p->cur_time > now_us)
                return NULL;
            unlink_node(p, n);
            return n;
        }
        if (p->cur_time + p->g > now_us)
            return NULL; /* the next slot is not due yet */
        p->cur = (p->cur + 1) % p->nslots;
        p->cur_time += p->g;
    }
    return NULL;
}

unsigned bbt_pace_count(const bbt_pace *p)
{
    return p->count;
}

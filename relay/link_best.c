/* relay/link_best.c — the best recent capacity, for the copies' room (see link_best.h). */
#include "relay/link_best.h"

void bbt_link_best_note(bbt_link_best *b, double bps, int copies, int64_t now)
{
    struct bbt_link_best_slot *s = b->s;
    if (!s[0].start_us || now - s[0].start_us >= BBT_LINK_BEST_STRETCH_US) {
        /* a new stretch; the last one stays only when it was the one just before */
        bool last = s[0].start_us && now - s[0].start_us < 2 * BBT_LINK_BEST_STRETCH_US;
        s[1] = last ? s[0] : (struct bbt_link_best_slot){0};
        s[0] = (struct bbt_link_best_slot){.start_us = now};
    }
    if (bps >= s[0].bps)
        s[0] = (struct bbt_link_best_slot){bps, copies, now, s[0].start_us};
}

int bbt_link_best_room(const bbt_link_best *b, const bbt_adapt *a, int64_t now, int rank,
                       bool keep, double *bps)
{
    int room = -1;
    *bps = 0;
    for (int i = 0; i < 2; i++) {
        const struct bbt_link_best_slot *s = &b->s[i];
        bbt_adapt_input in = {.now_us = now, .capacity_bps = s->bps, .capacity_at_us = s->at_us};
        int r = bbt_adapt_copy_room(a, &in, 2 * BBT_LINK_BEST_STRETCH_US, rank, s->copies, keep);
        if (r > room) {
            room = r;
            *bps = s->bps;
        }
    }
    return room;
}

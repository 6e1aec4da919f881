/* relay/schedule/groups.c — education groups as a warning rule (see groups.h). */
#include <string.h>

#include "relay/schedule/groups.h"

/* The school of classroom `id`, or NULL when unknown. */
static const char *school_of(const bbt_timetable *t, const char *id)
{
    int ci = bbt_tt_find_classroom(t, id);
    return ci < 0 ? NULL : t->classrooms[ci].school;
}

/* Does group g's term contain every lesson of s? */
static bool covers(const bbt_group *g, const bbt_tt_session *s)
{
    bbt_day from = s->weekday ? s->term_start : s->date;
    bbt_day to = s->weekday ? s->term_end : s->date;
    return g->term_start <= from && to <= g->term_end;
}

static bool has_weak(const bbt_group *g, const char *school)
{
    for (size_t i = 0; i < g->nweak; i++)
        if (strcmp(g->weak[i], school) == 0)
            return true;
    return false;
}

/* The first group led by `strong` for s's dates (pairing with `weak` preferred), or NULL. */
static const bbt_group *find_group(const bbt_timetable *t, const bbt_tt_session *s,
                                   const char *strong, const char *weak, bool *paired)
{
    const bbt_group *first = NULL;
    *paired = false;
    for (size_t i = 0; i < t->ngroups; i++) {
        const bbt_group *g = &t->groups[i];
        if (strcmp(g->strong, strong) != 0 || !covers(g, s))
            continue;
        if (has_weak(g, weak)) {
            *paired = true;
            return g;
        }
        if (!first)
            first = g;
    }
    return first;
}

static void dates(const bbt_tt_session *s, char *from, char *to)
{
    bbt_day_format(s->weekday ? s->term_start : s->date, from);
    bbt_day_format(s->weekday ? s->term_end : s->date, to);
}

size_t bbt_groups_check_session(const bbt_timetable *t, const bbt_tt_session *s,
                                 bbt_problems *warn)
{
    const char *strong = school_of(t, s->source);
    if (t->ngroups == 0 || !strong)
        return 0;
    size_t before = bbt_problems_total(warn);
    char from[11], to[11];
    dates(s, from, to);
    for (size_t i = 0; i < s->nreceivers; i++) {
        const char *weak = school_of(t, s->receivers[i]);
        if (!weak || strcmp(weak, strong) == 0)
            continue;
        bool paired;
        const bbt_group *g = find_group(t, s, strong, weak, &paired);
        if (paired)
            continue;
        if (g) {
            BBT_PROBLEM(warn, s->line,
                        ("session \"%s\": receiving classroom \"%s\" (school \"%s\") is not in "
                         "education group \"%s\" of school \"%s\" (%s..%s)",
                         s->id, s->receivers[i], weak, g->id, strong, from, to),
                        ("课程 \"%s\"：听课教室 \"%s\"（学校 \"%s\"）不在学校 \"%s\" 的教育集团 "
                         "\"%s\"（%s 至 %s）中",
                         s->id, s->receivers[i], weak, strong, g->id, from, to));
            continue;
        }
        BBT_PROBLEM(warn, s->line,
                    ("session \"%s\": school \"%s\" of the source leads no education group for "
                     "%s..%s, so receiving classroom \"%s\" (school \"%s\") is paired with it "
                     "outside any group",
                     s->id, strong, from, to, s->receivers[i], weak),
                    ("课程 \"%s\"：主讲学校 \"%s\" 在 %s 至 %s 没有教育集团，听课教室 \"%s\"（学校 "
                     "\"%s\"）与它的结对不属于任何教育集团",
                     s->id, strong, from, to, s->receivers[i], weak));
        break; /* one warning per session when its school has no group at all */
    }
    return bbt_problems_total(warn) - before;
}

/* relay/schedule/conflict.c — the timetable's rules (see conflict.h). */
#include <stdlib.h>
#include <string.h>

#include "proto/status.h"
#include "relay/schedule/conflict.h"
#include "relay/schedule/recur.h"

#define OCC_MAX 8

/* ---- one session's definition ------------------------------------------------------------- */

static void check_receivers(const bbt_timetable *t, const bbt_tt_session *s, bbt_problems *p)
{
    int line = s->line;
    if (s->nreceivers == 0)
        bbt_problemf(p, line, "session \"%s\": no receiving classroom",
                     "课程 \"%s\"：没有听课教室", s->id);
    for (size_t i = 0; i < s->nreceivers; i++) {
        const char *r = s->receivers[i];
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = strcmp(s->receivers[j], r) == 0;
        int ci = bbt_tt_find_classroom(t, r);
        if (dup)
            bbt_problemf(p, line, "session \"%s\": receiving classroom \"%s\" is listed twice",
                         "课程 \"%s\"：听课教室 \"%s\" 重复列出", s->id, r);
        else if (strcmp(r, s->source) == 0)
            bbt_problemf(p, line,
                         "session \"%s\": classroom \"%s\" is both the source and a receiver",
                         "课程 \"%s\"：教室 \"%s\" 既是主讲教室又是听课教室", s->id, r);
        else if (ci < 0)
            bbt_problemf(p, line, "session \"%s\": unknown receiving classroom \"%s\"",
                         "课程 \"%s\"：听课教室 \"%s\" 不存在", s->id, r);
        else if (!(t->classrooms[ci].role & BBT_CR_RECEIVER))
            bbt_problemf(p, line,
                         "session \"%s\": classroom \"%s\" is a source classroom and cannot "
                         "receive",
                         "课程 \"%s\"：教室 \"%s\" 是主讲教室，不能作为听课教室", s->id, r);
    }
}

static void check_times(const bbt_tt_session *s, bbt_problems *p)
{
    char a[6], b[6], d1[11], d2[11];
    if (s->end_min <= s->start_min)
        bbt_problemf(p, s->line, "session \"%s\": ends at %s, not after it starts (%s)",
                     "课程 \"%s\"：结束时间 %s 不晚于开始时间 %s", s->id,
                     bbt_hhmm_format(s->end_min, a), bbt_hhmm_format(s->start_min, b));
    if (s->weekday == 0)
        return;
    if (s->term_end < s->term_start) {
        bbt_problemf(p, s->line, "session \"%s\": the term ends (%s) before it starts (%s)",
                     "课程 \"%s\"：学期结束日期 %s 早于开始日期 %s", s->id,
                     bbt_day_format(s->term_end, d1), bbt_day_format(s->term_start, d2));
        return;
    }
    bool any = false;
    for (bbt_day d = s->term_start; d <= s->term_end && d < s->term_start + 7 && !any; d++)
        any = bbt_day_weekday(d) == s->weekday;
    if (!any)
        BBT_PROBLEM(p, s->line,
                    ("session \"%s\": no %s between %s and %s", s->id,
                     bbt_weekday_en(s->weekday), bbt_day_format(s->term_start, d1),
                     bbt_day_format(s->term_end, d2)),
                    ("课程 \"%s\"：%s 至 %s 之间没有%s", s->id, d1, d2,
                     bbt_weekday_zh(s->weekday)));
}

static void check_session(const bbt_timetable *t, const bbt_tt_session *s, bbt_problems *p)
{
    if (s->src < 0)
        bbt_problemf(p, s->line, "session \"%s\": unknown source classroom \"%s\"",
                     "课程 \"%s\"：主讲教室 \"%s\" 不存在", s->id, s->source);
    else if (!(t->classrooms[s->src].role & BBT_CR_SOURCE))
        bbt_problemf(p, s->line,
                     "session \"%s\": classroom \"%s\" is a receiving classroom and cannot be "
                     "the source",
                     "课程 \"%s\"：教室 \"%s\" 是听课教室，不能作为主讲教室", s->id, s->source);
    check_receivers(t, s, p);
    check_times(s, p);
}

/* ---- exceptions --------------------------------------------------------------------------- */

int bbt_conflict_check_exception(const bbt_timetable *t, const bbt_exception *e,
                                 bbt_problems *p)
{
    size_t before = bbt_problems_total(p);
    int si = bbt_tt_find_session(t, e->session);
    char d1[11], d2[11], d3[11], d4[11], a[6], b[6];
    bbt_day_format(e->date, d1);
    if (si < 0 || !bbt_recur_rule(&t->sessions[si], e->date)) {
        bbt_problemf(p, 0, "\"%s\" has no lesson on %s to cancel or move",
                     "课程 \"%s\" 在 %s 没有课，无法停课或调课", e->session, d1);
        return BBT_ECONFLICT;
    }
    if (e->kind != BBT_EXC_MOVE)
        return BBT_OK;
    const bbt_tt_session *s = &t->sessions[si];
    bbt_day_format(e->to, d2);
    int h = bbt_recur_holiday(t, e->to);
    if (e->end_min <= e->start_min)
        bbt_problemf(p, 0, "cannot move \"%s\" from %s to %s: ends at %s, not after it starts (%s)",
                     "无法将课程 \"%s\" 从 %s 调到 %s：结束时间 %s 不晚于开始时间 %s", s->id, d1,
                     d2, bbt_hhmm_format(e->end_min, a), bbt_hhmm_format(e->start_min, b));
    if (h >= 0)
        bbt_problemf(p, 0, "cannot move \"%s\" from %s to %s: that day is a holiday (%s)",
                     "无法将课程 \"%s\" 从 %s 调到 %s：当天是假期（%s）", s->id, d1, d2,
                     t->holidays[h].name);
    else if (s->weekday && (e->to < s->term_start || e->to > s->term_end))
        bbt_problemf(p, 0, "cannot move \"%s\" from %s to %s: outside its term %s..%s",
                     "无法将课程 \"%s\" 从 %s 调到 %s：不在学期 %s 至 %s 之内", s->id, d1, d2,
                     bbt_day_format(s->term_start, d3), bbt_day_format(s->term_end, d4));
    if (p->nomem)
        return BBT_ENOMEM;
    return bbt_problems_total(p) > before ? BBT_ECONFLICT : BBT_OK;
}

/* ---- lessons at once ---------------------------------------------------------------------- */

struct hit {
    int a, b;         /* session indices, a < b */
    int ci;           /* the classroom */
    bool sources;     /* the classroom is the source of both */
    bbt_occ oa, ob;
};

struct hits {
    struct hit *v;
    size_t n, cap;
    bool nomem;
};

static bool overlap(const bbt_occ *x, const bbt_occ *y)
{
    return x->start_us < y->end_us && y->start_us < x->end_us;
}

/* An ON occurrence of sb overlapping `oa` (sb's rule lessons only, or all of them): *ob. */
static bool clash_near(const bbt_timetable *t, const bbt_occ *oa, int sb, bool rule_only,
                       bbt_occ *ob)
{
    int span = t->sessions[oa->session].tz_min == t->sessions[sb].tz_min ? 0 : 1;
    for (bbt_day d = oa->date - span; d <= oa->date + span; d++) {
        bbt_occ buf[OCC_MAX];
        size_t n = bbt_recur_session_day(t, sb, d, buf, OCC_MAX);
        for (size_t i = 0; i < n && i < OCC_MAX; i++)
            if (buf[i].status == BBT_OCC_ON && (!rule_only || buf[i].orig_date == buf[i].date) &&
                overlap(oa, &buf[i])) {
                *ob = buf[i];
                return true;
            }
    }
    return false;
}

/* The rule lessons of sa on `day` that are held, against sb's. */
static bool clash_day(const bbt_timetable *t, int sa, int sb, bbt_day day, bbt_occ *oa,
                      bbt_occ *ob)
{
    bbt_occ buf[OCC_MAX];
    size_t n = bbt_recur_session_day(t, sa, day, buf, OCC_MAX);
    for (size_t i = 0; i < n && i < OCC_MAX; i++)
        if (buf[i].status == BBT_OCC_ON && buf[i].orig_date == day &&
            clash_near(t, &buf[i], sb, true, ob)) {
            *oa = buf[i];
            return true;
        }
    return false;
}

/* Minute of the week (UTC) of a weekly session's start, 0..10079. */
static int week_minute(const bbt_tt_session *s)
{
    int m = (s->weekday - 1) * 1440 + s->start_min - s->tz_min;
    return ((m % 10080) + 10080) % 10080;
}

static bool weekly_may_clash(const bbt_tt_session *a, const bbt_tt_session *b)
{
    if (a->term_start > b->term_end + 1 || b->term_start > a->term_end + 1)
        return false;
    int wa = week_minute(a), la = a->end_min - a->start_min;
    int wb = week_minute(b), lb = b->end_min - b->start_min;
    for (int shift = -10080; shift <= 10080; shift += 10080)
        if (wa < wb + shift + lb && wb + shift < wa + la)
            return true;
    return false;
}

/* The rule lessons of sa and sb: first clash in time order. */
static bool rule_clash(const bbt_timetable *t, int sa, int sb, bbt_occ *oa, bbt_occ *ob)
{
    const bbt_tt_session *a = &t->sessions[sa], *b = &t->sessions[sb];
    if (a->end_min <= a->start_min || b->end_min <= b->start_min)
        return false;
    if (a->weekday && !b->weekday)
        return clash_day(t, sb, sa, b->date, ob, oa);
    if (!a->weekday)
        return clash_day(t, sa, sb, a->date, oa, ob);
    if (!weekly_may_clash(a, b))
        return false;
    bbt_day from = a->term_start > b->term_start - 1 ? a->term_start : b->term_start - 1;
    bbt_day to = a->term_end < b->term_end + 1 ? a->term_end : b->term_end + 1;
    while (from <= to && bbt_day_weekday(from) != a->weekday)
        from++;
    for (bbt_day d = from; d <= to; d += 7)
        if (clash_day(t, sa, sb, d, oa, ob))
            return true;
    return false;
}

/* Lessons of sa moved onto another day, against every held lesson of sb. */
static bool moved_clash(const bbt_timetable *t, int sa, int sb, bbt_occ *oa, bbt_occ *ob)
{
    const bbt_tt_session *a = &t->sessions[sa];
    for (int i = a->exc_first; i < a->exc_first + a->exc_count; i++) {
        const bbt_exception *e = &t->exceptions[i];
        if (e->kind != BBT_EXC_MOVE)
            continue;
        bbt_occ buf[OCC_MAX];
        size_t n = bbt_recur_session_day(t, sa, e->to, buf, OCC_MAX);
        for (size_t k = 0; k < n && k < OCC_MAX; k++)
            if (buf[k].status == BBT_OCC_ON && buf[k].orig_date == e->date &&
                clash_near(t, &buf[k], sb, false, ob)) {
                *oa = buf[k];
                return true;
            }
    }
    return false;
}

static void add_hit(struct hits *h, const struct hit *x)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        struct hit *v = realloc(h->v, cap * sizeof *v);
        if (!v) {
            h->nomem = true;
            return;
        }
        h->v = v;
        h->cap = cap;
    }
    h->v[h->n++] = *x;
}

static void pair(const bbt_timetable *t, int ci, const bbt_tt_part *pa, const bbt_tt_part *pb,
                 struct hits *h)
{
    struct hit x = {.a = pa->session, .b = pb->session, .ci = ci,
                    .sources = pa->role == BBT_CR_SOURCE && pb->role == BBT_CR_SOURCE};
    if (rule_clash(t, x.a, x.b, &x.oa, &x.ob) || moved_clash(t, x.a, x.b, &x.oa, &x.ob) ||
        moved_clash(t, x.b, x.a, &x.ob, &x.oa))
        add_hit(h, &x);
}

static int cmp_hit(const void *p, const void *q)
{
    const struct hit *x = p, *y = q;
    if (x->a != y->a)
        return x->a < y->a ? -1 : 1;
    if (x->b != y->b)
        return x->b < y->b ? -1 : 1;
    if (x->sources != y->sources)
        return x->sources ? -1 : 1; /* a shared source is the clearer message */
    return (x->ci > y->ci) - (x->ci < y->ci);
}

static void report_hit(const bbt_timetable *t, const struct hit *x, bbt_problems *p)
{
    const bbt_tt_session *a = &t->sessions[x->a], *b = &t->sessions[x->b];
    const bbt_occ *oa = &x->oa, *ob = &x->ob;
    if (b->line < a->line || (b->line == a->line && strcmp(b->id, a->id) < 0)) {
        const bbt_tt_session *ts = a;
        a = b, b = ts;
        const bbt_occ *to = oa;
        oa = ob, ob = to;
    }
    const bbt_classroom *c = &t->classrooms[x->ci];
    bbt_day day;
    int sa, ea, sb, eb;
    bbt_us_to_local(oa->start_us > ob->start_us ? oa->start_us : ob->start_us, c->tz_min, &day,
                    NULL, NULL);
    bbt_us_to_local(oa->start_us, c->tz_min, NULL, &sa, NULL);
    bbt_us_to_local(oa->end_us, c->tz_min, NULL, &ea, NULL);
    bbt_us_to_local(ob->start_us, c->tz_min, NULL, &sb, NULL);
    bbt_us_to_local(ob->end_us, c->tz_min, NULL, &eb, NULL);
    char d[11], t1[6], t2[6], t3[6], t4[6];
    bbt_day_format(day, d);
    int w = bbt_day_weekday(day);
    bbt_hhmm_format(sa, t1), bbt_hhmm_format(ea, t2), bbt_hhmm_format(sb, t3);
    bbt_hhmm_format(eb, t4);
    const char *we = bbt_weekday_en(w), *wz = bbt_weekday_zh(w);
    if (x->sources)
        BBT_PROBLEM(p, b->line,
                    ("source classroom \"%s\" would broadcast two sessions at once on %s %s: "
                     "\"%s\" %s-%s and \"%s\" %s-%s",
                     c->id, we, d, a->id, t1, t2, b->id, t3, t4),
                    ("主讲教室 \"%s\" 在 %s（%s）要同时直播两节课：\"%s\" %s-%s 与 \"%s\" %s-%s",
                     c->id, d, wz, a->id, t1, t2, b->id, t3, t4));
    else
        BBT_PROBLEM(p, b->line,
                    ("classroom \"%s\" is in two sessions at once on %s %s: \"%s\" %s-%s and "
                     "\"%s\" %s-%s",
                     c->id, we, d, a->id, t1, t2, b->id, t3, t4),
                    ("教室 \"%s\" 在 %s（%s）同时有两节课：\"%s\" %s-%s 与 \"%s\" %s-%s", c->id,
                     d, wz, a->id, t1, t2, b->id, t3, t4));
}

/* One-off sessions without moves are compared only with those a day or less apart. */
static bool plain_one_off(const bbt_timetable *t, int si)
{
    const bbt_tt_session *s = &t->sessions[si];
    if (s->weekday)
        return false;
    for (int i = s->exc_first; i < s->exc_first + s->exc_count; i++)
        if (t->exceptions[i].kind == BBT_EXC_MOVE)
            return false;
    return true;
}

struct by_date {
    const bbt_timetable *t;
};

static int cmp_part_date(const void *a, const void *b, void *ud)
{
    const bbt_timetable *t = ((const struct by_date *)ud)->t;
    bbt_day x = t->sessions[((const bbt_tt_part *)a)->session].date;
    bbt_day y = t->sessions[((const bbt_tt_part *)b)->session].date;
    return (x > y) - (x < y);
}

/* The pairs of one classroom's parts that can overlap: every pair involving a weekly (or
 * moved) session, and one-off pairs at most a day apart — so a classroom with thousands of
 * one-off lessons is not quadratic. */
static int classroom_pairs(const bbt_timetable *t, int ci, struct hits *h)
{
    size_t n, na = 0, nb = 0;
    const bbt_tt_part *parts = bbt_tt_parts(t, ci, &n);
    bbt_tt_part *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return BBT_ENOMEM;
    for (size_t i = 0; i < n; i++) /* weekly first [0, na), plain one-offs after */
        if (!plain_one_off(t, parts[i].session))
            v[na++] = parts[i];
    for (size_t i = 0; i < n; i++)
        if (plain_one_off(t, parts[i].session))
            v[na + nb++] = parts[i];
    struct by_date bd = {t};
    if (nb > 1)
        qsort_r(v + na, nb, sizeof *v, cmp_part_date, &bd);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            if (i >= na && t->sessions[v[j].session].date - t->sessions[v[i].session].date > 1)
                break; /* sorted by date: the rest are further away */
            if (v[i].session == v[j].session)
                continue;
            const bbt_tt_part *a = &v[i], *b = &v[j];
            if (a->session > b->session)
                a = &v[j], b = &v[i];
            pair(t, ci, a, b, h);
        }
    free(v);
    return BBT_OK;
}

static int check_at_once(const bbt_timetable *t, bbt_problems *p)
{
    struct hits h = {0};
    int rc = BBT_OK;
    for (size_t ci = 0; ci < t->nclassrooms && rc == BBT_OK; ci++)
        rc = classroom_pairs(t, (int)ci, &h);
    if (rc != BBT_OK || h.nomem) {
        free(h.v);
        return BBT_ENOMEM;
    }
    if (h.n > 1)
        qsort(h.v, h.n, sizeof *h.v, cmp_hit);
    for (size_t i = 0; i < h.n; i++)
        if (i == 0 || h.v[i].a != h.v[i - 1].a || h.v[i].b != h.v[i - 1].b)
            report_hit(t, &h.v[i], p);
    free(h.v);
    return BBT_OK;
}

int bbt_conflict_check(const bbt_timetable *t, bbt_problems *out)
{
    if (!t->indexed)
        return BBT_EINVAL;
    size_t before = bbt_problems_total(out);
    for (size_t i = 0; i < t->nsessions; i++)
        check_session(t, &t->sessions[i], out);
    if (check_at_once(t, out) != BBT_OK || out->nomem)
        return BBT_ENOMEM;
    bbt_problems_sort(out);
    return bbt_problems_total(out) > before ? BBT_ECONFLICT : BBT_OK;
}

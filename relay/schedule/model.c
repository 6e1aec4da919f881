/* relay/schedule/model.c — the timetable's arrays: add, copy, remove, sort, index (model.h). */
#include <stdlib.h>
#include <string.h>

#include "proto/status.h"
#include "relay/schedule/model.h"

typedef char ident_t[BBT_ID_MAX + 1];

static char *dup_str(const char *s)
{
    return strdup(s ? s : "");
}

bool bbt_id_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

const char *bbt_cr_role_name(int role)
{
    return role == BBT_CR_SOURCE ? "source" : role == BBT_CR_RECEIVER ? "receiver" : "both";
}

int bbt_cr_role_from_name(const char *name)
{
    if (!name)
        return 0;
    if (strcmp(name, "source") == 0)
        return BBT_CR_SOURCE;
    if (strcmp(name, "receiver") == 0)
        return BBT_CR_RECEIVER;
    if (strcmp(name, "both") == 0)
        return BBT_CR_BOTH;
    return 0;
}

void bbt_tt_init(bbt_timetable *t)
{
    memset(t, 0, sizeof *t);
}

/* Room for one more element of `size` bytes. */
static int grow(void **arr, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return BBT_OK;
    size_t nc = *cap ? *cap * 2 : 16;
    void *p = realloc(*arr, nc * size);
    if (!p)
        return BBT_ENOMEM;
    *arr = p;
    *cap = nc;
    return BBT_OK;
}

static ident_t *dup_ids(const ident_t *ids, size_t n)
{
    ident_t *out = malloc((n ? n : 1) * sizeof *out);
    if (out && n)
        memcpy(out, ids, n * sizeof *out);
    return out;
}

void bbt_tt_session_clear(bbt_tt_session *s)
{
    free(s->title);
    free(s->subject);
    free(s->teacher);
    free(s->receivers);
    s->title = s->subject = s->teacher = NULL;
    s->receivers = NULL;
    s->nreceivers = 0;
}

static void group_clear(bbt_group *g)
{
    free(g->name);
    free(g->weak);
    g->name = NULL;
    g->weak = NULL;
}

void bbt_tt_free(bbt_timetable *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nschools; i++)
        free(t->schools[i].name);
    for (size_t i = 0; i < t->nclassrooms; i++)
        free(t->classrooms[i].name);
    for (size_t i = 0; i < t->ngroups; i++)
        group_clear(&t->groups[i]);
    for (size_t i = 0; i < t->nsessions; i++)
        bbt_tt_session_clear(&t->sessions[i]);
    for (size_t i = 0; i < t->nholidays; i++)
        free(t->holidays[i].name);
    for (size_t i = 0; i < t->nexceptions; i++)
        free(t->exceptions[i].reason);
    free(t->schools);
    free(t->classrooms);
    free(t->groups);
    free(t->sessions);
    free(t->holidays);
    free(t->exceptions);
    free(t->part_off);
    free(t->parts);
    bbt_tt_init(t);
}

/* A session's owned fields copied into *d (the rest by value). */
static int copy_session(bbt_tt_session *d, const bbt_tt_session *s)
{
    *d = *s;
    d->title = dup_str(s->title);
    d->subject = dup_str(s->subject);
    d->teacher = dup_str(s->teacher);
    d->receivers = dup_ids((const ident_t *)s->receivers, s->nreceivers);
    if (!d->title || !d->subject || !d->teacher || !d->receivers) {
        bbt_tt_session_clear(d);
        return BBT_ENOMEM;
    }
    return BBT_OK;
}

int bbt_tt_add_school(bbt_timetable *t, const bbt_school *s)
{
    if (grow((void **)&t->schools, t->nschools, &t->cap_schools, sizeof *s) != BBT_OK)
        return BBT_ENOMEM;
    bbt_school *d = &t->schools[t->nschools];
    *d = *s;
    if (!(d->name = dup_str(s->name)))
        return BBT_ENOMEM;
    t->nschools++;
    t->indexed = false;
    return BBT_OK;
}

int bbt_tt_add_classroom(bbt_timetable *t, const bbt_classroom *c)
{
    int off;
    if (bbt_tz_offset(c->tz, &off) != BBT_OK)
        return BBT_ENOTFOUND;
    if (grow((void **)&t->classrooms, t->nclassrooms, &t->cap_classrooms, sizeof *c) != BBT_OK)
        return BBT_ENOMEM;
    bbt_classroom *d = &t->classrooms[t->nclassrooms];
    *d = *c;
    d->tz_min = off;
    if (!(d->name = dup_str(c->name)))
        return BBT_ENOMEM;
    t->nclassrooms++;
    t->indexed = false;
    return BBT_OK;
}

int bbt_tt_add_group(bbt_timetable *t, const bbt_group *g)
{
    if (grow((void **)&t->groups, t->ngroups, &t->cap_groups, sizeof *g) != BBT_OK)
        return BBT_ENOMEM;
    bbt_group *d = &t->groups[t->ngroups];
    *d = *g;
    d->name = dup_str(g->name);
    d->weak = dup_ids((const ident_t *)g->weak, g->nweak);
    if (!d->name || !d->weak) {
        group_clear(d);
        return BBT_ENOMEM;
    }
    t->ngroups++;
    t->indexed = false;
    return BBT_OK;
}

int bbt_tt_add_session(bbt_timetable *t, const bbt_tt_session *s)
{
    if (grow((void **)&t->sessions, t->nsessions, &t->cap_sessions, sizeof *s) != BBT_OK)
        return BBT_ENOMEM;
    if (copy_session(&t->sessions[t->nsessions], s) != BBT_OK)
        return BBT_ENOMEM;
    t->nsessions++;
    t->indexed = false;
    return BBT_OK;
}

int bbt_tt_set_session(bbt_timetable *t, size_t i, const bbt_tt_session *s)
{
    bbt_tt_session copy;
    if (i >= t->nsessions || copy_session(&copy, s) != BBT_OK)
        return i >= t->nsessions ? BBT_EINVAL : BBT_ENOMEM;
    bbt_tt_session_clear(&t->sessions[i]);
    t->sessions[i] = copy;
    t->indexed = false;
    return BBT_OK;
}

int bbt_tt_add_holiday(bbt_timetable *t, const bbt_holiday *h)
{
    if (grow((void **)&t->holidays, t->nholidays, &t->cap_holidays, sizeof *h) != BBT_OK)
        return BBT_ENOMEM;
    bbt_holiday *d = &t->holidays[t->nholidays];
    *d = *h;
    if (!(d->name = dup_str(h->name)))
        return BBT_ENOMEM;
    t->nholidays++;
    t->indexed = false;
    return BBT_OK;
}

int bbt_tt_add_exception(bbt_timetable *t, const bbt_exception *e)
{
    if (grow((void **)&t->exceptions, t->nexceptions, &t->cap_exceptions, sizeof *e) != BBT_OK)
        return BBT_ENOMEM;
    bbt_exception *d = &t->exceptions[t->nexceptions];
    *d = *e;
    if (!(d->reason = dup_str(e->reason)))
        return BBT_ENOMEM;
    t->nexceptions++;
    t->indexed = false;
    return BBT_OK;
}

void bbt_tt_remove(bbt_timetable *t, char kind, size_t i)
{
#define REMOVE(arr, n, clear)              \
    do {                                   \
        if (i >= t->n)                     \
            return;                        \
        clear;                             \
        t->arr[i] = t->arr[--t->n];        \
    } while (0)
    switch (kind) {
    case 's': REMOVE(schools, nschools, free(t->schools[i].name)); break;
    case 'c': REMOVE(classrooms, nclassrooms, free(t->classrooms[i].name)); break;
    case 'g': REMOVE(groups, ngroups, group_clear(&t->groups[i])); break;
    case 'S': REMOVE(sessions, nsessions, bbt_tt_session_clear(&t->sessions[i])); break;
    case 'h': REMOVE(holidays, nholidays, free(t->holidays[i].name)); break;
    case 'e': REMOVE(exceptions, nexceptions, free(t->exceptions[i].reason)); break;
    default: return;
    }
#undef REMOVE
    t->indexed = false;
}

int bbt_tt_clone(const bbt_timetable *t, bbt_timetable *out)
{
    bbt_tt_init(out);
    int rc = BBT_OK;
    for (size_t i = 0; rc == BBT_OK && i < t->nschools; i++)
        rc = bbt_tt_add_school(out, &t->schools[i]);
    for (size_t i = 0; rc == BBT_OK && i < t->nclassrooms; i++)
        rc = bbt_tt_add_classroom(out, &t->classrooms[i]);
    for (size_t i = 0; rc == BBT_OK && i < t->ngroups; i++)
        rc = bbt_tt_add_group(out, &t->groups[i]);
    for (size_t i = 0; rc == BBT_OK && i < t->nsessions; i++)
        rc = bbt_tt_add_session(out, &t->sessions[i]);
    for (size_t i = 0; rc == BBT_OK && i < t->nholidays; i++)
        rc = bbt_tt_add_holiday(out, &t->holidays[i]);
    for (size_t i = 0; rc == BBT_OK && i < t->nexceptions; i++)
        rc = bbt_tt_add_exception(out, &t->exceptions[i]);
    if (rc != BBT_OK) {
        bbt_tt_free(out);
        return BBT_ENOMEM;
    }
    return BBT_OK;
}

/* ---- sorting and the index ----------------------------------------------------------------- */

/* qsort, but not on an empty (possibly NULL) array. */
static void sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(base, n, size, cmp);
}


static int cmp_school(const void *a, const void *b)
{
    return strcmp(((const bbt_school *)a)->id, ((const bbt_school *)b)->id);
}
static int cmp_classroom(const void *a, const void *b)
{
    return strcmp(((const bbt_classroom *)a)->id, ((const bbt_classroom *)b)->id);
}
static int cmp_group(const void *a, const void *b)
{
    return strcmp(((const bbt_group *)a)->id, ((const bbt_group *)b)->id);
}
static int cmp_session(const void *a, const void *b)
{
    return strcmp(((const bbt_tt_session *)a)->id, ((const bbt_tt_session *)b)->id);
}
static int cmp_holiday(const void *a, const void *b)
{
    return strcmp(((const bbt_holiday *)a)->id, ((const bbt_holiday *)b)->id);
}
static int cmp_exception(const void *a, const void *b)
{
    const bbt_exception *x = a, *y = b;
    int c = strcmp(x->session, y->session);
    return c ? c : (x->date > y->date) - (x->date < y->date);
}

static int cmp_part(const void *a, const void *b)
{
    const bbt_tt_part *x = a, *y = b;
    return (x->session > y->session) - (x->session < y->session);
}

/* Each classroom's parts, in CSR form: counts, offsets, then fill. */
static int build_parts(bbt_timetable *t)
{
    size_t nc = t->nclassrooms, total = 0;
    size_t *off = calloc(nc + 1, sizeof *off);
    int *rcv = NULL;
    if (!off)
        return BBT_ENOMEM;
    for (size_t i = 0; i < t->nsessions; i++)
        total += 1 + t->sessions[i].nreceivers;
    bbt_tt_part *parts = malloc((total ? total : 1) * sizeof *parts);
    rcv = malloc((total ? total : 1) * sizeof *rcv);
    if (!parts || !rcv) {
        free(off);
        free(parts);
        free(rcv);
        return BBT_ENOMEM;
    }
    size_t k = 0; /* rcv[k]: the classroom of each part, in session order */
    for (size_t i = 0; i < t->nsessions; i++) {
        bbt_tt_session *s = &t->sessions[i];
        rcv[k++] = s->src;
        for (size_t j = 0; j < s->nreceivers; j++)
            rcv[k++] = bbt_tt_find_classroom(t, s->receivers[j]);
    }
    for (size_t j = 0; j < k; j++)
        if (rcv[j] >= 0)
            off[rcv[j] + 1]++;
    for (size_t c = 0; c < nc; c++)
        off[c + 1] += off[c];
    size_t *cur = calloc(nc + 1, sizeof *cur);
    if (!cur) {
        free(off);
        free(parts);
        free(rcv);
        return BBT_ENOMEM;
    }
    k = 0;
    for (size_t i = 0; i < t->nsessions; i++)
        for (size_t j = 0; j <= t->sessions[i].nreceivers; j++, k++)
            if (rcv[k] >= 0)
                parts[off[rcv[k]] + cur[rcv[k]]++] =
                    (bbt_tt_part){(int)i, j == 0 ? BBT_CR_SOURCE : BBT_CR_RECEIVER};
    for (size_t c = 0; c < nc; c++)
        sort(parts + off[c], off[c + 1] - off[c], sizeof *parts, cmp_part);
    free(cur);
    free(rcv);
    free(t->part_off);
    free(t->parts);
    t->part_off = off;
    t->parts = parts;
    return BBT_OK;
}

int bbt_tt_index(bbt_timetable *t)
{
    if (t->indexed)
        return BBT_OK;
    sort(t->schools, t->nschools, sizeof *t->schools, cmp_school);
    sort(t->classrooms, t->nclassrooms, sizeof *t->classrooms, cmp_classroom);
    sort(t->groups, t->ngroups, sizeof *t->groups, cmp_group);
    sort(t->sessions, t->nsessions, sizeof *t->sessions, cmp_session);
    sort(t->holidays, t->nholidays, sizeof *t->holidays, cmp_holiday);
    sort(t->exceptions, t->nexceptions, sizeof *t->exceptions, cmp_exception);
    size_t e = 0;
    for (size_t i = 0; i < t->nsessions; i++) {
        bbt_tt_session *s = &t->sessions[i];
        s->src = -1;
        s->tz_min = 0;
        while (e < t->nexceptions && strcmp(t->exceptions[e].session, s->id) < 0)
            e++;
        s->exc_first = (int)e;
        while (e < t->nexceptions && strcmp(t->exceptions[e].session, s->id) == 0)
            e++;
        s->exc_count = (int)e - s->exc_first;
    }
    t->indexed = true; /* the finds below need the sorted arrays */
    for (size_t i = 0; i < t->nsessions; i++) {
        bbt_tt_session *s = &t->sessions[i];
        s->src = bbt_tt_find_classroom(t, s->source);
        if (s->src >= 0)
            s->tz_min = t->classrooms[s->src].tz_min;
    }
    if (build_parts(t) != BBT_OK) {
        t->indexed = false;
        return BBT_ENOMEM;
    }
    return BBT_OK;
}

#define FIND(arr, n, field)                                                 \
    do {                                                                    \
        if (!t->indexed || !id)                                             \
            return -1;                                                      \
        size_t lo = 0, hi = t->n;                                           \
        while (lo < hi) {                                                   \
            size_t mid = lo + (hi - lo) / 2;                                \
            int c = strcmp(t->arr[mid].field, id);                          \
            if (c == 0)                                                     \
                return (int)mid;                                            \
            if (c < 0)                                                      \
                lo = mid + 1;                                               \
            else                                                            \
                hi = mid;                                                   \
        }                                                                   \
        return -1;                                                          \
    } while (0)

int bbt_tt_find_school(const bbt_timetable *t, const char *id) { FIND(schools, nschools, id); }
int bbt_tt_find_classroom(const bbt_timetable *t, const char *id)
{
    FIND(classrooms, nclassrooms, id);
}
int bbt_tt_find_group(const bbt_timetable *t, const char *id) { FIND(groups, ngroups, id); }
int bbt_tt_find_session(const bbt_timetable *t, const char *id) { FIND(sessions, nsessions, id); }
int bbt_tt_find_holiday(const bbt_timetable *t, const char *id) { FIND(holidays, nholidays, id); }

int bbt_tt_find_exception(const bbt_timetable *t, const char *session, bbt_day date)
{
    int si = bbt_tt_find_session(t, session);
    if (si < 0)
        return -1;
    const bbt_tt_session *s = &t->sessions[si];
    for (int i = s->exc_first; i < s->exc_first + s->exc_count; i++)
        if (t->exceptions[i].date == date)
            return i;
    return -1;
}

const bbt_tt_part *bbt_tt_parts(const bbt_timetable *t, int ci, size_t *n)
{
    *n = 0;
    if (!t->indexed || ci < 0 || (size_t)ci >= t->nclassrooms)
        return NULL;
    *n = t->part_off[ci + 1] - t->part_off[ci];
    return t->parts + t->part_off[ci];
}

bool bbt_tt_session_equal(const bbt_tt_session *a, const bbt_tt_session *b)
{
    if (strcmp(a->id, b->id) || strcmp(a->title, b->title) || strcmp(a->subject, b->subject) ||
        strcmp(a->teacher, b->teacher) || strcmp(a->source, b->source) ||
        a->nreceivers != b->nreceivers || a->weekday != b->weekday ||
        a->start_min != b->start_min || a->end_min != b->end_min || a->is_public != b->is_public)
        return false;
    if (a->weekday ? (a->term_start != b->term_start || a->term_end != b->term_end)
                   : a->date != b->date)
        return false;
    for (size_t i = 0; i < a->nreceivers; i++)
        if (strcmp(a->receivers[i], b->receivers[i]))
            return false;
    return true;
}

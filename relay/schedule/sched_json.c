/* relay/schedule/sched_json.c — the timetable's objects as the JSON of docs/PROTOCOL.md §3.18,
 * and back (from objects that passed their parameter table). */
#include <stdlib.h>
#include <string.h>

#include "proto/status.h"
#include "relay/schedule/sched_internal.h"

void utf8_trim_tail(char *s)
{
    size_t n = strlen(s), i = n;
    while (i > 0 && n - i < 3 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
        i--;
    if (i == 0 || (unsigned char)s[i - 1] < 0xc0)
        return;
    unsigned c = (unsigned char)s[i - 1];
    size_t want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    if (n - (i - 1) < want)
        s[i - 1] = '\0';
}

static const char *str(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

static void copy_id(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src);
}

bbt_day json_day(const json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    bbt_day d;
    return v && bbt_day_parse(v, strlen(v), false, &d) == BBT_OK ? d : BBT_DAY_NONE;
}

int json_hhmm(const json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    int m;
    return v && bbt_hhmm_parse(v, strlen(v), false, false, &m) == BBT_OK ? m : -1;
}

static json_t *day_string(bbt_day d)
{
    char b[11];
    return json_string(bbt_day_format(d, b));
}

static json_t *hhmm_string(int m)
{
    char b[6];
    return json_string(bbt_hhmm_format(m, b));
}

static json_t *ids(char (*v)[BBT_ID_MAX + 1], size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

json_t *school_json(const bbt_timetable *t, size_t i)
{
    json_int_t n = 0;
    for (size_t c = 0; c < t->nclassrooms; c++)
        n += strcmp(t->classrooms[c].school, t->schools[i].id) == 0;
    return json_pack("{s:s, s:s, s:I}", "id", t->schools[i].id, "name", t->schools[i].name,
                     "classrooms", n);
}

json_t *classroom_json(const bbt_timetable *t, size_t i, bool connected)
{
    const bbt_classroom *c = &t->classrooms[i];
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "id", c->id, "name", c->name, "school",
                     c->school, "role", bbt_cr_role_name(c->role), "timezone", c->tz,
                     "connected", connected);
}

json_t *group_json(const bbt_timetable *t, size_t i)
{
    const bbt_group *g = &t->groups[i];
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "id", g->id, "name", g->name, "strong",
                     g->strong, "weak", ids(g->weak, g->nweak), "term_start",
                     day_string(g->term_start), "term_end", day_string(g->term_end));
}

json_t *holiday_json(const bbt_timetable *t, size_t i)
{
    const bbt_holiday *h = &t->holidays[i];
    return json_pack("{s:s, s:s, s:o, s:o}", "id", h->id, "name", h->name, "first",
                     day_string(h->first), "last", day_string(h->last));
}

json_t *session_json(const bbt_tt_session *v)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "id", v->id, "title", v->title,
                          "subject", v->subject, "teacher", v->teacher, "source", v->source,
                          "receivers", ids(v->receivers, v->nreceivers));
    if (!j)
        return NULL;
    if (v->weekday)
        json_object_set_new(j, "weekday", json_integer(v->weekday));
    if (v->is_public)
        json_object_set_new(j, "public", json_true());
    json_object_set_new(j, "start", hhmm_string(v->start_min));
    json_object_set_new(j, "end", hhmm_string(v->end_min));
    if (v->weekday) {
        json_object_set_new(j, "term_start", day_string(v->term_start));
        json_object_set_new(j, "term_end", day_string(v->term_end));
    } else {
        json_object_set_new(j, "date", day_string(v->date));
    }
    return j;
}

void school_from_json(const json_t *j, bbt_school *out)
{
    memset(out, 0, sizeof *out);
    copy_id(out->id, sizeof out->id, str(j, "id"));
    out->name = (char *)str(j, "name");
}

int classroom_from_json(const json_t *j, const char *default_tz, bbt_classroom *out)
{
    memset(out, 0, sizeof *out);
    copy_id(out->id, sizeof out->id, str(j, "id"));
    copy_id(out->school, sizeof out->school, str(j, "school"));
    out->name = (char *)str(j, "name");
    out->role = bbt_cr_role_from_name(str(j, "role"));
    const char *tz = json_string_value(json_object_get(j, "timezone"));
    copy_id(out->tz, sizeof out->tz, tz ? tz : default_tz);
    return bbt_tz_offset(out->tz, &out->tz_min);
}

static int ids_from_json(const json_t *a, char (**out)[BBT_ID_MAX + 1], size_t *n)
{
    size_t len = json_array_size(a);
    *n = 0;
    *out = calloc(len ? len : 1, sizeof **out);
    if (!*out)
        return BBT_ENOMEM;
    for (size_t i = 0; i < len; i++) {
        const char *v = json_string_value(json_array_get(a, i));
        if (!v || !bbt_id_ok(v, BBT_ID_MAX))
            return BBT_EINVAL;
        copy_id((*out)[(*n)++], BBT_ID_MAX + 1, v);
    }
    return BBT_OK;
}

int group_from_json(const json_t *j, bbt_group *out)
{
    memset(out, 0, sizeof *out);
    copy_id(out->id, sizeof out->id, str(j, "id"));
    copy_id(out->strong, sizeof out->strong, str(j, "strong"));
    out->name = (char *)str(j, "name");
    out->term_start = json_day(j, "term_start");
    out->term_end = json_day(j, "term_end");
    return ids_from_json(json_object_get(j, "weak"), &out->weak, &out->nweak);
}

void holiday_from_json(const json_t *j, bbt_holiday *out)
{
    memset(out, 0, sizeof *out);
    copy_id(out->id, sizeof out->id, str(j, "id"));
    out->name = (char *)str(j, "name");
    out->first = json_day(j, "first");
    out->last = json_day(j, "last");
}

/* BBT_EINVAL when the members do not make a weekly or a one-off session (*out still owns
 * its receivers). */
int session_from_json(const json_t *j, bbt_tt_session *out)
{
    memset(out, 0, sizeof *out);
    const char *id = str(j, "id");
    if (strlen(id) > BBT_TT_SESSION_ID_MAX)
        return BBT_EINVAL;
    copy_id(out->id, sizeof out->id, id);
    copy_id(out->source, sizeof out->source, str(j, "source"));
    out->title = (char *)str(j, "title");
    out->subject = (char *)str(j, "subject");
    out->teacher = (char *)str(j, "teacher");
    out->weekday = (int)json_integer_value(json_object_get(j, "weekday"));
    out->start_min = json_hhmm(j, "start");
    out->end_min = json_hhmm(j, "end");
    out->term_start = json_day(j, "term_start");
    out->term_end = json_day(j, "term_end");
    out->date = json_day(j, "date");
    out->is_public = json_is_true(json_object_get(j, "public"));
    out->src = -1;
    int rc = ids_from_json(json_object_get(j, "receivers"), &out->receivers, &out->nreceivers);
    if (rc != BBT_OK)
        return rc;
    bool weekly = out->weekday != 0, oneoff = out->date != BBT_DAY_NONE;
    if (weekly == oneoff ||
        (weekly && (out->term_start == BBT_DAY_NONE || out->term_end == BBT_DAY_NONE)))
        return BBT_EINVAL;
    return BBT_OK;
}

json_t *problems_json(const bbt_problems *p)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < p->n; i++)
        json_array_append_new(a, json_pack("{s:I, s:s, s:s}", "line", (json_int_t)p->v[i].line,
                                           "message", p->v[i].en, "message_zh", p->v[i].zh));
    return a;
}

/* node/plan.c — the cached plan and following the timetable (see plan.h). */
#include "node/plan.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "node/link.h"
#include "node/play.h"
#include "proto/control.h"
#include "proto/log.h"
#include "proto/status.h"

#define TICK_MS 250

/* ---- the plan on disk ---------------------------------------------------------------------- */

int bbt_plan_load(const char *path, json_t **plan)
{
    *plan = NULL;
    gchar *text = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &text, &len, NULL))
        return access(path, F_OK) == 0 ? BBT_EIO : BBT_ENOTFOUND;
    bbt_msg_type t;
    int rc = bbt_control_parse(text, len, NULL, &t, plan, NULL, 0);
    g_free(text);
    if (rc == BBT_OK && t != BBT_MSG_PLAN) {
        json_decref(*plan);
        *plan = NULL;
        rc = BBT_EMSG_TYPE;
    }
    return rc;
}

int bbt_plan_save(const char *path, const json_t *plan)
{
    size_t len;
    char *text = bbt_control_dump(plan, &len);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = text ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
    bool ok = fd >= 0 && write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
    if (fd >= 0)
        ok = close(fd) == 0 && ok;
    ok = ok && rename(tmp, path) == 0;
    if (!ok && fd >= 0)
        unlink(tmp);
    free(text);
    return ok ? BBT_OK : BBT_EIO;
}

static bool due_one(const json_t *s, const char *role, int64_t lead_us, int64_t now,
                    char *session, size_t size)
{
    const char *r = json_string_value(json_object_get(s, "role"));
    const char *st = json_string_value(json_object_get(s, "state"));
    json_t *a = json_object_get(s, "start_us"), *b = json_object_get(s, "end_us");
    if (!r || strcmp(r, role) != 0 || !json_is_integer(a) || !json_is_integer(b) ||
        (st && strcmp(st, "cancelled") == 0))
        return false;
    int64_t from = json_integer_value(a) - (strcmp(role, "source") == 0 ? lead_us : 0);
    if (now < from || now >= json_integer_value(b))
        return false;
    snprintf(session, size, "%s", json_string_value(json_object_get(s, "session")));
    return true;
}

bool bbt_plan_due(const json_t *plan, const char *role, int64_t now_us, char *session,
                  size_t size)
{
    int64_t lead = json_integer_value(json_object_get(plan, "lead_ms")) * 1000;
    json_t *list = json_object_get(plan, "sessions");
    for (size_t i = 0; i < json_array_size(list); i++)
        if (due_one(json_array_get(list, i), role, lead, now_us, session, size))
            return true;
    json_t *next = json_object_get(plan, "next");
    return next && due_one(next, role, lead, now_us, session, size);
}

/* ---- following ----------------------------------------------------------------------------- */

struct bbt_follow {
    const bbt_node_config *cfg;
    bbt_node_config role_cfg;   /* cfg with node.session = the lesson (the roles borrow it) */
    bbt_follow_opts o;
    char *token;
    char path[4200];
    bbt_link *link;
    GAsyncQueue *events;        /* json_t * from the link thread */
    guint timer;
    /* main-loop state */
    json_t *plan;
    bool connected;
    char started[BBT_IDENT_MAX + 1];   /* the relay's last `start` (source), "" none */
    char current[BBT_IDENT_MAX + 1];   /* the lesson the role runs, "" none */
    bbt_publisher *pub;
    bbt_player *player;
};

static void push(bbt_follow *f, json_t *m)
{
    if (m)
        g_async_queue_push(f->events, m);
}

static void on_welcomed(bbt_link *l, const json_t *w, void *ud)
{
    (void)l, (void)w;
    push(ud, json_pack("{s:s}", "type", "_connected"));
}

static void on_closed(bbt_link *l, void *ud)
{
    (void)l;
    push(ud, json_pack("{s:s}", "type", "_disconnected"));
}

static void on_message(bbt_link *l, bbt_msg_type type, const json_t *m, void *ud)
{
    (void)l;
    if (type == BBT_MSG_PLAN || type == BBT_MSG_START || type == BBT_MSG_STOP)
        push(ud, json_deep_copy(m));
}

static const char *role_name(const bbt_follow *f)
{
    return f->o.play ? "receiver" : "source";
}

static void stop_role(bbt_follow *f)
{
    if (!f->current[0])
        return;
    BBT_INFO("timetable: lesson %s over", f->current);
    bbt_publisher_free(f->pub);
    bbt_play_free(f->player);
    f->pub = NULL;
    f->player = NULL;
    f->current[0] = '\0';
    g_free(f->role_cfg.node.session);
    f->role_cfg.node.session = NULL;
}

static void start_role(bbt_follow *f, const char *session)
{
    int err = BBT_OK;
    f->role_cfg = *f->cfg;
    f->role_cfg.node.session = g_strdup(session);
    if (f->o.play) {
        bbt_play_opts po = {.token = f->token, .session = session};
        f->player = bbt_play_new(&f->role_cfg, &po, &err);
    } else {
        bbt_publisher_opts po = f->o.publish;
        po.token = f->token;
        f->pub = bbt_publisher_new(&f->role_cfg, &po, &err);
    }
    if (!f->pub && !f->player) {
        BBT_ERROR("timetable: cannot start lesson %s: %s", session, bbt_strerror(err));
        g_free(f->role_cfg.node.session);
        f->role_cfg.node.session = NULL;
        return;
    }
    snprintf(f->current, sizeof f->current, "%s", session);
    BBT_INFO("timetable: lesson %s starts (%s, %s)", session, role_name(f),
             f->connected ? "as the relay says" : "by the cached plan, relay unreachable");
}

static void handle(bbt_follow *f, json_t *m)
{
    const char *type = json_string_value(json_object_get(m, "type"));
    const char *session = json_string_value(json_object_get(m, "session"));
    if (strcmp(type, "_connected") == 0) {
        f->connected = true;
    } else if (strcmp(type, "_disconnected") == 0) {
        f->connected = false;
        f->started[0] = '\0';
    } else if (strcmp(type, "plan") == 0) {
        json_decref(f->plan);
        f->plan = json_incref(m);
        if (bbt_plan_save(f->path, m) != BBT_OK)
            BBT_WARN("timetable: cannot write %s: %s", f->path, strerror(errno));
    } else if (strcmp(type, "start") == 0 && session) {
        snprintf(f->started, sizeof f->started, "%s", session);
    } else if (strcmp(type, "stop") == 0 && session && strcmp(session, f->started) == 0) {
        f->started[0] = '\0';
    }
}

/* Which lesson should run now (see plan.h), into want. */
static void wanted(const bbt_follow *f, char *want, size_t size)
{
    want[0] = '\0';
    if (f->connected && !f->o.play) {
        snprintf(want, size, "%s", f->started);
        return;
    }
    const char *live = json_string_value(json_object_get(f->plan, "live"));
    if (f->connected && f->o.play) {
        snprintf(want, size, "%s", live ? live : "");
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    if (f->plan)
        bbt_plan_due(f->plan, role_name(f), now, want, size);
}

static gboolean tick(gpointer ud)
{
    bbt_follow *f = ud;
    json_t *m;
    while ((m = g_async_queue_try_pop(f->events))) {
        handle(f, m);
        json_decref(m);
    }
    char want[BBT_IDENT_MAX + 1];
    wanted(f, want, sizeof want);
    if (strcmp(want, f->current) != 0) {
        stop_role(f);
        if (want[0])
            start_role(f, want);
    }
    return G_SOURCE_CONTINUE;
}

bbt_follow *bbt_follow_new(const bbt_node_config *cfg, const bbt_follow_opts *o, int *err)
{
    if (!cfg->node.classroom || !cfg->node.classroom[0]) {
        *err = BBT_EINVAL;
        BBT_ERROR("timetable: [node] classroom is empty: set it to follow the timetable");
        return NULL;
    }
    bbt_follow *f = g_new0(bbt_follow, 1);
    f->cfg = cfg;
    f->o = *o;
    f->token = g_strdup(o->token ? o->token : "");
    f->events = g_async_queue_new_full((GDestroyNotify)json_decref);
    if (g_mkdir_with_parents(cfg->node.state_dir, 0750) != 0)
        BBT_WARN("timetable: cannot create %s: %s", cfg->node.state_dir, strerror(errno));
    snprintf(f->path, sizeof f->path, "%s/%s", cfg->node.state_dir, BBT_PLAN_FILE);
    int rc = bbt_plan_load(f->path, &f->plan);
    if (rc == BBT_OK)
        BBT_INFO("timetable: cached plan of %s loaded from %s",
                 json_string_value(json_object_get(f->plan, "date")), f->path);
    else if (rc != BBT_ENOTFOUND)
        BBT_WARN("timetable: ignoring %s: %s", f->path, bbt_strerror(rc));
    bbt_link_opts lo = {.url = cfg->node.relay, .ca_file = cfg->node.ca_file, .token = f->token,
                        .role = role_name(f), .classroom = cfg->node.classroom,
                        .reconnect_min_ms = cfg->uplink.reconnect_min_ms,
                        .reconnect_max_ms = cfg->uplink.reconnect_max_ms};
    bbt_link_hooks h = {.welcomed = on_welcomed, .message = on_message, .closed = on_closed};
    f->link = bbt_link_start(&lo, &h, f, err);
    if (!f->link) {
        bbt_follow_free(f);
        return NULL;
    }
    f->timer = g_timeout_add(TICK_MS, tick, f);
    BBT_INFO("timetable: following the timetable of classroom %s as %s", cfg->node.classroom,
             role_name(f));
    *err = BBT_OK;
    return f;
}

void bbt_follow_free(bbt_follow *f)
{
    if (!f)
        return;
    if (f->timer)
        g_source_remove(f->timer);
    if (f->link)
        bbt_link_stop(f->link, 1000); /* joins its thread: nothing is queued after this */
    stop_role(f);
    g_async_queue_unref(f->events);
    json_decref(f->plan);
    g_free(f->token);
    g_free(f);
}

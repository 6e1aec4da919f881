/* relay/ctl/next.c — `bbtctl next` (and bbtctl with no arguments): what the county IT person
 * should do next, step by step, in the order of the operator guide (docs/operator-guide.*.md):
 *   0. an operator token (BBT_TOKEN) and the relay's address (BBT_RELAY)
 *   1. schools  2. classrooms  3. the timetable (import)  4. classroom tokens
 *   5. classroom PCs (kiosk player URL, bbt-node)  6. the dashboard
 * With a token and a reachable relay it asks the relay how many schools, classrooms and
 * sessions there are (school_list, classroom_list, session_list: one page each) and which
 * classrooms have no live token it issued (token_list; tokens signed offline are not listed)
 * and marks the steps that are done; otherwise it says how to get there. Always exits 0 unless the relay
 * refuses the token (1) — it is a help text, not a check. Bilingual through T(). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "relay/ctl/ctl.h"

#define NEXT_MISSING_SHOWN 5

struct counts {
    long schools, classrooms, sources, receivers, sessions;
    char first_receiver[72], first_source[72];
    int tokens_known;  /* 1: token_list answered */
    long missing;      /* classrooms with no valid token issued by the relay */
    char missing_ids[NEXT_MISSING_SHOWN][72];
    char missing_roles[NEXT_MISSING_SHOWN][16];
};

/* Does a live (not revoked, not expired) token of the relay name this classroom? */
static bool has_token(const json_t *tokens, const char *id, json_int_t now)
{
    for (size_t i = 0; i < json_array_size(tokens); i++) {
        const json_t *t = json_array_get(tokens, i);
        const char *sub = json_string_value(json_object_get(t, "subject"));
        if (sub && strcmp(sub, id) == 0 && !json_is_true(json_object_get(t, "revoked")) &&
            json_integer_value(json_object_get(t, "expires")) > now)
            return true;
    }
    return false;
}

/* Step 4: which classrooms have no token yet (token_list; tokens signed offline are not in it). */
static void missing_tokens(ctl *c, const json_t *rooms, struct counts *k)
{
    json_t *r = NULL;
    if (ctl_call(c, json_pack("{s:s}", "type", "token_list"), "tokens", &r) != CTL_OK)
        return;
    const json_t *tokens = json_object_get(r, "tokens");
    json_int_t now = (json_int_t)time(NULL);
    k->tokens_known = 1;
    for (size_t i = 0; i < json_array_size(rooms); i++) {
        const json_t *room = json_array_get(rooms, i);
        const char *id = json_string_value(json_object_get(room, "id"));
        const char *role = json_string_value(json_object_get(room, "role"));
        if (!id || !role || has_token(tokens, id, now))
            continue;
        if (k->missing < NEXT_MISSING_SHOWN) {
            snprintf(k->missing_ids[k->missing], sizeof k->missing_ids[0], "%s", id);
            snprintf(k->missing_roles[k->missing], sizeof k->missing_roles[0], "%s",
                     strcmp(role, "receiver") == 0 ? "receiver" : "source");
        }
        k->missing++;
    }
    json_decref(r);
}

/* One page of a list: the number of items (capped at the page), -1 on failure. */
static long count_list(ctl *c, const char *type, const char *key, json_t **items_out)
{
    json_t *r = NULL;
    json_t *q = json_pack("{s:s, s:i, s:i}", "type", type, "offset", 0, "limit", 1000);
    if (ctl_call(c, q, key, &r) != CTL_OK)
        return -1;
    json_t *items = json_object_get(r, key);
    long n = (long)json_array_size(items);
    if (items_out)
        *items_out = json_incref(items);
    json_decref(r);
    return n;
}

static int ask(ctl *c, struct counts *k)
{
    memset(k, 0, sizeof *k);
    json_t *rooms = NULL;
    if ((k->schools = count_list(c, "school_list", "schools", NULL)) < 0 ||
        (k->classrooms = count_list(c, "classroom_list", "classrooms", &rooms)) < 0 ||
        (k->sessions = count_list(c, "session_list", "sessions", NULL)) < 0) {
        json_decref(rooms);
        return -1;
    }
    for (size_t i = 0; i < json_array_size(rooms); i++) {
        const json_t *room = json_array_get(rooms, i);
        const char *id = json_string_value(json_object_get(room, "id"));
        const char *role = json_string_value(json_object_get(room, "role"));
        if (!id || !role)
            continue;
        bool src = strcmp(role, "source") == 0 || strcmp(role, "both") == 0;
        bool rcv = strcmp(role, "receiver") == 0 || strcmp(role, "both") == 0;
        k->sources += src;
        k->receivers += rcv;
        if (src && !k->first_source[0])
            snprintf(k->first_source, sizeof k->first_source, "%s", id);
        if (rcv && !k->first_receiver[0])
            snprintf(k->first_receiver, sizeof k->first_receiver, "%s", id);
    }
    if (k->classrooms > 0)
        missing_tokens(c, rooms, k);
    json_decref(rooms);
    return 0;
}

/* The web address of the relay: wss://h:p -> https://h:p, ws:// -> http://. */
static void web_base(const ctl *c, char *out, size_t n)
{
    const char *u = c->opts.url ? c->opts.url : "wss://localhost:8443";
    bool tls = strncmp(u, "wss://", 6) == 0;
    const char *host = strstr(u, "://") ? strstr(u, "://") + 3 : u;
    size_t len = strcspn(host, "/");
    snprintf(out, n, "%s://%.*s", tls ? "https" : "http", (int)len, host);
}

static void step(ctl *c, int n, bool done, const char *zh, const char *en)
{
    fprintf(c->out, "%s %d. %s\n", done ? "[✓]" : "[ ]", n, T(c, zh, en));
}

static void no_token(ctl *c)
{
    step(c, 0, false, "取得管理员令牌（中继第一次启动时生成）：",
         "Get the operator token (made by the relay's first start):");
    fputs("       export BBT_TOKEN=$(sudo cat /var/lib/banbantong/operator.token)\n"
          "       export BBT_RELAY=wss://localhost:8443\n",
          c->out);
    fputs(T(c, "       然后再运行 bbtctl next。证书与首次启动见操作指南第 2 节。\n",
            "       then run bbtctl next again. Certificates and the first start: operator guide §2.\n"),
          c->out);
}

static void later_steps(ctl *c, const struct counts *k, bool known)
{
    char base[300];
    web_base(c, base, sizeof base);
    const char *rcv = k->first_receiver[0] ? k->first_receiver : "ls-1";
    const char *src = k->first_source[0] ? k->first_source : "hz-301";
    if (k->tokens_known && k->classrooms > 0 && k->missing == 0) {
        step(c, 4, true, "每个教室都有令牌", "Every classroom has a token");
    } else if (k->tokens_known && k->missing > 0) {
        fprintf(c->out, T(c, "[ ] 4. 为教室签发令牌（还有 %ld 个教室没有）：\n",
                          "[ ] 4. Issue classroom tokens (%ld classrooms have none):\n"),
                k->missing);
        for (long i = 0; i < k->missing && i < NEXT_MISSING_SHOWN; i++)
            fprintf(c->out, "       bbtctl token issue --subject %s --role %s --days 365 > %s.token\n",
                    k->missing_ids[i], k->missing_roles[i], k->missing_ids[i]);
    } else {
        step(c, 4, false, "为每个教室签发令牌：", "Issue a token for each classroom:");
        fprintf(c->out, "       bbtctl token issue --subject %s --role source --days 365 > %s.token\n"
                        "       bbtctl token issue --subject %s --role receiver --days 365 > %s.token\n",
                src, src, rcv, rcv);
    }
    step(c, 5, false, "设置教室电脑（听课教室用浏览器一体机模式，主讲教室装 banbantong-node）：",
         "Set up classroom PCs (receivers: the browser in kiosk mode; sources: banbantong-node):");
    fprintf(c->out,
            "       chromium --kiosk --autoplay-policy=no-user-gesture-required \"%s/?token=%s&kiosk=1\"\n"
            "       %s\n",
            base, T(c, "<教室令牌>", "<classroom token>"),
            T(c, "主讲教室：/etc/banbantong/node.ini 中设置 relay、classroom、token_file，然后 "
                 "systemctl enable --now bbt-node",
              "sources: set relay, classroom, token_file in /etc/banbantong/node.ini, then "
              "systemctl enable --now bbt-node"));
    step(c, 6, false, "看管理页（哪个教室红灯、为什么）：", "Watch the dashboard (which classroom is red, why):");
    fprintf(c->out, "       %s/admin?token=%s\n       bbtctl sessions\n", base,
            T(c, "<管理员令牌>", "<operator token>"));
    if (!known)
        return;
    fputs(T(c, "详细步骤：/usr/share/doc/banbantong-relay/operator-guide.zh-CN.md\n",
            "Step by step: /usr/share/doc/banbantong-relay/operator-guide.en.md\n"),
          c->out);
}

int cmd_next(ctl *c)
{
    fputs(T(c, "班班通：接下来要做的事\n", "banbantong: what to do next\n"), c->out);
    struct counts k = {0};
    if (!c->opts.token || !c->opts.token[0]) {
        no_token(c);
        step(c, 1, false, "登记学校：bbtctl school add 编号 名称", "Add schools: bbtctl school add ID NAME");
        step(c, 2, false, "登记教室：bbtctl classroom add 编号 名称 --school 学校 --role source|receiver",
             "Add classrooms: bbtctl classroom add ID NAME --school S --role source|receiver");
        step(c, 3, false, "导入课表：bbtctl import 课表.csv --dry-run，再去掉 --dry-run",
             "Import the timetable: bbtctl import FILE.csv --dry-run, then without --dry-run");
        later_steps(c, &k, true);
        return CTL_OK;
    }
    if (ask(c, &k) != 0)
        return c->client ? CTL_REFUSED : CTL_UNREACHABLE;
    step(c, 0, true, "管理员令牌和中继地址已设置", "Operator token and relay address are set");
    char line[200];
    snprintf(line, sizeof line, "%ld", k.schools);
    fprintf(c->out, "%s 1. %s%s%s\n", k.schools ? "[✓]" : "[ ]",
            T(c, "登记学校：bbtctl school add 编号 名称（已有 ", "Add schools: bbtctl school add ID NAME ("),
            line, T(c, " 所）", " so far)"));
    fprintf(c->out, "%s 2. ", k.sources && k.receivers ? "[✓]" : "[ ]");
    fprintf(c->out, T(c, "登记教室：bbtctl classroom add 编号 名称 --school 学校 --role source|receiver"
                         "（主讲 %ld 个，听课 %ld 个）\n",
                      "Add classrooms: bbtctl classroom add ID NAME --school S --role "
                      "source|receiver (%ld sources, %ld receivers)\n"),
            k.sources, k.receivers);
    fprintf(c->out, "%s 3. ", k.sessions ? "[✓]" : "[ ]");
    fprintf(c->out, T(c, "导入课表：bbtctl import 课表.csv --dry-run，再去掉 --dry-run（已有 %ld 门课程；"
                         "示例 /usr/share/doc/banbantong-relay/examples/timetable.example.csv）\n",
                      "Import the timetable: bbtctl import FILE.csv --dry-run, then without "
                      "--dry-run (%ld sessions; example "
                      "/usr/share/doc/banbantong-relay/examples/timetable.example.csv)\n"),
            k.sessions);
    later_steps(c, &k, true);
    return CTL_OK;
}

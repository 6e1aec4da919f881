/* relay/ctl/main.c — bbtctl: options, the relay connection, dispatch to the commands.
 *
 *   bbtctl [--relay URL] [--token T] [--ca FILE] [--insecure] [--lang en] COMMAND ...
 *
 * The relay's address comes from --relay or BBT_RELAY (default wss://localhost:8443), the
 * operator credential from --token or BBT_TOKEN. Usage and exit codes: ctl.h, docs/SCHEDULE.md.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/control.h"
#include "proto/status.h"
#include "relay/ctl/ctl.h"
#include "relay/schedule/model.h"

static void usage(FILE *f, bool en)
{
    if (!en)
        fputs("用法: bbtctl [--relay 地址] [--token 凭证] [--ca 证书] [--insecure] [--lang en] 命令\n"
              "命令:\n"
              "  school add 编号 名称                   添加（或改名）学校\n"
              "  school list                            列出学校\n"
              "  classroom add 编号 名称 --school 学校 --role source|receiver|both [--timezone 时区]\n"
              "  classroom list [--school 学校]\n"
              "  holiday add 编号 名称 --from 日期 --to 日期\n"
              "  holiday list\n"
              "  session list [--classroom 教室]         列出课表中的课程\n"
              "  session delete 课程编号                 删除整门课程\n"
              "  import 文件.csv [--dry-run]             导入课表（--dry-run 只检查不写入）\n"
              "  sessions [--date 日期] [--classroom 教室]  某天的课程及实时状态\n"
              "  cancel 课程编号 --date 日期 [--reason 原因]  停一次课\n"
              "  move 课程编号 --date 日期 --to 新日期 [--start 时:分 --end 时:分]  调一次课\n"
              "  restore 课程编号 --date 日期              撤销停课或调课\n"
              "  attendance --from 日期 --to 日期 [--classroom 教室] [--csv]  出勤统计\n"
              "  next                                   接下来该做什么（不带参数运行 bbtctl 也一样）\n"
              "  token issue --subject 对象 --role receiver|source|operator|relay [--days 天数]\n"
              "        [--note 说明] [--secret-file 密钥文件]  签发令牌（给出密钥文件则离线签发）\n"
              "  token list                             列出中继签发的令牌\n"
              "  token revoke 令牌编号                   吊销令牌并断开使用它的连接\n"
              "地址默认取环境变量 BBT_RELAY；凭证取 --token、--token-file 文件或 BBT_TOKEN。\n"
              "日期格式 2025-03-03。\n"
              "退出码: 0 成功, 1 中继拒绝, 2 用法错误, 3 连不上中继, 4 协议不符。\n",
              f);
    else
        fputs("usage: bbtctl [--relay URL] [--token T] [--ca FILE] [--insecure] [--lang en] COMMAND\n"
              "commands:\n"
              "  school add ID NAME                     add (or rename) a school\n"
              "  school list\n"
              "  classroom add ID NAME --school S --role source|receiver|both [--timezone TZ]\n"
              "  classroom list [--school S]\n"
              "  holiday add ID NAME --from DATE --to DATE\n"
              "  holiday list\n"
              "  session list [--classroom C]           the timetable's sessions\n"
              "  session delete SESSION                 delete a whole session\n"
              "  import FILE.csv [--dry-run]            import a timetable (--dry-run: check only)\n"
              "  sessions [--date DATE] [--classroom C] a day's lessons with their live state\n"
              "  cancel SESSION --date DATE [--reason R]\n"
              "  move SESSION --date DATE --to DATE2 [--start HH:MM --end HH:MM]\n"
              "  restore SESSION --date DATE            undo a cancel or a move\n"
              "  attendance --from DATE --to DATE [--classroom C] [--csv]\n"
              "  next                                   what to do next (also bbtctl alone)\n"
              "  token issue --subject S --role receiver|source|operator|relay [--days N]\n"
              "        [--note T] [--secret-file FILE]  issue a token (offline with the secret file)\n"
              "  token list                             tokens the relay issued\n"
              "  token revoke JTI                       revoke one and close its connections\n"
              "The relay defaults to $BBT_RELAY; the token comes from --token, --token-file FILE or\n"
              "$BBT_TOKEN. Dates: 2025-03-03.\n"
              "Exit codes: 0 done, 1 refused by the relay, 2 usage, 3 relay unreachable, "
              "4 protocol mismatch.\n",
              f);
}

/* ---- helpers the commands share ------------------------------------------------------------ */

const char *ctl_opt(const ctl *c, const char *name)
{
    for (int i = 0; i + 1 < c->argc; i++)
        if (strcmp(c->argv[i], name) == 0)
            return c->argv[i + 1];
    return NULL;
}

bool ctl_flag(const ctl *c, const char *name)
{
    for (int i = 0; i < c->argc; i++)
        if (strcmp(c->argv[i], name) == 0)
            return true;
    return false;
}

static bool takes_value(const char *opt)
{
    static const char *const flags[] = {"--dry-run", "--csv", NULL};
    for (int i = 0; flags[i]; i++)
        if (strcmp(opt, flags[i]) == 0)
            return false;
    return true;
}

const char *ctl_arg(const ctl *c, int n)
{
    for (int i = 0; i < c->argc; i++) {
        if (strncmp(c->argv[i], "--", 2) == 0) {
            i += takes_value(c->argv[i]);
            continue;
        }
        if (n-- == 0)
            return c->argv[i];
    }
    return NULL;
}

int ctl_usage(ctl *c, const char *zh, const char *en)
{
    fprintf(c->err, "bbtctl: %s\n%s\n", T(c, zh, en),
            T(c, "运行 bbtctl --help 查看用法。", "Run bbtctl --help for the usage."));
    return CTL_USAGE;
}

bool ctl_check_date(ctl *c, const char *name, const char *v)
{
    bbt_day d;
    if (v && bbt_day_parse(v, strlen(v), false, &d) == BBT_OK)
        return true;
    fprintf(c->err, c->en ? "bbtctl: %s: expected a date YYYY-MM-DD, got \"%s\"\n"
                          : "bbtctl: %s：日期格式应为 年-月-日（如 2025-03-03），而不是“%s”\n",
            name, v ? v : "");
    return false;
}

bool ctl_check_time(ctl *c, const char *name, const char *v)
{
    int m;
    if (v && bbt_hhmm_parse(v, strlen(v), false, false, &m) == BBT_OK)
        return true;
    fprintf(c->err, c->en ? "bbtctl: %s: expected a time HH:MM, got \"%s\"\n"
                          : "bbtctl: %s：时间格式应为 时:分（如 08:00），而不是“%s”\n",
            name, v ? v : "");
    return false;
}

int ctl_ensure(ctl *c)
{
    if (c->client)
        return CTL_OK;
    char why[300] = "";
    int st;
    c->client = ctl_connect(&c->opts, &st, why, sizeof why);
    if (c->client)
        return CTL_OK;
    fprintf(c->err, "%s%s\n", T(c, "bbtctl: 连不上中继 ", "bbtctl: cannot reach the relay "),
            c->opts.url);
    fprintf(c->err, "  (%s)\n", why);
    fputs(T(c, "请检查：中继是否在运行（systemctl status bbt-relay）；地址和端口（--relay 或 "
               "BBT_RELAY）；使用 wss 时证书是否可信（--ca）。\n",
            "Check that the relay runs (systemctl status bbt-relay), its address and port "
            "(--relay or BBT_RELAY), and for wss that its certificate is trusted (--ca).\n"),
          c->err);
    return st == BBT_EDENIED ? CTL_REFUSED : st == BBT_EINVAL ? CTL_USAGE : CTL_UNREACHABLE;
}

int ctl_call(ctl *c, json_t *req, const char *want, json_t **reply)
{
    *reply = NULL;
    int rc = ctl_ensure(c);
    if (rc != CTL_OK) {
        json_decref(req);
        return rc;
    }
    char why[300] = "";
    json_t *r = NULL;
    int st = req ? ctl_request(c->client, req, &r, why, sizeof why) : BBT_ENOMEM;
    json_decref(req);
    if (st != BBT_OK) {
        fprintf(c->err, "%s%s\n", T(c, "bbtctl: 中继没有回应：", "bbtctl: no answer from the relay: "),
                why);
        return CTL_UNREACHABLE;
    }
    const char *type = json_string_value(json_object_get(r, "type"));
    if (type && strcmp(type, "error") == 0) {
        const char *zh = json_string_value(json_object_get(r, "message_zh"));
        const char *en = json_string_value(json_object_get(r, "message"));
        fprintf(c->err, "%s%s\n", T(c, "错误：", "error: "), c->en || !zh ? en : zh);
        json_decref(r);
        return CTL_REFUSED;
    }
    if (!type || strcmp(type, want) != 0) {
        fprintf(c->err, T(c, "bbtctl: 中继的回复不符合预期（%s）：请确认 bbtctl 与 bbt-relay 版本一致\n",
                          "bbtctl: unexpected reply (%s): are bbtctl and bbt-relay the same "
                          "version?\n"),
                type ? type : "?");
        json_decref(r);
        return CTL_PROTOCOL;
    }
    *reply = r;
    return CTL_OK;
}

/* ---- main ---------------------------------------------------------------------------------- */

static int dispatch(ctl *c, const char *cmd, const char *verb)
{
    if (strcmp(cmd, "school") == 0)
        return cmd_school(c, verb);
    if (strcmp(cmd, "classroom") == 0)
        return cmd_classroom(c, verb);
    if (strcmp(cmd, "holiday") == 0)
        return cmd_holiday(c, verb);
    if (strcmp(cmd, "session") == 0)
        return cmd_session(c, verb);
    if (strcmp(cmd, "import") == 0)
        return cmd_import(c);
    if (strcmp(cmd, "sessions") == 0)
        return cmd_sessions(c);
    if (strcmp(cmd, "cancel") == 0 || strcmp(cmd, "move") == 0 || strcmp(cmd, "restore") == 0)
        return cmd_occurrence(c, cmd);
    if (strcmp(cmd, "attendance") == 0)
        return cmd_attendance(c);
    if (strcmp(cmd, "next") == 0)
        return cmd_next(c);
    if (strcmp(cmd, "token") == 0)
        return cmd_token(c, verb); /* cmds_token.c */
    return ctl_usage(c, "不认识的命令", "unknown command");
}

/* Nothing but known global options with their values (bbtctl alone, bbtctl --lang en)? */
static bool only_global_opts(int argc, char **argv)
{
    static const char *const valued[] = {"--relay", "--token", "--token-file", "--ca", "--lang",
                                         "--timeout", NULL};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--insecure") == 0)
            continue;
        bool known = false;
        for (int k = 0; valued[k] && !known; k++)
            known = strcmp(argv[i], valued[k]) == 0;
        if (!known || ++i >= argc)
            return false;
    }
    return true;
}

/* Global options come before the command; returns the index of the command or -1. */
static int global_opts(int argc, char **argv, ctl *c)
{
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--insecure") == 0) {
            c->opts.insecure = true;
            continue;
        }
        if (strcmp(a, "--help") == 0)
            return -2;
        if (!v)
            return -1;
        if (strcmp(a, "--relay") == 0)
            c->opts.url = v;
        else if (strcmp(a, "--token") == 0)
            c->opts.token = v, c->token_given = true;
        else if (strcmp(a, "--token-file") == 0)
            c->token_file = v;
        else if (strcmp(a, "--ca") == 0)
            c->opts.ca_file = v;
        else if (strcmp(a, "--lang") == 0)
            c->en = strcmp(v, "en") == 0;
        else if (strcmp(a, "--timeout") == 0)
            c->opts.timeout_ms = atoi(v) * 1000;
        else
            return -1;
        i++;
    }
    return i < argc ? i : -1;
}

int main(int argc, char **argv)
{
    const char *lang = getenv("BBT_LANG");
    ctl c = {.opts = {.url = getenv("BBT_RELAY"), .token = getenv("BBT_TOKEN"),
                      .timeout_ms = 30000},
             .en = lang && strcmp(lang, "en") == 0, .out = stdout, .err = stderr};
    if (!c.opts.url)
        c.opts.url = "wss://localhost:8443";
    int i = global_opts(argc, argv, &c);
    if (i == -1 && only_global_opts(argc, argv)) {
        int rc = cmd_next(&c); /* bbtctl alone (or with only global options): the next steps */
        fputs(c.en ? "All commands: bbtctl --help\n" : "全部命令：bbtctl --help\n", stdout);
        ctl_close(c.client);
        return rc;
    }
    if (i == -2 || (argc == 2 && strcmp(argv[1], "-h") == 0)) {
        usage(stdout, c.en);
        return CTL_OK;
    }
    if (i < 0) {
        usage(stderr, c.en);
        return CTL_USAGE;
    }
    char token_buf[BBT_CTL_TOKEN_MAX + 2];
    if (ctl_read_token_file(&c, token_buf, sizeof token_buf) != CTL_OK) /* cmds_token.c */
        return CTL_USAGE;
    const char *cmd = argv[i++];
    const char *verb = i < argc && strncmp(argv[i], "--", 2) != 0 ? argv[i] : NULL;
    bool has_verb = strcmp(cmd, "school") == 0 || strcmp(cmd, "classroom") == 0 ||
                    strcmp(cmd, "holiday") == 0 || strcmp(cmd, "session") == 0 ||
                    strcmp(cmd, "token") == 0;
    if (has_verb && verb)
        i++;
    c.argc = argc - i;
    c.argv = argv + i;
    int rc = dispatch(&c, cmd, has_verb ? (verb ? verb : "") : NULL);
    ctl_close(c.client);
    return rc;
}

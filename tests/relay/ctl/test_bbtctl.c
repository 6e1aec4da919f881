/* tests/relay/ctl/test_bbtctl.c — bbtctl (relay/ctl/) against the real bbt-relay: every
 * command, its exact output in Chinese and in English, its exit code, and its errors (the
 * relay's refusals, usage errors, an unreachable relay). The relay's clock is driven with the
 * test-only `clock` message from a WebSocket client so that a lesson takes place and the
 * attendance export has something to list. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "support/relay_proc.h"
#include "support/wsclient.h"

static relay_proc rp;
static char url[64], out[65536], err[65536];

static const char *ctl_bin(void)
{
    const char *b = getenv("BBT_CTL_BIN");
    return b ? b : "build/bin/bbtctl";
}

static void slurp(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, size - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
}

/* Run bbtctl with BBT_RELAY set and the given arguments (NULL-terminated); stdout and stderr
 * land in out and err. Returns its exit code. */
static int run(const char *first, ...)
{
    const char *argv[32];
    int n = 0;
    argv[n++] = ctl_bin();
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && n < 31; a = va_arg(ap, const char *))
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    char o[300], e[300];
    snprintf(o, sizeof o, "%s/ctl.out", rp.dir);
    snprintf(e, sizeof e, "%s/ctl.err", rp.dir);
    pid_t pid = fork();
    if (pid == 0) {
        int fo = open(o, O_WRONLY | O_CREAT | O_TRUNC, 0644), fe = open(e, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fo, 1);
        dup2(fe, 2);
        setenv("BBT_RELAY", url, 1);
        unsetenv("BBT_LANG");
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    slurp(o, out, sizeof out);
    slurp(e, err, sizeof err);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void expect(int rc, int want_rc, const char *want_out, const char *want_err)
{
    if (rc != want_rc)
        fail_msg("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", rc, want_rc, out, err);
    if (want_out && strcmp(out, want_out) != 0)
        fail_msg("stdout:\n%s\nwant:\n%s", out, want_out);
    if (want_err && strcmp(err, want_err) != 0)
        fail_msg("stderr:\n%s\nwant:\n%s", err, want_err);
}

static int group_setup(void **state)
{
    (void)state;
    const char *sets[] = {"schedule.test_clock=true", NULL};
    if (relay_start(&rp, 0, sets) != 0)
        return -1;
    snprintf(url, sizeof url, "ws://127.0.0.1:%d", rp.port);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    return relay_stop(&rp, SIGTERM, 5000) == 0 ? 0 : -1;
}

static void test_schools_and_classrooms(void **state)
{
    (void)state;
    expect(run("school", "add", "hz", "杭州市实验小学", NULL), 0,
           "已保存学校 hz（杭州市实验小学）。\n下一步：添加它的教室，例如\n"
           "  bbtctl classroom add hz-301 \"三（1）班\" --school hz --role source\n", "");
    expect(run("--lang", "en", "school", "add", "ls", "龙山教学点", NULL), 0,
           "Saved school ls (龙山教学点).\nNext: add its classrooms, e.g.\n"
           "  bbtctl classroom add ls-301 \"Class 3-1\" --school ls --role source\n", "");
    expect(run("classroom", "add", "hz-301", "三（1）班", "--school", "hz", "--role", "source", NULL),
           0, "已保存教室 hz-301（三（1）班，主讲）。\n下一步：该教室的节点或播放器配置 classroom = "
              "hz-301 即可自动按课表上课；导入课表：bbtctl import 课表.csv --dry-run\n", "");
    expect(run("classroom", "add", "ls-1", "一年级", "--school", "ls", "--role", "receiver", NULL), 0,
           NULL, "");
    expect(run("classroom", "add", "ls-2", "二年级", "--school", "ls", "--role", "receiver", NULL), 0,
           NULL, "");
    expect(run("classroom", "add", "x", "x", "--school", "nope", "--role", "receiver", NULL), 1, "",
           "错误：学校“nope”不存在：请先添加学校\n");
    expect(run("--lang", "en", "classroom", "add", "x", "x", "--school", "nope", "--role",
               "receiver", NULL), 1, "", "error: unknown school \"nope\": add it first (school_set)\n");
    expect(run("classroom", "add", "x", "x", "--school", "ls", "--role", "teacher", NULL), 2, "",
           "bbtctl: --role 只能是 source（主讲）、receiver（听课）或 both\n运行 bbtctl --help 查看用法。\n");
    expect(run("school", "list", NULL), 0,
           "编号                名称                          教室数\n"
           "hz                  杭州市实验小学                1\n"
           "ls                  龙山教学点                    2\n", "");
    expect(run("--lang", "en", "classroom", "list", "--school", "ls", NULL), 0,
           "id                    name                    school          role        now\n"
           "ls-1                  一年级                  ls              receiver    offline\n"
           "ls-2                  二年级                  ls              receiver    offline\n", "");
}

static void test_import(void **state)
{
    (void)state;
    char csv[300];
    expect(run("import", BBT_SOURCE_DIR "/config/timetable.example.csv", "--dry-run", NULL), 0,
           "检查通过（未写入任何内容）：共 4 节课，新增 4，修改 0，不变 0。\n"
           "  第 2 行：新增 music-p3\n  第 3 行：新增 art-p5\n  第 4 行：新增 english-p2\n"
           "  第 5 行：新增 open-0410\n"
           "下一步：正式导入 bbtctl import " BBT_SOURCE_DIR "/config/timetable.example.csv\n", "");
    expect(run("import", BBT_SOURCE_DIR "/config/timetable.example.csv", NULL), 0,
           "已导入：共 4 节课，新增 4，修改 0，不变 0。\n"
           "各教室的节点和播放器会自动收到新课表。下一步：查看今天的课程 bbtctl sessions\n", "");
    snprintf(csv, sizeof csv, "%s/bad.csv", rp.dir);
    FILE *f = fopen(csv, "w");
    fputs("session,source,receivers,weekday,start,end,term_start,term_end\n"
          "x1,hz-301,ls-1,1,10:20,11:00,2025-02-17,2025-07-04\n"
          "x2,hz-301,ls-9,2,11:00,10:00,2025-02-17,2025-07-04\n", f);
    fclose(f);
    char want[1024];
    snprintf(want, sizeof want,
             "%s has 3 problems; nothing was imported:\n"
             "  line 2: source classroom \"hz-301\" would broadcast two sessions at once on Mon "
             "2025-02-17: \"music-p3\" 10:00-10:40 and \"x1\" 10:20-11:00\n"
             "  line 3: session \"x2\": unknown receiving classroom \"ls-9\"\n"
             "  line 3: session \"x2\": ends at 10:00, not after it starts (11:00)\n"
             "Next: fix these rows in the spreadsheet, save as \"CSV UTF-8\" and check again with "
             "bbtctl import %s --dry-run\n", csv, csv);
    expect(run("--lang", "en", "import", csv, NULL), 1, "", want);
    f = fopen(csv, "w");
    fputs("session,title\r\nm1,\xd2\xf4\xc0\xd6\r\n", f); /* 音乐 in GBK */
    fclose(f);
    snprintf(want, sizeof want, "%s：第 2 行：不是有效的 UTF-8 编码（可能是 GBK 文件）：请在 Excel "
                                "中另存为“CSV UTF-8（逗号分隔）”\n没有导入任何内容。请改正后重试。\n", csv);
    expect(run("import", csv, NULL), 1, "", want);
    expect(run("import", "/nonexistent.csv", NULL), 2, "", "bbtctl: 读不了文件 /nonexistent.csv\n");
    /* a file larger than one message (64 KiB) goes in parts */
    f = fopen(csv, "w");
    fputs("课程编号,标题,主讲教室,听课教室,开始,结束,日期\n", f);
    for (int i = 0; i < 2000; i++) /* one-off lessons on 2000 days of 2030..2035 */
        fprintf(f, "big-%d,很长很长很长很长很长很长很长的标题 %d,hz-301,ls-2,10:00,10:40,%d-%02d-%02d\n",
                i, i, 2030 + i / 336, 1 + i / 28 % 12, 1 + i % 28);
    fclose(f);
    expect(run("--lang", "en", "import", csv, "--dry-run", NULL), 0, NULL, "");
    assert_non_null(strstr(out, "Check passed (nothing written): 2000 lessons, 2000 new, 0 changed, "
                                "0 unchanged.\n"));
}

static void test_day_cancel_move(void **state)
{
    (void)state;
    expect(run("sessions", "--date", "2025-03-03", NULL), 0,
           "2025-03-03 的课程：\n"
           "10:00-10:40  music-p3        音乐：茉莉花          已结束    主讲 hz-301(未连接)  听课 "
           "0/2：ls-1(未连接)，ls-2(未连接)\n"
           "共 1 节课。“未连接”的教室请检查其电脑是否开机、网络是否正常。\n", "");
    expect(run("cancel", "music-p3", "--date", "2025-03-10", "--reason", "运动会", NULL), 0,
           "已停课：music-p3 在 2025-03-10 不上课。\n相关教室会自动收到新的课表。如需撤销：bbtctl "
           "restore music-p3 --date 2025-03-10\n", "");
    expect(run("--lang", "en", "move", "music-p3", "--date", "2025-03-17", "--to", "2025-03-18",
               "--start", "14:00", "--end", "14:40", NULL), 0,
           "Moved: music-p3 from 2025-03-17 to 2025-03-18 14:00-14:40.\nThe classrooms concerned "
           "get their new plan by themselves. To undo: bbtctl restore music-p3 --date 2025-03-17\n", "");
    expect(run("move", "music-p3", "--date", "2025-03-18", "--to", "2025-03-19", NULL), 1, "",
           "错误：课程 \"music-p3\" 在 2025-03-18 没有课，无法停课或调课\n");
    expect(run("--lang", "en", "sessions", "--date", "2025-03-10", NULL), 0,
           "Lessons of 2025-03-10:\n"
           "10:00-10:40  music-p3        音乐：茉莉花          cancelled source hz-301(not connected)  "
           "receivers 0/2: ls-1(not connected), ls-2(not connected)  (运动会)\n"
           "1 lesson(s). For a classroom \"not connected\", check that its PC is on and online.\n", "");
    expect(run("restore", "music-p3", "--date", "2025-03-10", NULL), 0,
           "已恢复：music-p3 在 2025-03-10 按原课表上课。\n相关教室会自动收到新的课表。\n", "");
    expect(run("sessions", "--date", "2025-13-01", NULL), 2, "",
           "bbtctl: --date：日期格式应为 年-月-日（如 2025-03-03），而不是“2025-13-01”\n");
    expect(run("move", "music-p3", "--date", "2025-03-17", NULL), 2, NULL, NULL);
}

/* A receiver attends 2025-03-24's lesson on a driven clock; the export lists it. */
static void test_attendance(void **state)
{
    (void)state;
    tc_ctx *t = tc_new();
    tc_conn *op = tc_connect(t, rp.port, NULL), *rcv = tc_connect(t, rp.port, NULL);
    assert_int_equal(tc_hello(op, "operator", NULL), 0);
    assert_int_equal(tc_hello(rcv, "receiver", "ls-1"), 0);
    const long long t10 = 1742781600000000LL; /* 2025-03-24 10:00 +08:00 */
    char m[160];
    snprintf(m, sizeof m, "{\"type\":\"clock\",\"id\":1,\"time_us\":%lld,\"scale\":0}", t10);
    tc_send_text(op, m);
    json_decref(tc_recv_type(op, "time", 3000));
    tc_send_text(rcv, "{\"type\":\"subscribe\",\"session\":\"2025-03-24.music-p3\"}");
    json_decref(tc_recv_type(rcv, "tracks", 3000));
    snprintf(m, sizeof m, "{\"type\":\"clock\",\"id\":2,\"time_us\":%lld}", t10 + 30 * 60000000LL);
    tc_send_text(op, m);
    json_decref(tc_recv_type(op, "time", 3000));
    tc_close(rcv);
    tc_free(t);
    expect(run("--lang", "en", "attendance", "--from", "2025-03-24", "--to", "2025-03-24", NULL), 0,
           "classroom           session         date        joined    left      minutes   stalls\n"
           "ls-1                music-p3        2025-03-24  10:00:00  10:30:00  30.0      0\n"
           "ls-2                music-p3        2025-03-24  -         -         0.0       0\n"
           "2 rows, 1 absent (0 minutes). As a spreadsheet: add --csv > attendance.csv\n", "");
    expect(run("attendance", "--from", "2025-03-24", "--to", "2025-03-24", "--csv", NULL), 0,
           "\xef\xbb\xbf教室,课程,日期,加入,离开,在线分钟,卡顿次数\r\n"
           "ls-1,music-p3,2025-03-24,10:00:00,10:30:00,30.0,0\r\n"
           "ls-2,music-p3,2025-03-24,,,0.0,0\r\n", "");
}

static void test_unreachable_and_usage(void **state)
{
    (void)state;
    int port = free_port();
    char u[64];
    snprintf(u, sizeof u, "--relay=ws://127.0.0.1:%d", port);
    char addr[64];
    snprintf(addr, sizeof addr, "ws://127.0.0.1:%d", port);
    int rc = run("--relay", addr, "school", "list", NULL);
    assert_int_equal(rc, 3);
    assert_non_null(strstr(err, "bbtctl: 连不上中继 ws://127.0.0.1:"));
    assert_non_null(strstr(err, "请检查：中继是否在运行"));
    expect(run("--relay", "http://x", "school", "list", NULL), 2, NULL, NULL);
    expect(run("frobnicate", NULL), 2, "", "bbtctl: 不认识的命令\n运行 bbtctl --help 查看用法。\n");
    expect(run("--help", NULL), 0, NULL, "");
    assert_non_null(strstr(out, "退出码: 0 成功, 1 中继拒绝, 2 用法错误, 3 连不上中继, 4 协议不符。"));
    (void)u;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schools_and_classrooms),
        cmocka_unit_test(test_import),
        cmocka_unit_test(test_day_cancel_move),
        cmocka_unit_test(test_attendance),
        cmocka_unit_test(test_unreachable_and_usage),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/* relay/ctl/text.c — bbtctl's text: display widths for tables with Chinese, CSV fields, and
 * the translations of protocol state names (ctl.h). */
#include <string.h>

#include "relay/ctl/ctl.h"

int ctl_width(const char *s)
{
    int w = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned cp;
        int n;
        if (*p < 0x80)
            cp = *p, n = 1;
        else if (*p < 0xe0)
            cp = (unsigned)(*p & 0x1f) << 6 | (p[1] & 0x3f), n = 2;
        else if (*p < 0xf0)
            cp = (unsigned)(*p & 0x0f) << 12 | (unsigned)(p[1] & 0x3f) << 6 | (p[2] & 0x3f), n = 3;
        else
            cp = 0x10000, n = 4;
        for (int i = 1; i < n; i++)
            if (!p[i])
                return w + 1;
        /* East Asian wide: CJK, Hangul, full-width forms */
        w += (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
                     (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
                     (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
                     (cp >= 0xffe0 && cp <= 0xffe6) || cp >= 0x20000
                 ? 2
                 : 1;
        p += n;
    }
    return w;
}

void ctl_pad(FILE *f, const char *s, int width)
{
    fputs(s, f);
    for (int w = ctl_width(s); w < width; w++)
        fputc(' ', f);
}

void ctl_csv_field(FILE *f, const char *s, bool last)
{
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    if (quote)
        fputc('"', f);
    fputs(last ? "\r\n" : ",", f);
}

static const char *lookup(const ctl *c, const char *key, const char *const (*t)[3], size_t n)
{
    for (size_t i = 0; key && i < n; i++)
        if (strcmp(t[i][0], key) == 0)
            return T(c, t[i][1], t[i][2]);
    return key ? key : "-";
}

const char *ctl_state_text(const ctl *c, const char *state)
{
    static const char *const t[][3] = {
        {"upcoming", "未开始", "upcoming"}, {"starting", "即将开始", "starting"},
        {"live", "上课中", "live"},         {"ended", "已结束", "ended"},
        {"cancelled", "已停课", "cancelled"}, {"holiday", "假期", "holiday"},
        {"moved", "已调课", "moved"},         {"none", "无", "none"},
        {"waiting", "等待主讲", "waiting"},   {"interrupted", "中断", "interrupted"},
        {"failed", "失败", "failed"},
        /* the reasons of a failed lesson (docs/PROTOCOL.md §3.18.10) */
        {"source did not publish by start", "主讲教室未按时开始直播", "source did not publish by start"},
        {"publisher lost", "主讲教室直播中断", "publisher lost"},
    };
    return lookup(c, state, t, sizeof t / sizeof t[0]);
}

const char *ctl_presence_text(const ctl *c, const char *presence)
{
    static const char *const t[][3] = {
        {"watching", "在线上课", "in class"},
        {"connected", "已连接未进课", "connected, not in class"},
        {"absent", "未连接", "not connected"},
    };
    return lookup(c, presence, t, sizeof t / sizeof t[0]);
}

const char *ctl_role_text(const ctl *c, const char *role)
{
    static const char *const t[][3] = {
        {"source", "主讲", "source"}, {"receiver", "听课", "receiver"}, {"both", "主讲+听课", "both"},
    };
    return lookup(c, role, t, sizeof t / sizeof t[0]);
}

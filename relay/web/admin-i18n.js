// admin-i18n.js — every string the dashboard (/admin) shows, in Simplified Chinese (the default)
// and English, in the style of i18n.js (the player's): the language comes from ?lang=en|zh, else
// from the choice saved by the toggle (shared with the player), else zh-CN.

import { createI18n } from './lang.js';

const STRINGS = {
  title: { zh: '班班通 县级监控', en: 'banbantong county dashboard' },
  lang_toggle: { zh: 'English', en: '中文' },
  conn_connecting: { zh: '正在连接中继…', en: 'Connecting to the relay…' },
  conn_live: { zh: '实时更新中', en: 'Live' },
  conn_lost: { zh: '连接中断，{s} 秒后重试', en: 'Connection lost; retrying in {s} s' },
  denied: { zh: '需要管理员凭证', en: 'An operator token is needed' },
  denied_sub: {
    zh: '请使用安装时打印的管理员链接打开本页（…/admin?token=…），或向县电教管理员索取管理员凭证。',
    en: 'Open this page with the operator link printed at installation (…/admin?token=…), or ask the county IT administrator for an operator token.',
  },
  forget_token: { zh: '清除已保存的凭证', en: 'Forget the saved token' },
  relay_summary: {
    zh: '连接 {c} 个 · 主讲 {p} 个 · 观看 {v} 个 · 已运行 {u}',
    en: '{c} connections · {p} publishing · {v} watching · up {u}',
  },
  classrooms: { zh: '教室状态', en: 'Classrooms' },
  classrooms_none: { zh: '暂无教室连接，今天也没有课', en: 'No classroom is connected and there is no lesson today' },
  counts: { zh: '红 {r} · 黄 {a} · 绿 {g} · 空闲 {i}', en: 'red {r} · amber {a} · green {g} · idle {i}' },
  lessons: { zh: '今日课表', en: 'Today’s lessons' },
  lessons_none: { zh: '今天没有课', en: 'No lesson today' },
  errors: { zh: '最近错误', en: 'Recent errors' },
  errors_none: { zh: '没有错误', en: 'No errors' },
  legend: {
    zh: '红：需要立即处理 · 黄：质量下降或即将出问题 · 绿：正常 · 灰：空闲（现在没有课）',
    en: 'red: act now · amber: degraded or about to fail · green: fine · grey: idle (no lesson now)',
  },
  // lights
  light_green: { zh: '正常', en: 'OK' },
  light_amber: { zh: '注意', en: 'Warning' },
  light_red: { zh: '故障', en: 'Problem' },
  light_idle: { zh: '空闲', en: 'Idle' },
  // reasons (relay/dash.h)
  r_offline: { zh: '未连接', en: 'not connected' },
  r_not_publishing: { zh: '未推流（没有开始直播）', en: 'not broadcasting' },
  r_not_watching: { zh: '已连接但未进入课堂', en: 'connected but not in the lesson' },
  r_no_source: { zh: '主讲教室无信号', en: 'no signal from the teaching classroom' },
  r_latency: { zh: '延迟过高', en: 'high latency' },
  r_stalls: { zh: '播放卡顿', en: 'playback stalls' },
  r_audio_only: { zh: '网络差，仅有声音', en: 'poor link: sound only' },
  r_low_layer: { zh: '网络差，画质降低', en: 'poor link: low picture quality' },
  r_no_sound: { zh: '没有声音', en: 'no sound' },
  r_no_reports: { zh: '播放端无回报', en: 'the player stopped reporting' },
  // roles and details
  role_source: { zh: '主讲', en: 'teaching' },
  role_receiver: { zh: '听课', en: 'attending' },
  layer: { zh: '画质 {l}', en: 'quality {l}' },
  layer_audio: { zh: '仅声音', en: 'sound only' },
  layer_courseware: { zh: '仅课件', en: 'slides only' },
  latency: { zh: '延迟 {ms} 毫秒', en: 'latency {ms} ms' },
  stalls: { zh: '近 1 分钟卡顿 {n} 次', en: '{n} stalls in the last minute' },
  connections: { zh: '{n} 个连接', en: '{n} connections' },
  last_seen: { zh: '最后在线：{t}前', en: 'last seen {t} ago' },
  never_seen: { zh: '今天未上线', en: 'not seen since the relay started' },
  no_report: { zh: '{s} 秒无回报', en: 'no report for {s} s' },
  // lesson table
  col_time: { zh: '时间', en: 'Time' },
  col_lesson: { zh: '课程', en: 'Lesson' },
  col_source: { zh: '主讲教室', en: 'Teaching' },
  col_receivers: { zh: '听课教室', en: 'Attending' },
  col_state: { zh: '状态', en: 'State' },
  col_viewers: { zh: '观看', en: 'Viewers' },
  col_kbps: { zh: '下行码率', en: 'Egress' },
  kbps: { zh: '{n} kbit/s', en: '{n} kbit/s' },
  watching_of: { zh: '{w}/{n} 在线', en: '{w}/{n} in' },
  pub_up: { zh: '信号正常', en: 'signal up' },
  pub_down: { zh: '无信号', en: 'no signal' },
  s_upcoming: { zh: '未开始', en: 'upcoming' },
  s_starting: { zh: '即将开始', en: 'starting' },
  s_live: { zh: '直播中', en: 'live' },
  s_ended: { zh: '已结束', en: 'ended' },
  s_cancelled: { zh: '已停课', en: 'cancelled' },
  s_holiday: { zh: '假期', en: 'holiday' },
  s_moved: { zh: '已调课', en: 'moved' },
  s_failed: { zh: '失败', en: 'failed' },
  // failure reasons (docs/PROTOCOL.md §3.18.10)
  f_source_did_not_publish_by_start: { zh: '主讲教室未按时开始直播', en: 'the source did not publish by the start' },
  f_publisher_lost: { zh: '主讲教室直播中断', en: 'the publisher was lost' },
  // errors by status name (docs/PROTOCOL.md §4)
  e_BBT_EDENIED: { zh: '权限不足', en: 'not allowed' },
  e_BBT_ETOKEN: { zh: '凭证格式错误', en: 'malformed token' },
  e_BBT_ETOKEN_SIG: { zh: '凭证签名无效', en: 'invalid token signature' },
  e_BBT_ETOKEN_EXPIRED: { zh: '凭证已过期', en: 'token expired' },
  e_BBT_ETIMEOUT: { zh: '超时', en: 'timed out' },
  e_BBT_ELIMIT: { zh: '超出限制', en: 'limit reached' },
  e_BBT_EEXIST: { zh: '已有主讲连接', en: 'already exists' },
  e_BBT_ENOTFOUND: { zh: '未找到', en: 'not found' },
  e_BBT_EFULL: { zh: '队列已满', en: 'queue full' },
  e_BBT_EMSG: { zh: '消息格式错误', en: 'malformed message' },
  e_BBT_EFRAME: { zh: '媒体帧错误', en: 'malformed media frame' },
  e_lesson: { zh: '课程故障', en: 'lesson failure' },
  // units
  u_s: { zh: '{n} 秒', en: '{n} s' },
  u_min: { zh: '{n} 分钟', en: '{n} min' },
  u_h: { zh: '{n} 小时', en: '{n} h' },
  u_d: { zh: '{n} 天', en: '{n} d' },
};

const i18n = createI18n(STRINGS);
export const { lang, setLang, has, t } = i18n;

export const KEYS = Object.keys(STRINGS);
export const ALL = STRINGS;

// i18n.js — every string the player shows, in Simplified Chinese (the default) and English.
// The language comes from ?lang=en|zh, else from a choice saved by the toggle, else zh-CN.

import { createI18n } from './lang.js';

const STRINGS = {
  title: { zh: '班班通 课堂直播', en: 'banbantong live classroom' },
  connecting: { zh: '正在连接', en: 'Connecting' },
  connecting_sub: { zh: '正在连接课堂服务器，请稍候…', en: 'Connecting to the classroom server, please wait…' },
  reconnecting: { zh: '正在重新连接', en: 'Reconnecting' },
  reconnecting_sub: {
    zh: '网络连接中断，{s} 秒后自动重试（第 {n} 次）',
    en: 'The connection was lost; trying again in {s} s (attempt {n})',
  },
  reconnecting_now: { zh: '网络连接中断，正在重试…', en: 'The connection was lost; trying again…' },
  waiting: { zh: '等待上课', en: 'Waiting for the lesson' },
  waiting_sub: { zh: '上课后画面和声音会自动出现，无需操作', en: 'Picture and sound will appear by themselves when the lesson starts' },
  interrupted_sub: {
    zh: '主讲课堂的信号暂时中断，恢复后自动继续',
    en: 'The teaching classroom’s signal was interrupted; playback resumes by itself',
  },
  ended: { zh: '课程已结束', en: 'The lesson has ended' },
  ended_sub: { zh: '下一节课开始后会自动播放', en: 'The next lesson will play by itself when it starts' },
  starting: { zh: '正在打开画面', en: 'Opening the picture' },
  between: { zh: '课间休息', en: 'Between lessons' },
  next_lesson: { zh: '下一节课：{title}，{when} 开始，届时自动播放', en: 'Next lesson: {title} at {when}; it will play by itself' },
  no_next_lesson: { zh: '课表中暂时没有下一节课', en: 'No further lesson on the timetable' },
  plan_wait_sub: { zh: '正在读取本教室的课表…', en: 'Reading this classroom’s timetable…' },
  poor_network: { zh: '网络较差，仅显示课件/声音', en: 'Poor network — showing slides/audio only' },
  audio_only: { zh: '仅声音', en: 'Audio only' },
  tap_for_sound: { zh: '点击开始播放声音', en: 'Click to start sound' },
  tap_for_sound_sub: { zh: '点一下屏幕任意位置即可', en: 'Click anywhere on the screen' },
  fullscreen: { zh: '全屏', en: 'Full screen' },
  exit_fullscreen: { zh: '退出全屏', en: 'Exit full screen' },
  lang_toggle: { zh: 'English', en: '中文' },
  no_session: { zh: '请输入课程编号', en: 'Enter the session id' },
  no_session_sub: {
    zh: '课程编号由学校或教育局提供。也可以直接打开这个地址：',
    en: 'The school or the education bureau gives the session id. You can also open this address directly:',
  },
  no_session_example: { zh: '课程编号', en: 'SESSION-ID' },
  session_label: { zh: '课程编号', en: 'Session id' },
  join: { zh: '进入课堂', en: 'Join the lesson' },
  bad_session: {
    zh: '课程编号只能包含字母、数字和 _ . -（最多 64 个字符）',
    en: 'A session id has only letters, digits and _ . - (at most 64 characters)',
  },
  unsupported: { zh: '此浏览器无法播放直播课', en: 'This browser cannot play the live lesson' },
  unsupported_sub: {
    zh: '请使用新版 Chrome、Chromium 或 Edge 浏览器（94 版或更新）。360 安全浏览器、QQ 浏览器等请切换到“极速模式”（基于 Chromium 94 或更新版本）。',
    en: 'Please use a recent Chrome, Chromium or Edge (version 94 or later). In 360 Browser or QQ Browser, switch to “极速模式” (speed mode, built on Chromium 94 or later).',
  },
  unsupported_detail: { zh: '缺少 WebCodecs（VideoDecoder）功能', en: 'WebCodecs (VideoDecoder) is missing' },
  denied: { zh: '无法进入课堂', en: 'Cannot join the lesson' },
  denied_sub: {
    zh: '授权无效或已过期，请联系学校或教育局的管理员。',
    en: 'The access token is invalid or has expired; please contact the school’s or the bureau’s administrator.',
  },
  error_sub: { zh: '服务器报告：{m}', en: 'The server reports: {m}' },
  video_codec_unsupported: {
    zh: '此浏览器不支持该视频格式（{c}），仅播放声音',
    en: 'This browser cannot decode the video format ({c}); playing sound only',
  },
  stats_title: { zh: '播放统计', en: 'Playback statistics' },
};

const i18n = createI18n(STRINGS);
export const { lang, setLang, t } = i18n;

export const KEYS = Object.keys(STRINGS);
export const ALL = STRINGS;

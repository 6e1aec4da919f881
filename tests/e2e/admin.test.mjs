#!/usr/bin/env node
// tests/e2e/admin.test.mjs — the county dashboard (/admin, issue 9 item 3) in headless Chromium
// against a real bbt-relay (timetable on a driven clock) and a real bbt-node publishing its test
// sources, with a real player page watching as a rural classroom.
//
// Monday 2025-03-03 10:01 (driven clock), two lessons 10:00–10:40:
//   e2e-music: e2e-source → e2e-room      the node publishes it, the player (?classroom=) watches
//   e2e-art:   e2e-src2   → e2e-absent    nobody connects: "failed", both classrooms red
// Checks: /admin is served; the page takes ?token= once (kept in localStorage, gone from the
// address bar), says hello as operator and receives `dash` snapshots live; the Chinese page shows
// 直播中 with the lesson's title, 失败 with its reason, a red light for the absent classrooms and
// a live one for the watching classroom; a receiver's dash_subscribe is refused and listed in the
// recent errors; the English switch; a screenshot that is not blank and shows a red light; the
// phone layout does not overflow; /metrics has the per-classroom and per-session gauges; no
// console errors. Prints one line per check and "N passed, N failed".
//
// Environment: see harness.mjs (CTest passes BBT_RELAY_BIN, BBT_NODE_BIN and BBT_CTL_BIN).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checks, ConsoleWatch, config, freePort, launchBrowser, sleep, startNode, startRelay, stop } from './harness.mjs';
import { metrics, openOperator, shanghaiUs } from './operator.mjs';

const DAY = '2025-03-03'; // a Monday
const MUSIC = `${DAY}.e2e-music`;
const ART = `${DAY}.e2e-art`;
const TITLE = '音乐：茉莉花';

const c = config();
c.artifacts = join(c.artifacts, `admin-${process.pid}`); // a fresh timetable database
mkdirSync(c.artifacts, { recursive: true });
const watch = new ConsoleWatch();
const { results, check } = checks();

async function timetable(op) {
  await op.must({ type: 'school_set', school: { id: 'e2e-city', name: '城区实验小学' } });
  await op.must({ type: 'school_set', school: { id: 'e2e-village', name: '龙山教学点' } });
  const room = (id, school, role) => op.must({ type: 'classroom_set', classroom: { id, name: id, school, role } });
  await room('e2e-source', 'e2e-city', 'source');
  await room('e2e-src2', 'e2e-city', 'source');
  await room('e2e-room', 'e2e-village', 'receiver');
  await room('e2e-absent', 'e2e-village', 'receiver');
  const lesson = (id, title, source, receivers) => op.must({ type: 'session_set', session: {
    id, title, subject: '音乐', teacher: '王老师', source, receivers, weekday: 1, start: '10:00', end: '10:40',
    term_start: '2025-02-17', term_end: '2025-07-04' } });
  await lesson('e2e-music', TITLE, 'e2e-source', ['e2e-room']);
  await lesson('e2e-art', '美术：水墨小鸡', 'e2e-src2', ['e2e-absent']);
}

// An operator token when this relay can sign one (bbtctl token issue with the relay's secret);
// on a lab relay without that command, the empty token (the relay then trusts the stated role).
function operatorToken() {
  const saved = join(c.artifacts, 'operator.token');
  if (existsSync(saved)) return readFileSync(saved, 'utf8').trim();
  const ctl = process.env.BBT_CTL_BIN;
  const secret = join(c.artifacts, 'secret');
  if (!ctl || !existsSync(secret)) return '';
  try {
    const out = execFileSync(ctl, ['token', 'issue', '--secret-file', secret, '--subject', 'e2e-admin',
      '--role', 'operator', '--days', '1'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return /^[A-Za-z0-9_.-]{16,}$/.test(out) ? out : '';
  } catch (_) {
    return '';
  }
}

const bodyText = (page) => page.evaluate(() => document.body.innerText);
const card = (page, id) => page.evaluate((cid) => {
  const e = document.querySelector(`.room[data-classroom="${cid}"]`);
  return e ? { light: e.dataset.light, text: e.innerText } : null;
}, id);
const row = (page, id) => page.evaluate((sid) => {
  const e = document.querySelector(`tr[data-session="${sid}"]`);
  return e ? { state: e.dataset.state, text: e.innerText } : null;
}, id);

// Luma spread of a PNG and how many of its pixels are the dashboard's red, measured in a blank
// page (no CSP there) on a 2-pixel grid.
async function pictureStats(browser, png) {
  const page = await browser.newPage();
  const r = await page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const cv = document.createElement('canvas');
    cv.width = img.width;
    cv.height = img.height;
    const g = cv.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, cv.width, cv.height).data;
    let n = 0; let s = 0; let s2 = 0; let red = 0;
    for (let y = 0; y < cv.height; y += 2) {
      for (let x = 0; x < cv.width; x += 2) {
        const i = (y * cv.width + x) * 4;
        const l = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
        n++; s += l; s2 += l * l;
        if (Math.abs(d[i] - 0xd9) < 12 && Math.abs(d[i + 1] - 0x30) < 12 && Math.abs(d[i + 2] - 0x25) < 12) red++;
      }
    }
    const mean = s / n;
    return { w: cv.width, h: cv.height, variance: s2 / n - mean * mean, red };
  }, png.toString('base64'));
  await page.close();
  return r;
}

// A receiver may not subscribe to the dashboard (role mask: operator).
function receiverTriesDash(page, base) {
  return page.evaluate((url) => new Promise((resolve) => {
    const ws = new WebSocket(url, 'bbt.v1');
    ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', id: 1, token: '', role: 'receiver', classroom: 'e2e-nosy' }));
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data);
      if (m.type === 'welcome') ws.send(JSON.stringify({ type: 'dash_subscribe', id: 7 }));
      if (m.type === 'error' || m.type === 'dash') {
        ws.close();
        resolve(m);
      }
    };
    setTimeout(() => resolve(null), 5000);
  }), `${base.replace(/^http/, 'ws')}/ws`);
}

async function dashboard(browser, base, token) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  watch.attach(page, 'admin');
  await page.goto(`${base}/admin?token=${encodeURIComponent(token)}`);
  await page.waitForFunction(() => window.bbtDash && window.bbtDash.snapshots >= 2, null, { timeout: 15000, polling: 100 });
  const where = await page.evaluate(() => ({ search: location.search, path: location.pathname,
    saved: localStorage.getItem('bbt.admin.token') }));
  check('the token is taken from the URL once, kept, and removed from the address bar',
    where.search === '' && where.path === '/admin' && where.saved === token,
    JSON.stringify({ ...where, saved: where.saved === token, token: token ? 'signed by the relay\'s secret' : 'lab mode (empty)' }));
  return page;
}

async function checkChinese(page) {
  await page.waitForFunction((ids) => {
    const m = document.querySelector(`tr[data-session="${ids[0]}"]`);
    const a = document.querySelector(`tr[data-session="${ids[1]}"]`);
    return m && a && m.dataset.state === 'live' && a.dataset.state === 'failed';
  }, [MUSIC, ART], { timeout: 45000, polling: 200 }); // the node starts GStreamer first
  const music = await row(page, MUSIC);
  const art = await row(page, ART);
  check('zh: the live lesson: 直播中, its title, the signal up', music.text.includes('直播中') &&
    music.text.includes(TITLE) && music.text.includes('信号正常'), music.text.replace(/\s+/g, ' '));
  check('zh: the lesson nobody publishes: 失败 and why', art.text.includes('失败') &&
    art.text.includes('主讲教室未按时开始直播') && art.text.includes('无信号'), art.text.replace(/\s+/g, ' '));
  const absent = await card(page, 'e2e-absent');
  const src2 = await card(page, 'e2e-src2');
  check('zh: classrooms expected in a lesson and not connected are red: 未连接',
    absent && absent.light === 'red' && absent.text.includes('未连接') && src2 && src2.light === 'red',
    JSON.stringify({ absent, src2 }));
  // the player decodes on a busy machine: its light may say stalls or latency (judged from its
  // own reports), but it is in the lesson and shows what it plays
  const plays = (text) => /画质|仅声音|仅课件/.test(text); // a poor moment may be audio only
  await page.waitForFunction(() => {
    const e = document.querySelector('.room[data-classroom="e2e-room"]');
    return e && /画质|仅声音|仅课件/.test(e.innerText);
  }, null, { timeout: 30000, polling: 200 }).catch(() => {});
  const room = await card(page, 'e2e-room');
  check('zh: the watching classroom is in its lesson and shows its quality', room && plays(room.text) &&
    !room.text.includes('未连接') && !room.text.includes('未进入课堂'), JSON.stringify(room));
  const source = await card(page, 'e2e-source');
  check('zh: the publishing classroom is green', source && source.light === 'green', JSON.stringify(source));
  const text = await bodyText(page);
  check('zh: headings and the lesson failure in the recent errors', text.includes('教室状态') &&
    text.includes('今日课表') && text.includes('最近错误') && text.includes('课程故障：主讲教室未按时开始直播'));
}

async function checkEnglish(page) {
  await page.click('#lang-button');
  const text = await bodyText(page);
  const music = await row(page, MUSIC);
  check('en: the switch shows English', text.includes('Classrooms') && text.includes('Today’s lessons') &&
    music.text.includes('live') && text.includes('not connected') && !text.includes('教室状态'), music.text.replace(/\s+/g, ' '));
  await page.click('#lang-button');
  check('zh again after switching back', (await bodyText(page)).includes('直播中'));
}

async function checkPicture(browser, page) {
  const png = await page.screenshot({ path: join(c.artifacts, 'admin.png') });
  const p = await pictureStats(browser, png);
  check('screenshot not blank, with a red light', p.w > 0 && p.variance > 100 && p.red > 20,
    `${p.w}x${p.h}, variance ${p.variance.toFixed(0)}, red pixels ${p.red}`);
  await page.setViewportSize({ width: 390, height: 844 });
  await sleep(300);
  const fit = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, w: innerWidth,
    rooms: document.querySelectorAll('.room').length }));
  await page.screenshot({ path: join(c.artifacts, 'admin-phone.png'), fullPage: true });
  check('phone: the page fits the screen width', fit.sw <= fit.w + 1 && fit.rooms >= 4, JSON.stringify(fit));
}

async function checkMetrics(base) {
  const m = await metrics(base);
  check('/metrics: per-classroom light and per-session publisher gauges',
    m['bbt_classroom_light{classroom="e2e-absent"}'] === 2 && m['bbt_classroom_connected{classroom="e2e-source"}'] >= 1 &&
    m[`bbt_session_publisher_up{session="${MUSIC}"}`] === 1 && m[`bbt_session_publisher_up{session="${ART}"}`] === 0,
    JSON.stringify(Object.fromEntries(Object.entries(m).filter(([k]) => /classroom_light|publisher_up/.test(k)))));
}

async function main() {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const relay = await startRelay(c, port, '[schedule]\ntest_clock = true\n');
  const browser = await launchBrowser(c);
  let node = null;
  try {
    const html = await (await fetch(`${base}/admin`)).text();
    check('/admin serves the dashboard page', html.includes('班班通 县级监控') && html.includes('/admin.js'));
    const op = await openOperator(browser, base);
    await timetable(op);
    await op.must({ type: 'clock', time_us: shanghaiUs(DAY, '10:01'), scale: 0 });
    node = startNode(c, port, MUSIC); // e2e-source publishes the music lesson
    const player = await browser.newPage();
    watch.attach(player, 'player');
    await player.goto(`${base}/?classroom=e2e-room`);
    const refused = await receiverTriesDash(player, base);
    check('a receiver may not subscribe to the dashboard', refused && refused.type === 'error' &&
      refused.name === 'BBT_EDENIED', JSON.stringify(refused));
    const page = await dashboard(browser, base, operatorToken());
    await checkChinese(page);
    const t = await bodyText(page);
    check('zh: the refused dash_subscribe is in the recent errors', t.includes('e2e-nosy') && t.includes('权限不足'));
    await checkEnglish(page);
    await checkMetrics(base);
    await checkPicture(browser, page);
    const n0 = await page.evaluate(() => window.bbtDash.snapshots);
    await sleep(2500);
    const n1 = await page.evaluate(() => window.bbtDash.snapshots);
    check('snapshots keep coming (about one a second)', n1 - n0 >= 1, `${n0} → ${n1}`);
    await page.context().close();
    await player.close();
    await op.close();
  } catch (e) {
    check(`admin: ${e && e.message ? e.message.split('\n')[0] : e}`, false);
  } finally {
    check('no console errors', watch.errors.length === 0, watch.errors.slice(0, 3).join(' | '));
    await browser.close();
    if (node) await stop(node);
    await stop(relay);
  }
  console.log(`${results.passed} passed, ${results.failed} failed`);
  process.exit(results.failed ? 1 : 0);
}

main();

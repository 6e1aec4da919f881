#!/usr/bin/env node
// tests/e2e/timetable.test.mjs — a rural classroom's player follows the county timetable by
// itself (issue 7 item 2, issue 5 item 1): headless Chromium against a real bbt-relay with the
// timetable on a driven clock ([schedule] test_clock, the operator message `clock`) and a real
// bbt-node that follows its classroom's plan (no session configured: it publishes when the
// relay says `start`). The page is opened with only its classroom (`?classroom=`, lab mode).
// Prints one line per check and "N passed, N failed".
//
// Monday 2025-03-03, weekly lesson "e2e-music" 10:00–10:05, source e2e-source → e2e-room:
//   09:55  page opened: "课间休息", "下一节课：音乐：茉莉花，10:00 开始…"; nothing subscribed
//   09:58  the node is told to start (lead 2 min) and publishes 2025-03-03.e2e-music
//   10:00  the plan names it live: the page subscribes by itself and decodes frames, no status
//   10:02  a second page (English) opens mid-lesson: joins at once (late join)
//   10:06  the plan no longer names it: both pages leave, show the between-lessons state with
//          next week's lesson ("3月10日（周一）10:00"), frames stop
//   10:06  an operator adds a one-off lesson at 10:30: the open page announces it (plan pushed)
//   console: no errors on any page
//
// Environment: see harness.mjs (CTest passes BBT_RELAY_BIN and BBT_NODE_BIN).

import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import {
  checks, ConsoleWatch, config, freePort, launchBrowser, sleep, startNode, startRelay, stats, statusText, stop,
  waitStats, waitStatus,
} from './harness.mjs';
import { openOperator, shanghaiUs } from './operator.mjs';

const DAY = '2025-03-03'; // a Monday
const LIVE = `${DAY}.e2e-music`;
const TITLE = '音乐：茉莉花';

const c = config();
c.artifacts = join(c.artifacts, `timetable-${process.pid}`); // a fresh timetable database
mkdirSync(c.artifacts, { recursive: true });
const watch = new ConsoleWatch();
const { results, check } = checks();

const subText = (page) => page.evaluate(() => document.getElementById('status-sub').textContent);

async function openPage(browser, name, url) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await ctx.newPage();
  watch.attach(page, name);
  await page.goto(url);
  return page;
}

async function timetable(op) {
  await op.must({ type: 'school_set', school: { id: 'e2e-city', name: '城区实验小学' } });
  await op.must({ type: 'school_set', school: { id: 'e2e-village', name: '龙山教学点' } });
  await op.must({ type: 'classroom_set', classroom: { id: 'e2e-source', name: '三（1）班', school: 'e2e-city', role: 'source' } });
  await op.must({ type: 'classroom_set', classroom: { id: 'e2e-room', name: '一年级', school: 'e2e-village', role: 'receiver' } });
  await op.must({ type: 'session_set', session: { id: 'e2e-music', title: TITLE, subject: '音乐', teacher: '王老师',
    source: 'e2e-source', receivers: ['e2e-room'], weekday: 1, start: '10:00', end: '10:05',
    term_start: '2025-02-17', term_end: '2025-07-04' } });
}

const clock = (op, hhmm) => op.must({ type: 'clock', time_us: shanghaiUs(DAY, hhmm), scale: 0 });

async function main() {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const relay = await startRelay(c, port, '[schedule]\ntest_clock = true\n');
  const browser = await launchBrowser(c);
  let node = null;
  try {
    const op = await openOperator(browser, base);
    await timetable(op);
    await clock(op, '09:55');
    node = startNode(c, port, ''); // [node] classroom = e2e-source, no session: follows the plan

    // 09:55: between lessons, the next one announced
    const page = await openPage(browser, 'classroom', `${base}/?classroom=e2e-room`);
    await waitStatus(page, '课间休息', 10000);
    let s = await stats(page);
    let sub = await subText(page);
    check('09:55: "课间休息" with the next lesson, nothing subscribed',
      sub.includes(TITLE) && sub.includes('10:00') && s.session === null && s.follow === true &&
      s.next_lesson && s.next_lesson.session === LIVE && s.frames_received === 0, `"${sub}"`);

    // 09:58: the source starts; the classroom still waits for the period
    await clock(op, '09:58');
    let presence = null;
    for (let i = 0; i < 100 && presence !== 'watching'; i++) { // the node publishes (day_list §3.18.10)
      const day = await op.must({ type: 'day_list', date: DAY });
      const row = day.sessions.find((r) => r.session === LIVE);
      presence = row ? row.source.presence : null;
      if (presence !== 'watching') await sleep(200);
    }
    s = await stats(page);
    check('09:58: the source publishes, the classroom still between lessons',
      presence === 'watching' && (await statusText(page)) === '课间休息' && s.session === null,
      `source ${presence}, phase ${s.phase}`);

    // 10:00: the plan names the lesson live — the page joins by itself
    const t0 = Date.now();
    await clock(op, '10:00');
    // Issue 7's target: receivers show video within 3 s of the start (the source, told to start
    // at 09:58, is publishing already). Judged on a quiet machine; a looser bound (said) when busy.
    s = await waitStats(page, { above: { frames_decoded: 0 }, equal: { session: LIVE } }, 30000);
    const joinMs = Date.now() - t0;
    const quiet = loadavg()[0] <= 3;
    const joinLimit = quiet ? 3000 : 10000;
    check(`10:00: video within ${joinLimit / 1000} s of the lesson's start${quiet ? '' : ' (busy machine: loose bound)'}`,
      joinMs < joinLimit, `first frame decoded ${joinMs} ms after the clock reached 10:00, load ${loadavg()[0].toFixed(1)}`);
    s = await waitStats(page, { above: { frames_decoded: 10, audio_frames_decoded: 10 }, equal: { session: LIVE } }, 30000);
    const st = await statusText(page);
    check('10:00: the page subscribes to plan.live by itself and decodes', st === '' && s.plan_live === LIVE,
      `frames ${s.frames_decoded}, audio ${s.audio_frames_decoded}, status "${st}"`);

    // 10:02: a late join, in English
    await clock(op, '10:02');
    const late = await openPage(browser, 'late', `${base}/?classroom=e2e-room&lang=en`);
    const l = await waitStats(late, { above: { frames_decoded: 5 }, equal: { session: LIVE } }, 30000);
    check('10:02: a page opened mid-lesson joins at once (late join)', l.frames_decoded > 5, `frames ${l.frames_decoded}`);

    // 10:06: the lesson is over — both leave and announce next week's lesson
    await clock(op, '10:06');
    await waitStatus(page, '课间休息', 10000);
    await waitStatus(late, 'Between lessons', 10000);
    s = await stats(page);
    sub = await subText(page);
    const lateSub = await subText(late);
    check('10:06: the page leaves the lesson and shows the next one (next week)',
      s.session === null && s.plan_live === null && sub.includes('3月10日（周一）10:00') && sub.includes(TITLE), `"${sub}"`);
    check('10:06: in English too', lateSub.includes('Mon 10 Mar 10:00'), `"${lateSub}"`);
    const f0 = s.frames_received;
    await sleep(2000);
    s = await stats(page);
    check('10:06: no more frames after leaving', s.frames_received === f0, `${f0} → ${s.frames_received}`);

    // a plan change pushed while the page is open
    await op.must({ type: 'session_set', session: { id: 'e2e-extra', title: '美术：加课', source: 'e2e-source',
      receivers: ['e2e-room'], date: DAY, start: '10:30', end: '10:35' } });
    await page.waitForFunction(() => document.getElementById('status-sub').textContent.includes('美术：加课'), null,
      { timeout: 10000, polling: 100 }).catch(() => {});
    sub = await subText(page);
    check('an added lesson is announced on the open page (plan pushed)', sub.includes('美术：加课') && sub.includes('10:30'), `"${sub}"`);

    await late.context().close();
    await page.context().close();
    await op.close();
  } catch (e) {
    check(`timetable: ${e && e.message ? e.message.split('\n')[0] : e}`, false);
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

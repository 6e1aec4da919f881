#!/usr/bin/env node
// tests/e2e/plan.test.mjs — relay/web/plan.js in plain node: which session a classroom's plan
// (docs/PROTOCOL.md §3.13) says to watch, and the next lesson the between-lessons screen
// announces, in Chinese and English. Prints "N passed, N failed".

import assert from 'node:assert/strict';
import { done, test } from './unit.mjs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const { isPlan, liveSession, nextLesson, nextLessonVars } = await import(join(here, '..', '..', 'relay', 'web', 'plan.js'));


// The receiving classroom's plan of the PROTOCOL.md example, at 10:05 (music live) and later.
const lesson = (id, start, end, state, extra = {}) => ({ session: `2025-03-03.${id}`, schedule: id, title: `课 ${id}`,
  start, end, role: 'receiver', state, ...extra });
const live = { type: 'plan', classroom: 'ls-1', date: '2025-03-03', live: '2025-03-03.music-p3',
  sessions: [lesson('music-p3', '10:00', '10:40', 'live'), lesson('art-p5', '14:00', '14:40', 'upcoming')],
  next: { ...lesson('art-p5', '14:00', '14:40', 'upcoming'), date: '2025-03-03', title: '美术：水墨小鸡' } };
const after = { type: 'plan', classroom: 'ls-1', date: '2025-03-03',
  sessions: [lesson('music-p3', '10:00', '10:40', 'ended')],
  next: { ...lesson('music-p3', '10:00', '10:40', 'upcoming'), session: '2025-03-10.music-p3', date: '2025-03-10',
          title: '音乐：茉莉花' } };

test('isPlan: a plan of this classroom; others and non-plans refused', () => {
  assert.ok(isPlan(live, 'ls-1'));
  assert.ok(isPlan(live));
  assert.ok(!isPlan(live, 'ls-2'));
  assert.ok(!isPlan({ type: 'tracks', classroom: 'ls-1', sessions: [] }, 'ls-1'));
  assert.ok(!isPlan({ type: 'plan', classroom: 'ls-1' }, 'ls-1'), 'sessions required');
  assert.ok(!isPlan(null));
});

test('liveSession: plan.live, null when absent or not a session id', () => {
  assert.equal(liveSession(live), '2025-03-03.music-p3');
  assert.equal(liveSession(after), null);
  assert.equal(liveSession({ ...live, live: 'a b' }), null);
  assert.equal(liveSession({ ...live, live: 'x'.repeat(65) }), null);
  assert.equal(liveSession(null), null);
});

test('nextLesson: plan.next, else the first upcoming or starting lesson of the day', () => {
  assert.deepEqual(nextLesson(live), { session: '2025-03-03.art-p5', title: '美术：水墨小鸡', date: '2025-03-03', start: '14:00' });
  const noNext = { ...live, next: undefined, sessions: [lesson('a', '08:00', '08:40', 'ended'), lesson('b', '09:00', '09:40', 'starting')] };
  assert.deepEqual(nextLesson(noNext), { session: '2025-03-03.b', title: '课 b', date: '2025-03-03', start: '09:00' });
  assert.equal(nextLesson({ ...live, next: undefined, sessions: [lesson('a', '08:00', '08:40', 'ended')] }), null);
  assert.equal(nextLesson({ ...live, next: { ...live.next, start: '25:00' } }), null, 'a bad time is not announced');
});

test('nextLessonVars: today only the time; another day with the date, zh and en', () => {
  assert.deepEqual(nextLessonVars(live, 'zh'), { title: '美术：水墨小鸡', when: '14:00' });
  assert.deepEqual(nextLessonVars(after, 'zh'), { title: '音乐：茉莉花', when: '3月10日（周一）10:00' });
  assert.deepEqual(nextLessonVars(after, 'en'), { title: '音乐：茉莉花', when: 'Mon 10 Mar 10:00' });
  const untitled = { ...after, next: { ...after.next, title: '', subject: '' } };
  assert.equal(nextLessonVars(untitled, 'zh').title, '2025-03-10.music-p3', 'falls back to the session id');
  assert.equal(nextLessonVars({ ...after, next: undefined, sessions: [] }), null);
});

done();

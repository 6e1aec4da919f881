#!/usr/bin/env node
// tests/e2e/ws.test.mjs — relay/web/ws.js: when the page pings the relay (every second for the
// first 10 s after opening, then every 5 s; docs/PLAYER.md), and that a silent connection is
// replaced. Plain node with a driven clock and a scripted WebSocket:
// `node tests/e2e/ws.test.mjs`.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { done, test } from './unit.mjs';
import { FakeSocket } from './fakesocket.mjs';

// The driven clock: timers run when advance() passes their time, in order.
let now = 0;
let timers = [];
let nextId = 1;
globalThis.setTimeout = (fn, ms) => { const id = nextId++; timers.push({ id, at: now + ms, fn }); return id; };
globalThis.clearTimeout = (id) => { timers = timers.filter((t) => t.id !== id); };
globalThis.setInterval = () => { throw new Error('ws.js uses timeouts only'); };
Object.defineProperty(globalThis, 'performance',
  { value: { now: () => now, timeOrigin: 1.7e12 }, configurable: true, writable: true });
function advance(ms) {
  const end = now + ms;
  for (;;) {
    timers.sort((a, b) => a.at - b.at);
    const t = timers[0];
    if (!t || t.at > end) break;
    timers.shift();
    now = t.at;
    t.fn();
  }
  now = end;
}

FakeSocket.clock = () => now;
const pingTimes = (ws) => ws.sentAt.filter((_, i) => ws.sent[i].type === 'ping');
globalThis.WebSocket = FakeSocket;

const here = dirname(fileURLToPath(import.meta.url));
const { RelayConnection } = await import(join(here, '..', '..', 'relay', 'web', 'ws.js'));

test('pings every second for the first 10 s after opening, then every 5 s', () => {
  const c = new RelayConnection('ws://relay/ws', { onText: () => {} });
  c.start();
  const ws = FakeSocket.all.at(-1);
  advance(300);
  ws.open();                       // opened at 300 ms
  for (let t = 0; t < 30000; t += 500) { // the relay answers: the connection is alive
    advance(500);
    ws.onmessage({ data: '{"type":"pong"}' });
  }
  assert.deepEqual(pingTimes(ws),
    [1300, 2300, 3300, 4300, 5300, 6300, 7300, 8300, 9300, 10300, 15300, 20300, 25300, 30300]);
  c.stop();
  assert.equal(timers.length, 0);    // nothing left to fire
});

test('a connection that hears nothing for 15 s is replaced, and the new one pings early again', () => {
  const c = new RelayConnection('ws://relay/ws', {});
  c.start();
  const ws = FakeSocket.all.at(-1);
  ws.open();
  advance(16000);                     // silent: pings at 1..10 s and at 15 s, still open
  assert.equal(ws.closed, null);
  advance(4000);                      // the ping due at 20 s finds 20 s of silence
  assert.equal(ws.closed, 4008);
  advance(16000);                     // the reconnection (back-off at most 15 s)
  const again = FakeSocket.all.at(-1);
  assert.notEqual(again, ws);
  again.open();
  const t0 = now;
  advance(2500);
  assert.deepEqual(pingTimes(again), [t0 + 1000, t0 + 2000]);
  c.stop();
});

done();

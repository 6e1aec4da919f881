#!/usr/bin/env node
// tests/e2e/audiocopy.test.mjs — relay/web/audio-copy.js: which audio frame the player takes
// when the audio comes on two connections (AudioPick), and when it wants the copy
// (AudioCopyRule, docs/PLAYER.md "Audio copy"). Plain node: `node tests/e2e/audiocopy.test.mjs`.
// (The copy against a real relay: tests/relay/ audio_copy cases and e2e/poornet.)

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { done, test } from './unit.mjs';
import { FakeSocket } from './fakesocket.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const A = await import(join(here, '..', '..', 'relay', 'web', 'audio-copy.js'));


test('each frame once, from whichever connection brings it first', () => {
  const p = new A.AudioPick();
  // main brings 1, 2; then main is held up and the copy brings 3, 4; main catches up with 3, 4, 5
  const got = [[1, false], [2, false], [3, true], [4, true], [3, false], [4, false], [5, false], [5, true]]
    .map(([seq, copy]) => p.take(seq, copy));
  assert.deepEqual(got, [true, true, true, true, false, false, true, false]);
  assert.deepEqual(p.c, { taken: 5, from_copy: 2, duplicates: 3, copy_ahead: 0 });
});

test('a copy that starts ahead waits until it joins the main connection\'s sequence', () => {
  const p = new A.AudioPick();
  assert.equal(p.take(1, false), true);
  assert.equal(p.take(2, false), true);
  p.copyJoined(false);                   // the copy subscribes while main is held up at 2
  assert.equal(p.take(7, true), false);  // ahead: 3..6 are still coming on main
  assert.equal(p.take(8, true), false);
  assert.equal(p.take(3, false), true);
  assert.equal(p.take(4, false), true);
  assert.equal(p.take(5, true), true);   // follows the newest taken: joined
  assert.equal(p.take(7, true), true);   // from now on the copy may lead by any amount
  assert.equal(p.take(6, false), false);
  assert.equal(p.c.copy_ahead, 2);
  p.copyJoined(false);
  assert.equal(p.take(7, true), false);  // had come already: joined as well
  assert.equal(p.take(9, true), true);
});

test('a copy ahead for JOIN_WAIT_MS joins: the main connection\'s frames are stale by then', () => {
  const p = new A.AudioPick();
  assert.equal(p.take(100, false, 0), true);
  p.copyJoined(false);
  assert.equal(p.take(150, true, 1000), false);                      // ahead: wait
  assert.equal(p.take(101, false, 1100), true);                      // main still trickles in
  assert.equal(p.take(151, true, 1000 + A.JOIN_WAIT_MS - 1), false);
  assert.equal(p.take(152, true, 1000 + A.JOIN_WAIT_MS), true);      // joined, skipping 102..151
  assert.equal(p.take(102, false, 1400), false);
  assert.equal(p.take(153, true, 1400), true);
});

test('a frame older than the newest taken is not played late', () => {
  const p = new A.AudioPick();
  assert.equal(p.take(10, true), true);  // the copy started ahead
  assert.equal(p.take(8, false), false); // main's older frames: their time has passed
  assert.equal(p.take(11, false), true);
});

test('sequence numbers wrap', () => {
  const p = new A.AudioPick();
  assert.equal(p.take(0xffffffff, false), true);
  assert.equal(p.take(0, true), true);
  assert.equal(p.take(0xffffffff, true), false);
  assert.equal(p.take(1, false), true);
});

test('a stream far behind is a new one (publisher restarted), and reset() forgets', () => {
  const p = new A.AudioPick();
  assert.equal(p.take(5000, false), true);
  assert.equal(p.take(5000 - A.RESTART_BEHIND + 1, false), false);
  assert.equal(p.take(3, false), true);   // 4,997 behind: a new stream
  assert.equal(p.take(4, true), true);
  p.reset();
  assert.equal(p.take(1, false), true);
});

test('rule: no copy until the relay says TCP retransmitted (a busy PC on a LAN holds audio up too)', () => {
  const r = new A.AudioCopyRule();
  r.mainAudio(50000, 0);
  assert.equal(r.mainAudio(400000, 10), 0);   // held up, but nothing was lost
  r.retrans(0);
  assert.equal(r.mainAudio(400000, 20), 0);
  r.retrans(3);
  assert.equal(r.mainAudio(400000, 30), 1);
  r.reset();                                   // a new subscription: the link stays lossy
  r.mainAudio(50000, 40);
  assert.equal(r.mainAudio(400000, 50), 1);
});

test('rule: a hold-up of HOLDUP_US over the lowest latency subscribes the copy, once', () => {
  const r = new A.AudioCopyRule();
  r.retrans(1);
  assert.equal(r.mainAudio(80000, 0), 0);
  assert.equal(r.mainAudio(60000, 20), 0);                        // new lowest
  assert.equal(r.mainAudio(60000 + A.HOLDUP_US - 1, 40), 0);      // just under
  assert.equal(r.mainAudio(60000 + A.HOLDUP_US, 60), 1);          // a hold-up
  assert.equal(r.on, true);
  assert.equal(r.mainAudio(60000 + 3 * A.HOLDUP_US, 80), 0);      // already on
});

test('rule: a standing queue for SATURATED_FOR_MS unsubscribes, then backs off, doubling', () => {
  const r = new A.AudioCopyRule();
  r.retrans(1);
  const min = 50000;
  const sat = min + A.SATURATED_US;
  r.mainAudio(min, 0);
  assert.equal(r.mainAudio(min + A.HOLDUP_US, 100), 1);
  let t = 1000;
  assert.equal(r.mainAudio(sat, t), 0);                           // saturated from t
  assert.equal(r.mainAudio(sat, t + A.SATURATED_FOR_MS - 1), 0);
  assert.equal(r.mainAudio(sat - 1, t + A.SATURATED_FOR_MS - 1), 0); // one frame under: starts again
  t += A.SATURATED_FOR_MS;
  assert.equal(r.mainAudio(sat, t), 0);
  assert.equal(r.mainAudio(sat, t + A.SATURATED_FOR_MS), -1);     // unsubscribe
  t += A.SATURATED_FOR_MS;
  assert.equal(r.on, false);
  assert.equal(r.mainAudio(min + A.HOLDUP_US, t + A.BACKOFF_MS - 1), 0); // backing off
  assert.equal(r.mainAudio(min + A.HOLDUP_US, t + A.BACKOFF_MS), 1);     // again
  t += A.BACKOFF_MS;
  r.mainAudio(sat, t);
  assert.equal(r.mainAudio(sat, t + A.SATURATED_FOR_MS), -1);
  t += A.SATURATED_FOR_MS;
  assert.equal(r.mainAudio(min + A.HOLDUP_US, t + 2 * A.BACKOFF_MS - 1), 0); // doubled
  assert.equal(r.mainAudio(min + A.HOLDUP_US, t + 2 * A.BACKOFF_MS), 1);
});

test('rule: a main connection starved by its copy: the copy\'s lead counts, and it goes', () => {
  const r = new A.AudioCopyRule();
  r.retrans(1);
  r.mainAudio(50000, 0, 1000000);
  assert.equal(r.mainAudio(50000 + A.HOLDUP_US, 100, 1020000), 1);
  // main brings nothing more; the copy's frames are further and further ahead of it
  assert.equal(r.copyAudio(1020000 + A.SATURATED_US - 1, 200), 0);  // not yet that far
  assert.equal(r.copyAudio(1020000 + A.SATURATED_US, 300), 0);      // saturated from 300
  assert.equal(r.copyAudio(1500000, 300 + A.SATURATED_FOR_MS - 1), 0);
  assert.equal(r.copyAudio(1600000, 300 + A.SATURATED_FOR_MS), -1);
  assert.equal(r.on, false);
  assert.equal(r.copyAudio(2000000, 400 + A.SATURATED_FOR_MS), 0);  // off: nothing to say
});

test('rule: a copy a little ahead (a lost packet on main) keeps it; main catching up resets', () => {
  const r = new A.AudioCopyRule();
  r.retrans(1);
  r.mainAudio(50000, 0, 1000000);
  assert.equal(r.mainAudio(50000 + A.HOLDUP_US, 10, 1020000), 1);
  assert.equal(r.copyAudio(1020000 + A.SATURATED_US, 20), 0);
  assert.equal(r.mainAudio(60000, 30, 1500000), 0);                  // main on time again
  assert.equal(r.copyAudio(1520000, 20 + A.SATURATED_FOR_MS), 0);    // 20 ms ahead: fine
  assert.equal(r.on, true);
});

test('rule: the back-off is capped at BACKOFF_MAX_MS', () => {
  const r = new A.AudioCopyRule();
  r.retrans(1);
  let t = 0;
  r.mainAudio(0, t);
  for (let i = 0; i < 10; i++) {
    t += 1e7;
    assert.equal(r.mainAudio(A.HOLDUP_US, t), 1);
    r.mainAudio(A.SATURATED_US, t);
    assert.equal(r.mainAudio(A.SATURATED_US, t + A.SATURATED_FOR_MS), -1);
  }
  t += A.SATURATED_FOR_MS;
  assert.equal(r.mainAudio(A.HOLDUP_US, t + A.BACKOFF_MAX_MS - 1), 0);
  assert.equal(r.mainAudio(A.HOLDUP_US, t + A.BACKOFF_MAX_MS), 1);
});

test('rule: on a far link the copy starts with the subscription; no retransmission in EARLY_FOR_MS ends it', () => {
  const r = new A.AudioCopyRule();
  assert.equal(r.subscribed(2, 0), 0);                            // a LAN: the rule above only
  assert.equal(r.subscribed(undefined, 0), 0);                    // no welcome yet
  assert.equal(r.subscribed(A.FAR_RTT_MS, 0), 1);                 // far: at once, loss unknown
  assert.equal(r.on, true);
  r.mainAudio(50000, 100);
  assert.equal(r.mainAudio(50000, A.EARLY_FOR_MS - 1), 0);
  assert.equal(r.mainAudio(50000, A.EARLY_FOR_MS), -2);           // never lost: not needed
  assert.equal(r.on, false);
  assert.equal(r.mainAudio(50000 + A.HOLDUP_US, A.EARLY_FOR_MS + 20), 0); // no back-off, but no loss
  r.retrans(1);
  assert.equal(r.mainAudio(50000 + A.HOLDUP_US, A.EARLY_FOR_MS + 40), 1); // the usual rule
});

test('rule: on a link of FAR_LOSSY_RTT_MS or more the early copy waits EARLY_FAR_FOR_MS for a retransmission', () => {
  const r = new A.AudioCopyRule();
  assert.equal(r.subscribed(A.FAR_LOSSY_RTT_MS, 0), 1);
  r.mainAudio(50000, 100);
  assert.equal(r.mainAudio(50000, A.EARLY_FOR_MS), 0);            // not yet: a far link
  assert.equal(r.mainAudio(50000, A.EARLY_FAR_FOR_MS - 1), 0);
  assert.equal(r.on, true);
  assert.equal(r.mainAudio(50000, A.EARLY_FAR_FOR_MS), -2);       // never lost: not needed
  const n = new A.AudioCopyRule();                                // just under it: the short wait
  assert.equal(n.subscribed(A.FAR_LOSSY_RTT_MS - 1, 0), 1);
  n.mainAudio(50000, 100);
  assert.equal(n.mainAudio(50000, A.EARLY_FOR_MS), -2);
  const l = new A.AudioCopyRule();                                // a retransmission at 15 s: kept
  assert.equal(l.subscribed(120, 0), 1);
  l.mainAudio(50000, 100);
  l.retrans(1);
  assert.equal(l.mainAudio(50000, A.EARLY_FAR_FOR_MS), 0);
  assert.equal(l.on, true);
});

test('rule: an early copy on a lossy link stays; one backing off does not start early', () => {
  const r = new A.AudioCopyRule();
  assert.equal(r.subscribed(60, 0), 1);                           // far, under FAR_LOSSY_RTT_MS
  r.mainAudio(50000, 100);
  r.retrans(2);
  assert.equal(r.mainAudio(50000, A.EARLY_FOR_MS + 100), 0);      // lossy: kept
  assert.equal(r.on, true);
  assert.equal(r.earlyUntil, null);
  const sat = 50000 + A.SATURATED_US;                             // too slow for two: it goes
  r.mainAudio(sat, 20000);
  assert.equal(r.mainAudio(sat, 20000 + A.SATURATED_FOR_MS), -1);
  r.reset();                                                      // a new subscription in the back-off
  assert.equal(r.subscribed(150, 25000), 0);
  assert.equal(r.subscribed(150, 20000 + A.SATURATED_FOR_MS + A.BACKOFF_MS), 1);
});

test('rule: reset() for a new subscription forgets the lowest latency and keeps a back-off', () => {
  const r = new A.AudioCopyRule();
  r.retrans(1);
  r.mainAudio(50000, 0);
  assert.equal(r.mainAudio(600000, 10), 1);
  r.reset();                            // a new subscription: its own lowest latency
  assert.equal(r.on, false);
  assert.equal(r.mainAudio(500000, 20), 0);
  assert.equal(r.mainAudio(600000, 40), 1);
  r.mainAudio(900000, 100);
  assert.equal(r.mainAudio(900000, 100 + A.SATURATED_FOR_MS), -1);
  r.reset();
  r.mainAudio(0, 200 + A.SATURATED_FOR_MS);
  assert.equal(r.mainAudio(A.HOLDUP_US, 300 + A.SATURATED_FOR_MS), 0); // still backing off
});

test('rule: the relay refusing the copy (no room) backs off like a standing queue, early or not', () => {
  const r = new A.AudioCopyRule();
  assert.equal(r.subscribed(150, 0), 1);           // an early copy the relay refuses at once
  r.noRoom(10);
  assert.equal(r.on, false);
  assert.equal(r.earlyUntil, null);                // no early end to come
  r.retrans(1);
  r.mainAudio(50000, 20);
  assert.equal(r.mainAudio(50000 + A.HOLDUP_US, 30), 0);                    // backing off
  assert.equal(r.mainAudio(50000 + A.HOLDUP_US, 10 + A.BACKOFF_MS - 1), 0);
  assert.equal(r.mainAudio(50000 + A.HOLDUP_US, 10 + A.BACKOFF_MS), 1);     // tried again
  r.noRoom(10 + A.BACKOFF_MS);                                              // refused again: doubled
  assert.equal(r.mainAudio(50000 + A.HOLDUP_US, 10 + 3 * A.BACKOFF_MS - 1), 0);
  assert.equal(r.mainAudio(50000 + A.HOLDUP_US, 10 + 3 * A.BACKOFF_MS), 1);
});

// AudioCopy's conversation, over a scripted stand-in for the browser's WebSocket (against a real
// relay it runs in e2e/poornet).
globalThis.WebSocket = FakeSocket;

function audioFrame(seq) {
  const b = new Uint8Array(16 + 3);
  b[0] = 1; b[1] = 2; // version 1, track 2
  new DataView(b.buffer).setUint32(4, seq);
  new DataView(b.buffer).setBigUint64(8, 1700000000000000n + BigInt(seq));
  b.fill(7, 16);
  return b.buffer;
}

test('AudioCopy: hello, subscribe with audio_copy once welcomed, unsubscribe, again', () => {
  FakeSocket.all = [];
  const got = [];
  const hello = { type: 'hello', id: 1, role: 'receiver', token: 't' };
  let subscribes = 0;
  const c = new A.AudioCopy('ws://relay/ws', hello, (f) => got.push(f.seq), () => {}, () => subscribes++);
  c.subscribe('s1');
  const ws = FakeSocket.all[0];
  assert.equal(ws.protocol, 'bbt.v1');
  ws.open();
  assert.deepEqual(ws.sent, [hello]);
  ws.text({ type: 'welcome' });
  assert.deepEqual(ws.sent[1], { type: 'subscribe', id: 3, session: 's1', audio_copy: true });
  assert.equal(subscribes, 1);
  ws.binary(audioFrame(5));
  assert.deepEqual(got, [5]);
  c.unsubscribe();
  assert.deepEqual(ws.sent[2], { type: 'unsubscribe', session: 's1' });
  assert.equal(c.subscribed, false);
  ws.binary(audioFrame(6)); // in flight after the unsubscribe: not taken
  assert.deepEqual(got, [5]);
  c.subscribe('s1');
  assert.deepEqual(ws.sent[3], { type: 'subscribe', id: 3, session: 's1', audio_copy: true });
  assert.equal(subscribes, 2);
  assert.equal(FakeSocket.all.length, 1); // one connection, kept
  ws.binary(new ArrayBuffer(3)); // malformed: counted, not passed on
  assert.equal(c.c.errors, 1);
  assert.deepEqual(c.c, { subscribes: 2, unsubscribes: 1, no_room: 0, bytes: 19 + 3, errors: 1, refused: false });
  c.stop();
});

test('AudioCopy: a relay at its maximum of viewers (BBT_ELIMIT): given up, never retried', () => {
  FakeSocket.all = [];
  const c = new A.AudioCopy('ws://relay/ws', { type: 'hello' }, () => {}, () => {});
  c.subscribe('s1');
  const ws = FakeSocket.all[0];
  ws.open();
  ws.text({ type: 'welcome' });
  ws.text({ type: 'error', name: 'BBT_ELIMIT', code: 4, message: 'relay has its maximum of viewers' });
  assert.equal(c.c.refused, true);
  assert.equal(c.subscribed, false);
  assert.equal(ws.readyState, 3);
  c.subscribe('s1');
  assert.equal(FakeSocket.all.length, 1);
  assert.equal(c.subscribed, false);
});

test('AudioCopy: no room on the link (BBT_EFULL): unsubscribed, told, and may subscribe later', () => {
  FakeSocket.all = [];
  let noRoom = 0;
  const c = new A.AudioCopy('ws://relay/ws', { type: 'hello' }, () => {}, () => {}, () => {}, () => noRoom++);
  c.subscribe('s1');
  const ws = FakeSocket.all[0];
  ws.open();
  ws.text({ type: 'welcome' });
  ws.text({ type: 'error', name: 'BBT_EFULL', code: 6, ref_id: 3, message: 'no room on this link for another copy of the audio' });
  assert.equal(noRoom, 1);
  assert.equal(c.subscribed, false);
  assert.equal(ws.readyState, 1);                  // the connection stays, for the next try
  assert.deepEqual(ws.sent.map((m) => m.type), ['hello', 'subscribe']); // nothing to unsubscribe
  assert.deepEqual(c.c, { subscribes: 1, unsubscribes: 1, no_room: 1, bytes: 0, errors: 0, refused: false });
  ws.text({ type: 'error', name: 'BBT_EFULL', code: 6, message: 'late duplicate' }); // not subscribed: ignored
  assert.equal(noRoom, 1);
  c.subscribe('s1');
  assert.deepEqual(ws.sent[2], { type: 'subscribe', id: 3, session: 's1', audio_copy: true });
  c.stop();
});

// The second copy comes when the sound breaks with the first on (BREAK_MS between two frames
// taken), not in the copies' first BREAK_AFTER_MS, never beyond COPIES; the count stays.
test('AudioCopyRule.taken: one more copy when the sound breaks with the copies on', () => {
  const r = new A.AudioCopyRule();
  assert.equal(r.copies, 1);
  assert.equal(r.taken(0), false);                  // off: nothing
  assert.equal(r.taken(1000), false);
  assert.equal(r.subscribed(60, 2000), 1);          // on (an early copy) at 2 s
  assert.equal(r.taken(2100), false);
  assert.equal(r.taken(2900), false);               // a break in the copies' first second
  assert.equal(r.taken(3000), false);
  assert.equal(r.taken(3000 + A.BREAK_MS), false);  // 200 ms is no break
  assert.equal(r.taken(3401), true);                // 201 ms: one more
  assert.equal(r.copies, 2);
  assert.equal(r.taken(4000), false);               // COPIES reached
  assert.equal(r.copies, A.COPIES);
  r.reset();                                        // a new subscription: the count stays
  assert.equal(r.copies, 2);
  assert.equal(r.on, false);
});

test('AudioCopyRule.retrans: a far link that loses packets wants every copy at once', () => {
  const r = new A.AudioCopyRule();
  assert.equal(r.subscribed(A.FAR_LOSSY_RTT_MS, 0), 1); // far: every copy early, before any loss
  assert.equal(r.copies, A.COPIES);
  assert.equal(r.retrans(0), false);                // no loss yet
  assert.equal(r.retrans(3), false);                // lossy: all copies are on already
  assert.equal(r.copies, A.COPIES);
  const late = new A.AudioCopyRule();               // turned on by a hold-up, not early
  late.rttMs = A.FAR_LOSSY_RTT_MS;
  late.start(0);
  assert.equal(late.copies, 1);
  assert.equal(late.retrans(3), true);              // lossy: all copies, now
  assert.equal(late.copies, A.COPIES);
  assert.equal(late.retrans(5), false);             // once
  const near = new A.AudioCopyRule();
  assert.equal(near.subscribed(A.FAR_LOSSY_RTT_MS - 1, 0), 1);
  assert.equal(near.retrans(3), false);             // a nearer link: one copy until a break
  assert.equal(near.copies, 1);
  const off = new A.AudioCopyRule();
  off.notBefore = 1e9;                               // backing off: not on
  assert.equal(off.subscribed(150, 0), 0);
  assert.equal(off.retrans(3), false);              // nothing to subscribe now ...
  assert.equal(off.copies, A.COPIES);               // ... but both come when the rule turns on
});

// AudioCopies over stand-in copies: all on with the rule, a later copy the relay refuses off for a
// back-off of its own (doubling) and back with follow(), the first copy's refusal the rule's.
test('AudioCopies: a refused second copy backs off alone; the first one\'s refusal is the rule\'s', () => {
  const made = [];
  const stub = () => ({ subscribed: false, c: { subscribes: 0, unsubscribes: 0, no_room: 0, bytes: 7, errors: 0, refused: false },
    subscribe() { this.subscribed = true; this.c.subscribes++; },
    unsubscribe() { if (this.subscribed) { this.subscribed = false; this.c.unsubscribes++; } } });
  const cs = new A.AudioCopies((i) => { made.push(i); return stub(); }, 2);
  assert.equal(cs.subscribed, false);
  cs.subscribe('s1', 0);
  assert.deepEqual(made, [0, 1]);
  assert.deepEqual(cs.stats(), { copies: 2, subscribes: 2, unsubscribes: 0, no_room: 0, bytes: 14, errors: 0, refused: false });
  cs.list[1].subscribed = false;                    // AudioCopy on BBT_EFULL
  assert.equal(cs.noRoom(1, 1000), false);          // the second alone
  cs.follow(1000 + A.BACKOFF_MS - 1);
  assert.equal(cs.list[1].subscribed, false);
  cs.follow(1000 + A.BACKOFF_MS);                   // its back-off is over
  assert.equal(cs.list[1].subscribed, true);
  cs.list[1].subscribed = false;
  assert.equal(cs.noRoom(1, 50000), false);         // again: twice as long
  cs.unsubscribe();
  cs.subscribe('s1', 50000 + A.BACKOFF_MS);         // the rule on again: the second still backs off
  assert.equal(cs.list[1].subscribed, false);
  cs.subscribe('s1', 50000 + 2 * A.BACKOFF_MS);
  assert.equal(cs.list[1].subscribed, true);
  assert.equal(cs.noRoom(0, 0), true);              // the first: the rule backs off
  cs.unsubscribe();
  cs.follow(1e9);                                   // nothing on: nothing follows
  assert.equal(cs.subscribed, false);
  assert.equal(made.length, 2);
});

// NetCore's wiring (net-core.js): the copies' connections open with the main one; the welcome's
// round trip decides whether a copy subscribes with the lesson, or (a LAN) they close. The hello
// is made to have left 40 ms (far) or 0 ms (a LAN) before the welcome. copiesOn: how many are
// subscribed; closedAhead: the copies' connections closed (all of them, for a LAN).
const copiesOn = (nc) => nc.copies.stats().copies;
const closedAhead = () => FakeSocket.all.slice(1).every((ws) => ws.closed === 1000);
const { NetCore } = await import(join(here, '..', '..', 'relay', 'web', 'net-core.js'));
function lessonOn(helloAgoMs, welcome = { type: 'welcome' }) {
  FakeSocket.all = [];
  const logs = [];
  const nc = new NetCore((m) => { if (m.type === 'log') logs.push(m.args.join(' ')); });
  nc.start({ url: 'ws://relay/ws', audio: true, hello: { type: 'hello', id: 1, role: 'receiver' },
    subscribe: { type: 'subscribe', id: 2, session: 's1', layer: 'auto' } });
  const main = FakeSocket.all[0];
  assert.equal(FakeSocket.all.length, 1 + A.COPIES); // the copies' connections open with it
  main.open();
  nc.helloSentUs -= helloAgoMs * 1000;
  main.text(welcome);
  clearInterval(nc.timer);
  nc.conn.stop();
  return { nc, main, logs };
}

test('NetCore: on a far link a copy subscribes with the lesson, a second when the sound breaks; on a LAN they wait for loss', () => {
  const far = lessonOn(40);
  assert.deepEqual(far.main.sent.map((m) => m.type), ['hello', 'subscribe']);
  assert.equal(copiesOn(far.nc), 1);                // one copy, on a connection of its own
  assert.equal(FakeSocket.all.length, 1 + A.COPIES); // the second's kept open: a far link
  assert.ok(far.logs.some((l) => /round trip 4\d ms \(not a LAN\): audio copies subscribed/.test(l)), far.logs.join('\n'));
  const realNow = performance.now;
  const t0 = Math.floor(realNow.call(performance)); // whole ms: t0 + 200 - t0 is 200 exactly
  let fake = t0;
  performance.now = () => fake;
  try {
    far.nc.copyRule.onSince = t0 - A.BREAK_AFTER_MS;
    const frame = (seq) => ({ seq, track: 1, captureUs: seq * 20000, payload: new Uint8Array(0) });
    far.nc.takeAudio(frame(1), 150000, false);
    fake = t0 + A.BREAK_MS;                          // 200 ms: no break yet
    far.nc.takeAudio(frame(2), 150000, false);
    assert.equal(copiesOn(far.nc), 1);
    fake += A.BREAK_MS + 1;                          // the sound broke with one copy on
    far.nc.takeAudio(frame(3), 150000, true);
  } finally {
    performance.now = realNow;
  }
  assert.equal(copiesOn(far.nc), A.COPIES);
  assert.equal(FakeSocket.all.length, 1 + A.COPIES); // on the connection opened ahead
  assert.ok(far.logs.some((l) => /the sound broke with 1 audio copy: copy 2 subscribed/.test(l)), far.logs.join('\n'));
  const [copy, copy2] = FakeSocket.all.slice(1);
  for (const ws of [copy, copy2]) {
    ws.open();
    ws.text({ type: 'welcome' });
    assert.deepEqual(ws.sent[1], { type: 'subscribe', id: 3, session: 's1', audio_copy: true });
  }
  copy2.text({ type: 'error', name: 'BBT_EFULL', code: 6, ref_id: 3, message: 'no room' }); // the second
  assert.ok(far.logs.some((l) => /no room on this link for the audio 3 times: audio copy 2/.test(l)), far.logs.join('\n'));
  assert.equal(far.nc.copyRule.on, true);           // the first goes on
  assert.equal(far.nc.copies.stats().copies, 1);
  copy.text({ type: 'error', name: 'BBT_EFULL', code: 6, ref_id: 3, message: 'no room' }); // the first
  assert.ok(far.logs.some((l) => /no room on this link for the audio twice/.test(l)), far.logs.join('\n'));
  assert.equal(far.nc.copyRule.on, false);
  assert.equal(far.nc.copies.subscribed, false);
  assert.ok(far.nc.copyRule.notBefore > performance.now() + A.BACKOFF_MS - 1000); // backing off
  const lan = lessonOn(0);
  assert.deepEqual(lan.main.sent.map((m) => m.type), ['hello', 'subscribe']);
  assert.equal(copiesOn(lan.nc), 0);                // no copy
  assert.ok(closedAhead());                         // and their connections closed
  assert.ok(lan.logs.some((l) => /\(a LAN\): the audio copies' connections opened ahead are closed/.test(l)), lan.logs.join('\n'));
});

test('NetCore: the relay\'s TCP round trip in the welcome (rtt_us) decides over hello → welcome', () => {
  const busyLan = lessonOn(85, { type: 'welcome', rtt_us: 300 }); // a busy page on a LAN
  assert.equal(copiesOn(busyLan.nc), 0);            // no copy: the network's round trip is 0.3 ms
  assert.ok(closedAhead());
  assert.equal(busyLan.nc.helloRttMs, 0.3);
  const far = lessonOn(0, { type: 'welcome', rtt_us: 150000 });   // far, whatever the timing:
  assert.equal(copiesOn(far.nc), A.COPIES);                       // every copy, before any loss
  assert.ok(far.logs.some((l) => /round trip 150 ms \(not a LAN\)/.test(l)), far.logs.join('\n'));
  far.nc.onText({ type: 'pong', retrans: 4 });      // (the connection's loop is stopped)
  assert.equal(FakeSocket.all.length, 1 + A.COPIES); // no more
  const mid = lessonOn(0, { type: 'welcome', rtt_us: 60000 });    // far, under FAR_LOSSY_RTT_MS
  assert.equal(copiesOn(mid.nc), 1);                // one copy
  mid.nc.onText({ type: 'pong', retrans: 4 });       // lossy: one copy until the sound breaks
  assert.equal(copiesOn(mid.nc), 1);
  // the pong's wiring where the rule still has one copy on a far link (one turned on by a
  // hold-up, AudioCopyRule.retrans above): the second subscribes at the first retransmission
  const late = lessonOn(0, { type: 'welcome', rtt_us: 60000 });
  late.nc.copyRule.rttMs = A.FAR_LOSSY_RTT_MS;
  late.nc.onText({ type: 'pong', retrans: 4 });
  assert.equal(copiesOn(late.nc), A.COPIES);
  assert.equal(FakeSocket.all.length, 1 + A.COPIES);
  assert.ok(late.logs.some((l) => /a far link that loses packets: 2 audio copies subscribed/.test(l)), late.logs.join('\n'));
});

test('NetCore: copies welcomed before the main connection subscribe at its welcome, no connection more', () => {
  FakeSocket.all = [];
  const nc = new NetCore(() => {});
  nc.start({ url: 'ws://relay/ws', audio: true, hello: { type: 'hello', id: 1, role: 'receiver' },
    subscribe: { type: 'subscribe', id: 2, session: 's1', layer: 'auto' } });
  const [main, ...copies] = FakeSocket.all;
  assert.equal(copies.length, A.COPIES);
  for (const ws of copies) {                        // a copy's welcome may come first
    ws.open();
    ws.text({ type: 'welcome' });
    assert.deepEqual(ws.sent.map((m) => m.type), ['hello']); // nothing subscribed yet
  }
  main.open();
  main.text({ type: 'welcome', rtt_us: 150000 });
  for (const ws of copies) {                        // the same moment as the main's subscribe
    assert.deepEqual(ws.sent[1], { type: 'subscribe', id: 3, session: 's1', audio_copy: true });
    assert.equal(ws.closed, null);
  }
  assert.deepEqual(main.sent.map((m) => m.type), ['hello', 'subscribe']);
  assert.equal(FakeSocket.all.length, 1 + A.COPIES);
  clearInterval(nc.timer);
  nc.conn.stop();
  const quiet = new NetCore(() => {});             // no audio wanted: no copy connects
  FakeSocket.all = [];
  quiet.start({ url: 'ws://relay/ws', audio: false, hello: { type: 'hello', id: 1, role: 'receiver' }, subscribe: null });
  assert.equal(FakeSocket.all.length, 1);
  clearInterval(quiet.timer);
  quiet.conn.stop();
});

done();

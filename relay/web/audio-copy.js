// audio-copy.js — a second copy of the lesson's audio on a WebSocket of its own, for lossy links
// (docs/PLAYER.md, "Audio copy"; the relay side: docs/PROTOCOL.md §3.5 `audio_copy`).
//
// Why: on one TCP connection a lost packet holds everything behind it, the audio too, until its
// retransmission arrives about a round trip later. On a 120 ms link with 1 % loss that is an
// audio gap of 200–300 ms several times a minute (bbt-bench rural, village-400k). Two
// connections are held up together only when both lose a packet within the same ~200 ms, so the
// player takes each audio frame from whichever connection brings it first.
//
// The rule (the rural bench's viewer follows the same one: tests/bench/rural_viewer.c, copy_rule):
//   - an audio frame on the main connection arriving HOLDUP_US later (capture → arrival) than
//     the lowest such latency of this subscription is a hold-up: the link loses or queues —
//     or this computer was too busy to read it in time (a classroom PC decoding 720p);
//   - the relay's `pong` says how many segments TCP retransmitted on the main connection
//     (docs/PROTOCOL.md §3.12): only once that is above 0 does the link lose packets, and only
//     then is a hold-up the link's (on a school LAN it stays 0: no copy however busy the PC);
//   - at a hold-up on a lossy link the copy subscribes (its connection, opened with the main
//     one — NetCore — stays, like the main one, reconnecting by itself);
//   - the copy costs the audio's rate once more. On a link too slow for that the main
//     connection's audio stands in a queue: for SATURATED_FOR_MS every audio frame of it comes
//     SATURATED_US or more over its lowest latency, and every frame the copy brings is that far
//     ahead of the main connection's newest (a main connection starved by its copy brings
//     next to nothing to judge by). Then the copy unsubscribes and waits BACKOFF_MS (doubling to
//     BACKOFF_MAX_MS at each such failure) before the next hold-up may subscribe it again;
//   - the relay refuses a copy (error BBT_EFULL) when what it measured of this classroom's
//     link has no room for the audio once more (docs/PROTOCOL.md §3.5: twice for the first
//     copy, three times for the second): for the first the same back-off follows, a later one
//     backs off alone (AudioCopies below).
//     On a link slower than that a copy holds up the main connection's audio as well as its
//     own (e2e/poornet at 48 kbit/s: no sound for seconds until the rule above let it go);
//   - the main connection's unsubscribe (the plan moved on) unsubscribes the copy;
//   - on a far link (a round trip of FAR_RTT_MS or more: not a school LAN; the relay's TCP measure
//     in the welcome, else hello → welcome) the copy
//     subscribes with the main connection, before any loss is known: the first seconds of a
//     lesson otherwise come on the main connection alone, whose lost packets hold the sound
//     (bbt-bench rural flaky-3g: 2-3 gaps over 200 ms in the first 3 s of each run); on a link
//     of FAR_LOSSY_RTT_MS or more every copy (COPIES) does. If by EARLY_FOR_MS
//     (EARLY_FAR_FOR_MS there) the relay has not said that TCP retransmitted, the link does not
//     lose: the copies unsubscribe, with no back-off (the rules above still apply later).
//     The copies' connections open with the main one, subscribing nothing, so that a copy
//     wanted at its welcome subscribes at once: opened only then, their first audio came ~0.45 s
//     after the main connection's on flaky-3g (three round trips: TCP, the upgrade, hello), and
//     a packet the main connection lost meanwhile was a gap. Below FAR_RTT_MS (a LAN) they
//     close at the welcome; a later hold-up opens one again.
// (Audio only is no reason to drop the copy: on a 300 kbit/s link with 2 % loss the relay may
// send audio alone, and its lost packets hold the sound as before — bbt-bench rural flaky-3g.)

import { RelayConnection } from './ws.js';
import { parseFrame, seqDelta } from './frame.js';

export const HOLDUP_US = 100000;
// An audio seq this far behind the newest taken is a new stream (the publisher restarted), not
// a late duplicate: 10 s of 20 ms frames.
export const RESTART_BEHIND = 500;

// Each audio frame once, in sequence order, from whichever connection brings it first. Pure
// (times are given).
// A copy that has just subscribed starts at the relay's newest audio while the main connection,
// held up, is still bringing older frames: taking the copy's frames then would skip those. So
// the copy's frames count only once it has joined: one of them follows the newest taken or had
// come already — or the copy has been ahead for JOIN_WAIT_MS, and the main connection is so far
// behind that its frames are stale (the jitter buffer would skip them anyway). copyJoined()
// after each copy subscription.
export const JOIN_WAIT_MS = 300;

export class AudioPick {
  constructor() {
    this.last = null;
    this.joined = false;
    this.aheadSince = null;
    this.c = { taken: 0, from_copy: 0, duplicates: 0, copy_ahead: 0 };
  }

  copyJoined(on = false) {
    this.joined = on;
    this.aheadSince = null;
  }

  // true: play this frame; false: it (or a later one) came already, or the copy is ahead.
  take(seq, fromCopy, nowMs = 0) {
    if (this.last !== null) {
      const d = seqDelta(this.last, seq);
      if (d <= 0 && d > -RESTART_BEHIND) {
        if (fromCopy) this.joined = true;
        this.c.duplicates++;
        return false;
      }
      if (fromCopy && !this.joined && d > 1 && d < RESTART_BEHIND) {
        if (this.aheadSince === null) this.aheadSince = nowMs;
        if (nowMs - this.aheadSince < JOIN_WAIT_MS) {
          this.c.copy_ahead++;
          return false;
        }
      }
    }
    if (fromCopy) this.joined = true;
    this.last = seq;
    this.c.taken++;
    if (fromCopy) this.c.from_copy++;
    return true;
  }

  reset() {
    this.last = null;
  }
}

// When to have the copy: see the rule above. Pure (times are given): the caller acts on what
// mainAudio() returns.
export const SATURATED_US = 400000;
export const SATURATED_FOR_MS = 4000;
export const BACKOFF_MS = 30000;
export const BACKOFF_MAX_MS = 240000;
export const FAR_RTT_MS = 30;
export const EARLY_FOR_MS = 10000;
// ... and on a link of FAR_LOSSY_RTT_MS or more (below) for longer: a link that loses 1 % of
// its packets can carry 180p and the sound for 15 s before TCP retransmits one (village-400k,
// 400 kbit/s, 120 ms: the first retransmission at 15.4 s in one run of six), and the sound
// broke (266 ms) in the 5 s between the early copy's end and the pong that told it.
export const EARLY_FAR_FOR_MS = 30000;
// The sound broke — two audio frames taken (AudioPick) more than BREAK_MS apart — while the
// copies had been on for BREAK_AFTER_MS (their start is no break of theirs): one more copy, up to
// COPIES. One copy is enough where the main connection and it seldom lose a packet within the
// same ~200 ms (village-400k, 1 % loss: no gap over 200 ms in most runs), and a second costs
// the picture there (180p gave way to audio only for 10 % of a run); flaky-3g (2 %, 150 ms)
// breaks within seconds and needs it. A link that broke once will again: the count stays.
export const BREAK_MS = 200;
export const BREAK_AFTER_MS = 1000;
// A link that is far as well as lossy — a round trip of FAR_LOSSY_RTT_MS or more (the relay's
// `[adapt] lossy_far_rtt` says the same of its pictures) — wants every copy as soon as a `pong`
// says TCP retransmitted: there each lost packet holds a connection's audio a round trip and more,
// and the break that would call the second copy is a gap of its own (flaky-3g: 13 of 18 gaps over
// 200 ms in ten runs came with one copy, before the second, docs/PERFORMANCE.md session 12).
export const FAR_LOSSY_RTT_MS = 100;

export class AudioCopyRule {
  constructor() {
    this.backoffMs = BACKOFF_MS;
    this.copies = 1; // how many copies are wanted while on (taken() adds one, retrans() all)
    this.rttMs = null; // the main connection's round trip (subscribed())
    this.reset();
  }

  // The relay's `pong`: segments retransmitted on the main connection. A link that lost one is
  // lossy for the rest of this page's life (the next connection crosses the same line); on a far
  // one every copy is wanted from then on. true: `copies` grew with the copies on — subscribe the
  // others now.
  retrans(n) {
    if (n > 0) this.lossy = true;
    if (!this.lossy || !(this.rttMs >= FAR_LOSSY_RTT_MS) || this.copies >= COPIES) return false;
    this.copies = COPIES;
    return this.on;
  }

  // A new subscription: its own lowest latency; a back-off under way stays, so does `lossy`.
  reset() {
    this.earlyUntil = null;    // an early copy is on until then, unless the link retransmits
    this.minUs = Infinity;
    this.mainCaptureUs = null; // capture time of the main connection's newest audio frame
    this.on = false;
    this.onSince = null;       // when the copies were last turned on
    this.lastTakenMs = null;   // the last audio frame taken
    this.saturatedSince = null;
    if (this.notBefore === undefined) this.notBefore = -Infinity;
    if (this.lossy === undefined) this.lossy = false;
  }

  // The main connection subscribed (after reset()), its round trip rttMs (NetCore: the welcome's
  // rtt_us, else hello → welcome): on a far link the copy starts with it — on one of
  // FAR_LOSSY_RTT_MS or more every copy: there a lost packet holds a connection's sound over
  // 200 ms, and two connections can lose within the same 200 ms before the first `pong` says
  // TCP retransmitted (flaky-3g: the main connection and the one copy at 1.3 s, a 208 ms gap,
  // the pong 0.3 s later). +1: subscribe the copies now; 0: not now.
  subscribed(rttMs, nowMs) {
    this.rttMs = rttMs;
    if (!(rttMs >= FAR_RTT_MS) || nowMs < this.notBefore) return 0;
    this.start(nowMs);
    const far = rttMs >= FAR_LOSSY_RTT_MS;
    this.earlyUntil = nowMs + (far ? EARLY_FAR_FOR_MS : EARLY_FOR_MS);
    if (far) this.copies = COPIES;
    return 1;
  }

  // An audio frame of the main connection: its capture time and capture → arrival latency (µs)
  // at nowMs. +1: subscribe the copy now; -1: unsubscribe it now (no room for it); -2:
  // unsubscribe it now (an early copy on a link that did not lose); 0: nothing to do.
  mainAudio(latencyUs, nowMs, captureUs = null) {
    if (latencyUs < this.minUs) this.minUs = latencyUs;
    if (captureUs !== null && (this.mainCaptureUs === null || captureUs > this.mainCaptureUs)) this.mainCaptureUs = captureUs;
    if (this.earlyUntil !== null && nowMs >= this.earlyUntil) {
      this.earlyUntil = null;
      if (this.on && !this.lossy) { // no retransmission: the early copy is not needed
        this.on = false;
        return -2;
      }
    }
    const over = latencyUs - this.minUs;
    if (!this.on) {
      if (over < HOLDUP_US || !this.lossy || nowMs < this.notBefore) return 0;
      this.start(nowMs);
      return 1;
    }
    return this.pressure(over, nowMs);
  }

  // The copies turn on at nowMs.
  start(nowMs) {
    this.on = true;
    this.onSince = nowMs;
    this.saturatedSince = null;
  }

  // An audio frame taken (AudioPick: the first to come, on any connection) at nowMs. true: the
  // sound broke with the copies on, and one more copy is wanted now (`copies` grew).
  taken(nowMs) {
    const last = this.lastTakenMs;
    this.lastTakenMs = nowMs;
    if (!this.on || last === null || nowMs - this.onSince < BREAK_AFTER_MS) return false;
    if (nowMs - last <= BREAK_MS || this.copies >= COPIES) return false;
    this.copies++;
    return true;
  }

  // An audio frame the copy brought, its capture time (µs): how far the main connection is
  // behind it counts like a main frame's lateness. -1: unsubscribe the copy now; 0: nothing.
  copyAudio(captureUs, nowMs) {
    if (!this.on || this.mainCaptureUs === null) return 0;
    return this.pressure(captureUs - this.mainCaptureUs, nowMs);
  }

  // The audio stands `over` µs late: SATURATED_US and more for SATURATED_FOR_MS, the link has no
  // room for the copy.
  pressure(over, nowMs) {
    if (over < SATURATED_US) {
      this.saturatedSince = null;
      return 0;
    }
    if (this.saturatedSince === null) this.saturatedSince = nowMs;
    if (nowMs - this.saturatedSince < SATURATED_FOR_MS) return 0;
    this.noRoom(nowMs);
    return -1;
  }

  // The copy is off for want of room (the audio stood late, or the relay refused it: its
  // measure of the link has no room for the audio twice): back off, doubling each time.
  noRoom(nowMs) {
    this.on = false;
    this.earlyUntil = null;
    this.notBefore = nowMs + this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
  }
}

// How many copies, each on a connection of its own. With one, the sound still stopped whenever
// both connections lost a packet within the same ~200 ms: on flaky-3g (2 % loss, 150 ms round
// trip) 27 audio gaps over 200 ms in five runs of 80 s; with two, 8 (bbt-bench rural,
// docs/PERFORMANCE.md "Results (session 11 …)"). The second comes once the sound has broken
// with the first on (AudioCopyRule.taken), or at once on a far lossy link (retrans()), or with
// the first at the subscription on a link of FAR_LOSSY_RTT_MS or more (subscribed()). The
// relay lets each copy on only while the link has room for the audio once more
// (docs/PROTOCOL.md §3.5): twice for the first copy, three times for the second.
export const COPIES = 2;

// The copies together: the rule turns them on or off (the first `want`: AudioCopyRule.copies, one
// until the sound breaks with it). The relay may refuse one after the
// first (no room for the audio that many times): that one alone stays off for a back-off of its
// own (BACKOFF_MS doubling to BACKOFF_MAX_MS), then follow() subscribes it again while the
// others are on. A refusal of the first is the rule's back-off (AudioCopyRule.noRoom), as with
// one copy. make(i) builds copy i's AudioCopy when first needed. Times are given.
export class AudioCopies {
  constructor(make, n = COPIES) {
    this.make = make;
    this.n = n;
    this.list = [];
    this.extra = []; // copy i ≥ 1 refused: { off, notBefore, backoffMs }
    this.session = null;
    this.want = n;   // how many of them are wanted while subscribed
  }

  at(i) {
    if (!this.list[i]) this.list[i] = this.make(i);
    return this.list[i];
  }

  // The rule turned on, or wants more copies: the first `want` copies subscribe (those not yet),
  // but one whose own back-off is on.
  subscribe(session, nowMs, want = this.n) {
    this.session = session;
    this.want = Math.min(want, this.n);
    for (let i = 0; i < this.want; i++) {
      const x = this.extra[i];
      if (x && x.off && nowMs < x.notBefore) continue;
      if (x) x.off = false;
      if (!this.at(i).subscribed) this.at(i).subscribe(session);
    }
  }

  unsubscribe() {
    this.session = null;
    for (const c of this.list) if (c) c.unsubscribe();
  }

  // Every copy's connection opened ahead, subscribing nothing (NetCore.start: with the main
  // connection). How many were opened.
  connect() {
    let n = 0;
    for (let i = 0; i < this.n; i++) n += this.at(i).connect();
    return n;
  }

  // The copies' connections closed, the unsubscribed ones only (opened ahead on what turned out
  // to be a LAN): a later subscribe opens one again. How many were closed.
  closeIdle() {
    let n = 0;
    for (const c of this.list) {
      if (c && c.conn && !c.subscribed) {
        c.stop();
        n++;
      }
    }
    return n;
  }

  // While the copies are on: one whose back-off is over subscribes again.
  follow(nowMs) {
    if (this.session === null) return;
    for (let i = 1; i < this.want; i++) {
      const x = this.extra[i];
      if (x && x.off && nowMs >= x.notBefore) {
        x.off = false;
        this.at(i).subscribe(this.session);
      }
    }
  }

  // The relay refused copy i (BBT_EFULL; AudioCopy has unsubscribed it). true: it was the first,
  // the rule is to back off (and the caller to unsubscribe the others); false: i alone is off.
  noRoom(i, nowMs) {
    if (i === 0) return true;
    const x = this.extra[i] || (this.extra[i] = { off: false, notBefore: -Infinity, backoffMs: BACKOFF_MS });
    x.off = true;
    x.notBefore = nowMs + x.backoffMs;
    x.backoffMs = Math.min(x.backoffMs * 2, BACKOFF_MAX_MS);
    return false;
  }

  get subscribed() {
    return this.list.some((c) => c && c.subscribed);
  }

  // The copies' counters (AudioCopy.c) summed, `refused` when any was; `copies`: how many are
  // subscribed now.
  stats() {
    const s = { copies: 0, subscribes: 0, unsubscribes: 0, no_room: 0, bytes: 0, errors: 0, refused: false };
    for (const c of this.list) {
      if (!c) continue;
      if (c.subscribed) s.copies++;
      for (const k of ['subscribes', 'unsubscribes', 'no_room', 'bytes', 'errors']) s[k] += c.c[k];
      s.refused = s.refused || c.c.refused;
    }
    return s;
  }

  stop() {
    this.session = null;
    for (const c of this.list) if (c) c.stop();
  }
}

// The copy's connection: hello like the main one (connect(): ahead of any subscription), then
// `subscribe` with audio_copy while wanted.
// onFrame(frame) gets each audio frame (parsed, header fields and payload); onSubscribe() is
// called as each subscribe goes out (a reconnection subscribes again); onNoRoom() when the
// relay refused the subscription for want of room on the link (the copy is then unsubscribed).
export class AudioCopy {
  constructor(url, hello, onFrame, log, onSubscribe = () => {}, onNoRoom = () => {}) {
    this.url = url;
    this.hello = hello;
    this.onFrame = onFrame;
    this.onSubscribe = onSubscribe;
    this.onNoRoom = onNoRoom;
    this.log = log;
    this.conn = null;
    this.session = null;   // wanted subscription, null: none
    this.welcomed = false;
    this.c = { subscribes: 0, unsubscribes: 0, no_room: 0, bytes: 0, errors: 0, refused: false };
  }

  // Open the connection and say hello, subscribing nothing yet (NetCore: with the main
  // connection, so that a copy wanted at its welcome is welcomed already). true: it was opened.
  connect() {
    if (this.conn || this.c.refused) return false;
    this.conn = new RelayConnection(this.url, {
      onOpen: () => this.conn.send(this.welcomed ? { ...this.hello, resume: true } : this.hello),
      onText: (msg) => this.onText(msg),
      onBinary: (buf) => this.onBinary(buf),
      onClose: () => {},
    }, this.log);
    this.conn.start();
    return true;
  }

  subscribe(session) {
    if (this.c.refused) return; // the relay is full: the classroom's main connection comes first
    this.session = session;
    this.c.subscribes++;
    if (!this.connect() && this.conn.open && this.welcomed) this.sendSubscribe();
  }

  unsubscribe() {
    if (this.session === null) return;
    if (this.conn && this.conn.open) this.conn.send({ type: 'unsubscribe', session: this.session });
    this.session = null;
    this.c.unsubscribes++;
  }

  stop() {
    this.session = null;
    if (this.conn) this.conn.stop();
    this.conn = null;
  }

  get subscribed() {
    return this.session !== null;
  }

  sendSubscribe() {
    this.onSubscribe();
    this.conn.send({ type: 'subscribe', id: 3, session: this.session, audio_copy: true });
  }

  onText(msg) {
    if (msg.type === 'welcome') {
      this.welcomed = true;
      if (this.session !== null) this.sendSubscribe(); // a reconnect subscribes again
    } else if (msg.type === 'error') {
      this.log('warn', 'audio copy: relay error', msg.name || '', msg.message || '');
      if (msg.name === 'BBT_ELIMIT') { // at its maximum of viewers: no retrying, ever
        this.c.refused = true;
        this.stop();
      } else if (msg.name === 'BBT_EFULL' && this.session !== null) { // no room on this link
        this.session = null; // the relay subscribed nothing: no unsubscribe to send
        this.c.unsubscribes++;
        this.c.no_room++;
        this.onNoRoom();
      }
    }
  }

  onBinary(buf) {
    if (this.session === null) return; // in flight after an unsubscribe
    this.c.bytes += buf.byteLength;
    let f;
    try {
      f = parseFrame(buf);
    } catch (e) {
      this.c.errors++;
      this.log('error', 'audio copy: malformed media frame rejected', e && e.message ? e.message : String(e));
      return;
    }
    this.onFrame(f);
  }
}

#!/usr/bin/env node
// tests/e2e/frame.test.mjs — relay/web/frame.js (the player's media-frame parser) against
// docs/PROTOCOL.md §2: the byte example of §2.3 verbatim, every rejection with its error name,
// and garbage that must be rejected cleanly (a FrameError, never another exception); and the
// fragment reassembly of §2.5 (Reassembler).
// Plain node, no browser: `node tests/e2e/frame.test.mjs`. Prints "N passed, N failed".

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { done, test } from './unit.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const F = await import(join(root, 'relay', 'web', 'frame.js'));


const hex = (s) => Uint8Array.from(s.trim().split(/\s+/).map((b) => parseInt(b, 16)));

// The example of §2.3, taken from the specification itself so the two cannot drift apart.
function specExample() {
  const doc = readFileSync(join(root, 'docs', 'PROTOCOL.md'), 'utf8');
  const sec = doc.slice(doc.indexOf('### 2.3'));
  const m = sec.match(/```\n([0-9a-f ]+)\n```/);
  assert.ok(m, 'PROTOCOL.md §2.3 has a hex example');
  return hex(m[1]);
}

function header({ version = 1, track = 0, flags = 0, reserved = 0, seq = 0, capture = 0n, payload = [0x09] } = {}) {
  const b = new Uint8Array(16 + payload.length);
  const dv = new DataView(b.buffer);
  dv.setUint8(0, version);
  dv.setUint8(1, track);
  dv.setUint8(2, flags);
  dv.setUint8(3, reserved);
  dv.setUint32(4, seq);
  dv.setBigUint64(8, BigInt(capture));
  b.set(payload, 16);
  return b;
}

function rejects(bytes, name, max) {
  let err = null;
  try {
    F.parseFrame(bytes, max);
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected ${name}, got a frame`);
  assert.ok(err instanceof F.FrameError, `expected a FrameError, got ${err}`);
  assert.equal(err.symbol, name);
  assert.equal(err.code, F.FRAME_ERRORS[name]);
}

test('§2.3 example decodes field by field', () => {
  const f = F.parseFrame(specExample());
  assert.equal(f.version, 1);
  assert.equal(f.track, 2);
  assert.equal(f.flags, F.FLAG_KEY | F.FLAG_CONFIG);
  assert.equal(f.seq, 300);
  assert.equal(f.captureUs, 1740000000000000);
  assert.deepEqual([...f.payload], [0x00, 0x00, 0x00, 0x01, 0x09, 0xf0]);
  assert.ok(F.isKey(f) && F.isConfig(f) && !F.isEnd(f));
});

test('ArrayBuffer and an offset view both work, payload is a view (no copy)', () => {
  const ex = specExample();
  const big = new Uint8Array(ex.length + 5);
  big.set(ex, 5);
  const f = F.parseFrame(big.subarray(5));
  assert.equal(f.seq, 300);
  assert.equal(f.payload.buffer, big.buffer);
  assert.equal(F.parseFrame(ex.slice().buffer).track, 2);
});

test('header fields at their limits', () => {
  const f = F.parseFrame(header({ track: 31, flags: 15, seq: 0xffffffff, capture: 2n ** 53n - 1n }));
  assert.equal(f.track, 31);
  assert.equal(f.flags, 15);
  assert.equal(f.seq, 0xffffffff);
  assert.equal(f.captureUs, Number.MAX_SAFE_INTEGER);
});

test('END may carry an empty payload', () => {
  const f = F.parseFrame(header({ flags: F.FLAG_END, payload: [] }));
  assert.equal(f.payload.byteLength, 0);
  assert.ok(F.isEnd(f));
});

test('BBT_EFRAME_SHORT: 0..15 bytes', () => {
  for (let n = 0; n < 16; n++) rejects(new Uint8Array(n), 'BBT_EFRAME_SHORT');
});

test('BBT_EFRAME_VERSION: 0, 2, 255', () => {
  for (const v of [0, 2, 255]) rejects(header({ version: v }), 'BBT_EFRAME_VERSION');
});

test('BBT_EFRAME_FLAGS: reserved byte, bits 5..7, END with PART', () => {
  rejects(header({ reserved: 1 }), 'BBT_EFRAME_FLAGS');
  for (const fl of [0x20, 0x40, 0x80, 0xff]) rejects(header({ flags: fl }), 'BBT_EFRAME_FLAGS');
  rejects(header({ flags: F.FLAG_END | F.FLAG_PART }), 'BBT_EFRAME_FLAGS');
  rejects(header({ flags: F.FLAG_END | F.FLAG_PART, payload: [] }), 'BBT_EFRAME_FLAGS');
});

test('PART (bit 4) is accepted with the frame\'s own flags', () => {
  const f = F.parseFrame(header({ flags: F.FLAG_PART | F.FLAG_KEY | F.FLAG_CONFIG, seq: 9 }));
  assert.equal(F.FLAG_PART, 0x10);
  assert.ok(F.isPart(f) && F.isKey(f));
  assert.ok(!F.isPart(F.parseFrame(header({ flags: 15 }))));
});

test('BBT_EFRAME_TRACK: 32 and 255', () => {
  rejects(header({ track: 32 }), 'BBT_EFRAME_TRACK');
  rejects(header({ track: 255 }), 'BBT_EFRAME_TRACK');
});

test('BBT_EFRAME_EMPTY: no payload without END', () => {
  rejects(header({ flags: F.FLAG_KEY, payload: [] }), 'BBT_EFRAME_EMPTY');
});

test('BBT_EFRAME_TOO_BIG: beyond the given limit', () => {
  rejects(header({ payload: [1, 2, 3, 4] }), 'BBT_EFRAME_TOO_BIG', 3);
  assert.equal(F.parseFrame(header({ payload: [1, 2, 3] }), 3).payload.byteLength, 3);
});

test('checks run in proto/frame.c order (version before reserved before flags before track)', () => {
  rejects(header({ version: 2, reserved: 1, flags: 0xf0, track: 40 }), 'BBT_EFRAME_VERSION');
  rejects(header({ reserved: 1, flags: 0xf0, track: 40 }), 'BBT_EFRAME_FLAGS');
  rejects(header({ flags: 0xf0, track: 40 }), 'BBT_EFRAME_FLAGS');
  rejects(header({ track: 40, payload: [] }), 'BBT_EFRAME_TRACK');
});

test('garbage is rejected with a FrameError, never another exception', () => {
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296;
  let ok = 0;
  for (let i = 0; i < 5000; i++) {
    const b = new Uint8Array(Math.floor(rnd() * 40));
    for (let j = 0; j < b.length; j++) b[j] = Math.floor(rnd() * 256);
    if (rnd() < 0.5 && b.length >= 4) { b[0] = 1; b[3] = 0; b[2] &= 0x1f; b[1] &= 0x1f; }
    try {
      F.parseFrame(b);
      ok++;
    } catch (e) {
      assert.ok(e instanceof F.FrameError, `unexpected ${e}`);
    }
  }
  assert.ok(ok > 0, 'some random frames are valid');
  for (const junk of [null, undefined, 'text', 42, {}, []]) {
    assert.throws(() => F.parseFrame(junk), F.FrameError);
  }
});

test('§2.6 padding: first byte 0, any length ≥ 1, ArrayBuffer or view; nothing else is padding', () => {
  assert.equal(F.isPadding(new ArrayBuffer(1)), true);
  assert.equal(F.isPadding(new Uint8Array(8192).buffer), true);
  const buf = new Uint8Array([1, 0, 0, 0]);
  assert.equal(F.isPadding(buf.subarray(1)), true); // a view at an offset
  assert.equal(F.isPadding(buf), false);
  assert.equal(F.isPadding(specExample()), false); // a frame (version 1)
  assert.equal(F.isPadding(new ArrayBuffer(0)), false);
  for (const junk of [null, undefined, 'text', 42, {}, []]) assert.equal(F.isPadding(junk), false);
  // to a receiver that did not ask for padding it is a frame with a bad version
  rejects(new Uint8Array(20), 'BBT_EFRAME_VERSION');
});

test('seqDelta wraps modulo 2^32', () => {
  assert.equal(F.seqDelta(0xffffffff, 0), 1);
  assert.equal(F.seqDelta(5, 6), 1);
  assert.equal(F.seqDelta(6, 5), -1);
  assert.equal(F.seqDelta(0, 0xffffffff), -1);
  assert.equal(F.seqDelta(10, 13), 3);
});

// ---- fragments (§2.5) ------------------------------------------------------------------------

const VIDEO = 1;
const AUDIO = 3;
const bytesOf = (n, from = 0) => Array.from({ length: n }, (_, i) => (from + i * 7 + 3) & 0xff);
// One message as the player gets it: parsed from an ArrayBuffer of its own.
const msg = (track, flags, seq, payload) =>
  F.parseFrame(header({ track, flags, seq, capture: 1740000000000000n + BigInt(seq), payload }).buffer);
function reasm(max) {
  const drops = [];
  const r = new F.Reassembler(max, (d) => drops.push(d));
  return { r, drops };
}

test('reassembly: a frame in one message comes back as it is (zero copy)', () => {
  const { r, drops } = reasm();
  const f = msg(VIDEO, F.FLAG_KEY | F.FLAG_CONFIG, 300, [0, 0, 0, 1, 9, 0xf0]);
  assert.equal(r.push(f), f);
  const end = msg(VIDEO, F.FLAG_END, 301, []);
  assert.equal(r.push(end), end);
  assert.equal(r.errors, 0);
  assert.equal(drops.length, 0);
});

test('reassembly: fragments in order with audio between them, payload bytes exact', () => {
  const { r, drops } = reasm();
  const kf = F.FLAG_KEY | F.FLAG_CONFIG;
  const all = bytesOf(22000);
  assert.equal(r.push(msg(VIDEO, kf | F.FLAG_PART, 40, all.slice(0, 8000))), null);
  const a1 = msg(AUDIO, 0, 900, [1, 2, 3]);
  assert.equal(r.push(a1), a1);
  assert.equal(r.push(msg(VIDEO, kf | F.FLAG_PART, 40, all.slice(8000, 16000))), null);
  const a2 = msg(AUDIO, 0, 901, [4, 5]);
  assert.equal(r.push(a2), a2);
  const w = r.push(msg(VIDEO, kf, 40, all.slice(16000)));
  assert.ok(w);
  assert.equal(w.track, VIDEO);
  assert.equal(w.seq, 40);
  assert.equal(w.flags, kf);
  assert.equal(w.captureUs, 1740000000000040);
  assert.equal(w.payload.byteLength, 22000);
  assert.deepEqual([...w.payload], all);
  // one buffer of header + payload that parses back to the same frame (what net-core posts)
  assert.ok(w.buf instanceof ArrayBuffer);
  assert.equal(w.buf.byteLength, F.HEADER_LEN + 22000);
  assert.equal(w.payload.buffer, w.buf);
  assert.equal(w.payload.byteOffset, F.HEADER_LEN);
  const again = F.parseFrame(w.buf);
  assert.equal(again.flags, kf);
  assert.equal(again.seq, 40);
  assert.equal(again.captureUs, 1740000000000040);
  assert.deepEqual([...again.payload], all);
  assert.equal(drops.length, 0);
  assert.equal(r.errors, 0);
});

test('reassembly: a missing last fragment is discarded when the next seq arrives', () => {
  const { r, drops } = reasm();
  assert.equal(r.push(msg(VIDEO, F.FLAG_KEY | F.FLAG_PART, 7, bytesOf(100))), null);
  assert.equal(r.push(msg(VIDEO, F.FLAG_PART, 7, bytesOf(100))), null);
  assert.ok(r.push(msg(AUDIO, 0, 1, [1]))); // another track changes nothing
  assert.equal(drops.length, 0);
  const next = msg(VIDEO, 0, 8, [9, 9, 9]);
  assert.equal(r.push(next), next); // handled as usual
  assert.deepEqual(drops, [{ why: 'incomplete', track: VIDEO, seq: 7, bySeq: 8, bytes: 200 }]);
  // ended by the next frame's first fragment, which then assembles normally
  assert.equal(r.push(msg(VIDEO, F.FLAG_PART, 9, [1])), null);
  assert.equal(r.push(msg(VIDEO, F.FLAG_PART, 10, [2, 3])), null);
  const w = r.push(msg(VIDEO, 0, 10, [4]));
  assert.deepEqual([...w.payload], [2, 3, 4]);
  assert.equal(drops.length, 2);
  assert.equal(r.errors, 2);
  // a pending frame and an END on its track
  assert.equal(r.push(msg(VIDEO, F.FLAG_PART, 11, [1])), null);
  assert.ok(F.isEnd(r.push(msg(VIDEO, F.FLAG_END, 12, []))));
  assert.equal(r.errors, 3);
});

test('reassembly: an oversize assembly is discarded and the rest of its frame ignored', () => {
  const { r, drops } = reasm(1000);
  assert.equal(r.push(msg(VIDEO, F.FLAG_PART, 5, bytesOf(600))), null);
  assert.equal(r.push(msg(VIDEO, F.FLAG_PART, 5, bytesOf(600))), null);
  assert.deepEqual(drops, [{ why: 'too big', track: VIDEO, seq: 5, bySeq: 5, bytes: 1200 }]);
  assert.ok(r.push(msg(AUDIO, 0, 2, [1])));
  assert.equal(r.push(msg(VIDEO, F.FLAG_PART, 5, [1])), null); // the rest: ignored
  assert.equal(r.push(msg(VIDEO, 0, 5, [1])), null);           // its last: ignored
  assert.equal(r.errors, 1);
  const n6 = msg(VIDEO, 0, 6, [6]);
  assert.equal(r.push(n6), n6);
  assert.equal(r.push(msg(VIDEO, F.FLAG_PART, 7, bytesOf(500))), null);
  assert.equal(r.push(msg(VIDEO, 0, 7, bytesOf(500))).payload.byteLength, 1000); // exactly the limit
  assert.equal(r.push(msg(VIDEO, F.FLAG_PART, 8, bytesOf(999))), null);
  assert.equal(r.push(msg(VIDEO, 0, 8, [1, 2])), null); // the last slice overflows
  const n9 = msg(VIDEO, 0, 9, [9]);
  assert.equal(r.push(n9), n9);
  assert.equal(r.errors, 2);
});

test('reassembly: reset forgets pending frames without counting them', () => {
  const { r } = reasm();
  assert.equal(r.push(msg(VIDEO, F.FLAG_PART, 1, [1])), null);
  r.reset();
  const f = msg(VIDEO, 0, 1, [2]);
  assert.equal(r.push(f), f);
  assert.equal(r.errors, 0);
});

test('reassembly: random sequences never throw, whole frames only', () => {
  let seed = 777;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296;
  const r = new F.Reassembler(64);
  for (let i = 0; i < 20000; i++) {
    const flags = [0, F.FLAG_PART, F.FLAG_KEY | F.FLAG_PART, F.FLAG_END, F.FLAG_KEY][Math.floor(rnd() * 5)];
    const len = F.isEnd({ flags }) ? 0 : 1 + Math.floor(rnd() * 40);
    const f = msg(Math.floor(rnd() * 3), flags, Math.floor(rnd() * 4), bytesOf(len));
    const w = r.push(f);
    if (w) {
      assert.ok(!F.isPart(w));
      assert.equal(w.seq, f.seq);
      assert.ok(w === f || w.payload.byteLength <= 64);
    }
  }
  assert.ok(r.errors > 0);
});

// net-core.js (the network worker's media path) hands on only whole frames; its byte counter
// counts every message. No audio track here, so every frame is posted as {type:'frame'}.
const { NetCore } = await import(join(root, 'relay', 'web', 'net-core.js'));

test('NetCore.onBinary: fragments become one posted frame, a whole message is posted as is', () => {
  const posted = [];
  const nc = new NetCore((m) => { if (m.type === 'frame' || m.type === 'log') posted.push(m); });
  const raw = (track, flags, seq, payload) =>
    header({ track, flags, seq, capture: 1740000000000000n, payload }).buffer;
  const m1 = raw(VIDEO, F.FLAG_KEY | F.FLAG_PART, 4, [1, 2, 3]);
  const other = raw(2, 0, 77, [8]);
  const m2 = raw(VIDEO, F.FLAG_KEY, 4, [4, 5]);
  nc.onBinary(m1);
  assert.equal(posted.length, 0);
  nc.onBinary(other);
  assert.equal(posted.length, 1);
  assert.equal(posted[0].buf, other); // the message itself: transferred, not copied
  nc.onBinary(m2);
  assert.equal(posted.length, 2);
  const w = posted[1];
  assert.equal(w.seq, 4);
  assert.equal(w.flags, F.FLAG_KEY);
  assert.equal(w.offset, F.HEADER_LEN);
  assert.deepEqual([...new Uint8Array(w.buf, w.offset)], [1, 2, 3, 4, 5]);
  assert.equal(nc.bytes, 19 + 17 + 18);
  assert.equal(nc.frameErrors, 0);
  nc.onBinary(raw(VIDEO, F.FLAG_PART, 5, [1]));
  nc.onBinary(raw(VIDEO, 0, 6, [2])); // seq 5's last fragment never came
  assert.equal(nc.frameErrors, 1);
  const logs = posted.filter((m) => m.type === 'log');
  assert.equal(logs.length, 1);
  assert.match(logs[0].args.join(' '), /track 1 seq 5.*seq 6/);
  assert.equal(posted.filter((m) => m.type === 'frame').at(-1).seq, 6);
});

test('NetCore.onBinary: padding (§2.6) is counted and dropped, between fragments too', () => {
  const posted = [];
  const nc = new NetCore((m) => { if (m.type === 'frame' || m.type === 'log') posted.push(m); });
  const raw = (track, flags, seq, payload) =>
    header({ track, flags, seq, capture: 1740000000000000n, payload }).buffer;
  nc.onBinary(raw(VIDEO, F.FLAG_KEY | F.FLAG_PART, 4, [1, 2, 3]));
  nc.onBinary(new Uint8Array(1000).buffer);
  nc.onBinary(raw(VIDEO, F.FLAG_KEY, 4, [4, 5]));
  nc.onBinary(new ArrayBuffer(1));
  assert.equal(posted.length, 1);
  assert.deepEqual([...new Uint8Array(posted[0].buf, posted[0].offset)], [1, 2, 3, 4, 5]);
  assert.equal(nc.paddingBytes, 1001);
  assert.equal(nc.bytes, 19 + 1000 + 18 + 1);
  assert.equal(nc.frameErrors, 0);
});

done();

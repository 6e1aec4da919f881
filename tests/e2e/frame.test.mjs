#!/usr/bin/env node
// tests/e2e/frame.test.mjs — relay/web/frame.js (the player's media-frame parser) against
// docs/PROTOCOL.md §2: the byte example of §2.3 verbatim, every rejection with its error name,
// and garbage that must be rejected cleanly (a FrameError, never another exception).
// Plain node, no browser: `node tests/e2e/frame.test.mjs`. Prints "N passed, N failed".

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const F = await import(join(root, 'relay', 'web', 'frame.js'));

let passed = 0;
let failed = 0;
function test(name, fn) {
  try {
    fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}\n     ${e && e.stack ? e.stack.split('\n').slice(0, 3).join('\n     ') : e}`);
  }
}

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

test('BBT_EFRAME_FLAGS: reserved byte or bits 4..7', () => {
  rejects(header({ reserved: 1 }), 'BBT_EFRAME_FLAGS');
  for (const fl of [0x10, 0x80, 0xff]) rejects(header({ flags: fl }), 'BBT_EFRAME_FLAGS');
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
    if (rnd() < 0.5 && b.length >= 4) { b[0] = 1; b[3] = 0; b[2] &= 0x0f; b[1] &= 0x1f; }
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

test('seqDelta wraps modulo 2^32', () => {
  assert.equal(F.seqDelta(0xffffffff, 0), 1);
  assert.equal(F.seqDelta(5, 6), 1);
  assert.equal(F.seqDelta(6, 5), -1);
  assert.equal(F.seqDelta(0, 0xffffffff), -1);
  assert.equal(F.seqDelta(10, 13), 3);
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

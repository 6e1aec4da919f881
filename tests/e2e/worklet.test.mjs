#!/usr/bin/env node
// tests/e2e/worklet.test.mjs — the audio jitter buffer (relay/web/audio-worklet.js) driven
// offline in plain node: a stand-in AudioWorkletGlobalScope (sampleRate, currentTime,
// AudioWorkletProcessor, registerProcessor), 20 ms Opus-sized chunks fed on a simulated clock,
// render quanta of 128 frames. Checks the start threshold, the join hold, underrun counting and
// the target's growth and decay, the latency bound after a burst, the ±0.5 % rate that holds the
// target, the fade-in, and the clock anchor that video is synchronised to.
// Prints "N passed, N failed".

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { done, test } from './unit.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const RATE = 48000;
const Q = 128;

globalThis.sampleRate = RATE;
globalThis.currentTime = 0;
globalThis.AudioWorkletProcessor = class {
  constructor() {
    this.port = { posted: [], postMessage(m) { this.posted.push(m); }, onmessage: null };
  }
};
let Processor = null;
globalThis.registerProcessor = (name, cls) => {
  assert.equal(name, 'bbt-jitter-buffer');
  Processor = cls;
};
await import(join(here, '..', '..', 'relay', 'web', 'audio-worklet.js'));


// A simulated lesson: chunks of 20 ms arrive on time except inside gaps (then all at once at the
// gap's end, as TCP delivers after a stall); `value` is the sample value of every chunk.
class Sim {
  constructor({ targetMs = 120, hold = false, value = 0.5 } = {}) {
    this.p = new Processor({ processorOptions: { targetMs } });
    this.p.onMessage({ type: 'expect', on: true });
    if (hold) this.p.onMessage({ type: 'hold', on: true });
    this.value = value;
    this.q = 0;
    this.fed = 0;
    this.cap0 = 1.74e15;
    this.gaps = [];
    this.out = [[new Float32Array(Q), new Float32Array(Q)]];
    this.samples = [];
  }

  get t() {
    return (this.q * Q) / RATE;
  }

  inGap(t) {
    return this.gaps.some(([a, b]) => t >= a && t < b);
  }

  run(seconds, keep = false) {
    const end = this.q + Math.round((seconds * RATE) / Q);
    for (; this.q < end; this.q++) {
      const t = this.t;
      while (!this.inGap(t) && this.fed * 0.02 <= t) {
        this.p.onMessage({ type: 'pcm', planes: [new Float32Array(960).fill(this.value)],
                           captureUs: this.cap0 + this.fed * 20000, rate: RATE });
        this.fed++;
      }
      globalThis.currentTime = t;
      this.p.process([], this.out);
      if (keep) this.samples.push(...this.out[0][0]);
    }
    return this.p;
  }
}

test('silent until the start buffer (target + 60 ms in the first 5 s) is there, then plays', () => {
  const s = new Sim({ targetMs: 120 });
  s.run(0.15); // 8 chunks of 20 ms have arrived by now
  assert.equal(s.p.playing, false, 'not with 160 ms');
  s.run(0.05);
  assert.equal(s.p.playing, true, 'playing with 180 ms');
  assert.equal(s.p.underruns, 0);
});

test('hold: buffers without starting, keeps only the newest start-buffer, then plays', () => {
  const s = new Sim({ targetMs: 120, hold: true });
  s.run(2);
  assert.equal(s.p.playing, false);
  assert.ok(s.p.bufferedMs() <= 181, `trimmed while held: ${s.p.bufferedMs()}`);
  assert.equal(s.p.skippedMs, 0, 'trimming before playing is not a skip');
  s.p.onMessage({ type: 'hold', on: false });
  s.run(0.01);
  assert.equal(s.p.playing, true);
  const a = s.p.anchor;
  const heardLagMs = (s.cap0 + s.fed * 20000 - a.captureUs) / 1000;
  assert.ok(heardLagMs > 150 && heardLagMs < 220, `plays ~180 ms behind the newest packet: ${heardLagMs}`);
});

test('steady feed: no underrun, the buffer stays near its target', () => {
  const s = new Sim({ targetMs: 120 });
  s.run(60);
  assert.equal(s.p.underruns, 0);
  assert.ok(Math.abs(s.p.bufferedMs() - 120) <= 30, `buffered ${s.p.bufferedMs()}`);
  assert.equal(s.p.targetMs, 120);
});

test('a gap shorter than the buffer is absorbed; a longer one is one underrun, and the target grows to cover it', () => {
  const short = new Sim({ targetMs: 120 });
  short.gaps = [[10, 10.09]];
  short.run(15);
  assert.equal(short.p.underruns, 0, '90 ms gap');
  const long = new Sim({ targetMs: 120 });
  long.gaps = [[10, 10.3]];
  long.run(10.2);
  assert.equal(long.p.underruns, 1, '300 ms gap');
  assert.equal(long.p.targetMs, 160, '+40 ms while dry');
  long.run(4.8);
  // ~120 ms buffered ran dry at ~10.12 s, sound again at 10.3 s: 120 + ~180 + 20
  assert.ok(long.p.targetMs >= 300 && long.p.targetMs <= 340, `target ${long.p.targetMs}`);
  assert.deepEqual(long.p.underrunTimes.length, 1);
  // the same gap again is covered
  long.gaps = [[20, 20.3]];
  long.run(10);
  assert.equal(long.p.underruns, 1, 'the second 300 ms gap is covered');
});

test('an interruption (audio not expected) is no gap to cover', () => {
  const s = new Sim({ targetMs: 120 });
  s.gaps = [[6, 6.3]];
  s.run(6.2); // dry, not yet covered
  s.p.onMessage({ type: 'expect', on: false });
  s.run(1);
  assert.equal(s.p.targetMs, 160, 'only the +40 ms step');
});

test('no underrun counted while audio is not expected (lesson interrupted)', () => {
  const s = new Sim({ targetMs: 120 });
  s.run(6);
  s.p.onMessage({ type: 'expect', on: false });
  s.gaps = [[6, 9]];
  s.run(2);
  assert.equal(s.p.underruns, 0);
});

test('the target is at most 400 ms, and shrinks back 10 ms every 10 s after 30 quiet seconds', () => {
  const s = new Sim({ targetMs: 120 });
  s.gaps = [[6, 6.6]];
  s.run(7);
  assert.equal(s.p.targetMs, 400, 'a 600 ms gap: capped');
  s.run(28);
  assert.equal(s.p.targetMs, 400, 'not before 30 s');
  s.run(50); // 85 s, ~79 s after the underrun: a step at 30 s after it, then every 10 s: 5 steps
  assert.ok(s.p.targetMs >= 340 && s.p.targetMs <= 360, `target ${s.p.targetMs}`);
  s.run(300);
  assert.equal(s.p.targetMs, 120, 'back to the base');
});

test('after a burst, latency is bounded: beyond target + 200 ms the excess is skipped', () => {
  const s = new Sim({ targetMs: 120 });
  s.run(6);
  for (let i = 0; i < 40; i++) { // 800 ms arriving at once
    s.p.onMessage({ type: 'pcm', planes: [new Float32Array(960).fill(0.5)], captureUs: s.cap0 + s.fed * 20000, rate: RATE });
    s.fed++;
  }
  s.run(0.01);
  assert.ok(s.p.bufferedMs() <= 150, `buffered ${s.p.bufferedMs()}`);
  assert.ok(s.p.skippedMs >= 700, `skipped ${s.p.skippedMs}`);
});

test('an excess within the bound drains by the 0.5 % faster rate', () => {
  const s = new Sim({ targetMs: 120 });
  s.run(6);
  for (let i = 0; i < 5; i++) { // +100 ms
    s.p.onMessage({ type: 'pcm', planes: [new Float32Array(960).fill(0.5)], captureUs: s.cap0 + s.fed * 20000, rate: RATE });
    s.fed++;
  }
  s.run(0.05);
  const before = s.p.bufferedMs();
  assert.ok(before > 170, `buffered ${before}`);
  assert.equal(s.p.skippedMs, 0);
  s.run(20);
  assert.ok(s.p.bufferedMs() < 150, `drained to ${s.p.bufferedMs()}`);
});

test('sound fades in after silence (no click) and carries the chunk values', () => {
  const s = new Sim({ targetMs: 120, value: 0.5 });
  s.run(1, true);
  const first = s.samples.findIndex((v) => v !== 0);
  assert.ok(first > 0);
  assert.ok(s.samples[first] < 0.01, `first sample ${s.samples[first]}`);
  assert.ok(Math.abs(s.samples[first + 300] - 0.5) < 1e-6, 'full level after 5 ms');
  let maxStep = 0;
  for (let i = first; i < s.samples.length; i++) maxStep = Math.max(maxStep, Math.abs(s.samples[i] - s.samples[i - 1]));
  assert.ok(maxStep < 0.01, `largest step ${maxStep}`);
});

test('the anchor maps the render time to the capture time of the sample playing', () => {
  const s = new Sim({ targetMs: 120 });
  s.run(10);
  const a = s.p.anchor;
  assert.ok(a && a.rate > 0.99 && a.rate < 1.01);
  assert.equal(a.ctxTime, globalThis.currentTime);
  // In this simulation packet n arrives at n × 20 ms: playing ~120 ms behind the newest one.
  const lagMs = (s.cap0 + (globalThis.currentTime * 1e6) - a.captureUs) / 1000;
  assert.ok(lagMs > 90 && lagMs < 160, `lag ${lagMs}`);
});

test('state messages carry what the page reads', () => {
  const s = new Sim();
  s.run(1);
  const m = s.p.port.posted[s.p.port.posted.length - 1];
  for (const k of ['playing', 'bufferedMs', 'targetMs', 'underruns', 'underrunTimes', 'skippedMs', 'played', 'anchor', 'ctxTime']) {
    assert.ok(k in m, k);
  }
});

done();

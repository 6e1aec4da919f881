// audio-worklet.js — the audio jitter buffer, on the audio rendering thread (AudioWorklet).
//
// The network worker posts decoded PCM chunks ({type:'pcm', planes:[Float32Array...],
// captureUs, rate}) on a MessagePort it got through {type:'port'}; this processor plays them
// back to back. It starts (and restarts after running dry) only once `target` ms are buffered
// (60 ms more during the first 5 s of sound) and the page is not holding it back (while it
// joins a lesson and decodes the group of pictures it joined with, the busiest moment); it counts
// an underrun each time the buffer runs dry while audio is expected. Drift and small excesses
// are absorbed by playing 0.5 % faster or slower (linear interpolation, inaudible for speech and
// music lessons); a burst beyond target + 200 ms (after a network stall) is skipped so latency
// stays bounded. After an underrun the target grows by 40 ms at once and, when sound arrives
// again, to what would have covered that gap — the target before it + the time the buffer stood
// dry + 20 ms (up to 400 ms) — so a second gap of the same length does not run it dry again
// (bbt-bench rural models this player). After 30 s without an underrun it shrinks back by 10 ms
// every 10 s. Every ~25 ms it posts its state, including an anchor
// {ctxTime, captureUs, rate}: the capture time of the first sample of the current render
// quantum, from which the main thread derives the audio clock that video is presented against.

const SKIP_EXTRA_MS = 200;
const START_EXTRA_MS = 60;
const TARGET_STEP_MS = 40;
const TARGET_COVER_MS = 20; // margin over a gap the target grows to cover
const TARGET_MAX_MS = 400;
const DECAY_AFTER_S = 30;   // quiet time before the target shrinks
const DECAY_EVERY_S = 10;   // then one step per this many seconds
const DECAY_STEP_MS = 10;
const RATE_ADJ = 0.005;
const FADE_FRAMES = 240; // 5 ms at 48 kHz
const POST_EVERY = 10; // render quanta between state messages

class JitterBuffer extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const o = (options && options.processorOptions) || {};
    this.baseTargetMs = o.targetMs || 120;
    this.targetMs = this.baseTargetMs;
    this.chunks = [];          // {planes, frames, captureUs, rate}
    this.pos = 0;              // fractional read position in chunks[0]
    this.frames = 0;           // frames queued in total (all chunks)
    this.playing = false;
    this.expect = false;       // audio should be flowing (counts underruns)
    this.hold = false;         // the page is joining (busy): buffer, do not start yet
    this.underruns = 0;
    this.skippedMs = 0;
    this.played = 0;           // output frames of real audio
    this.adj = 0;              // current rate adjustment: -RATE_ADJ, 0, +RATE_ADJ
    this.ramp = FADE_FRAMES;   // frames into the current fade-in
    this.lastUnderrunAt = 0;
    this.underrunTimes = [];    // context time (ms) of the last underruns, for diagnosis
    this.dryAt = null;          // context time the buffer ran dry (an underrun), until sound
    this.targetBefore = 0;      // ... and the target then
    this.restartMs = null;      // after an underrun: buffer enough to restart (see startMs)
    this.lastDecayAt = 0;
    this.quanta = 0;
    this.anchor = null;
    this.port.onmessage = (e) => this.onMessage(e.data);
  }

  onMessage(m) {
    if (m.type === 'port') { // PCM arrives on this port, straight from the network worker
      m.port.onmessage = (e) => this.onMessage(e.data);
    } else if (m.type === 'pcm') {
      const frames = m.planes[0].length;
      if (!frames) return;
      if (this.dryAt !== null) this.cover();
      this.chunks.push({ planes: m.planes, frames, captureUs: m.captureUs, rate: m.rate || sampleRate });
      this.frames += frames;
    } else if (m.type === 'reset') {
      this.chunks = [];
      this.pos = 0;
      this.frames = 0;
      this.playing = false;
      this.anchor = null;
      this.dryAt = null; // a new stream: its silence is no gap to cover
      this.restartMs = null;
      this.post();
    } else if (m.type === 'expect') {
      this.expect = !!m.on;
      if (!this.expect) this.dryAt = null; // an interruption is no gap to cover
    } else if (m.type === 'hold') {
      this.hold = !!m.on;
    }
  }

  inRate() {
    return this.chunks.length ? this.chunks[0].rate : sampleRate;
  }

  bufferedMs() {
    return ((this.frames - this.pos) / this.inRate()) * 1000;
  }

  // Drop whole input down to the target (a burst after a stall).
  skipTo(ms, count = true) {
    const rate = this.inRate();
    let extra = ((this.bufferedMs() - ms) / 1000) * rate;
    while (extra > 0 && this.chunks.length > 1) {
      const c = this.chunks[0];
      const left = c.frames - this.pos;
      if (left > extra) break;
      this.chunks.shift();
      this.frames -= c.frames;
      this.pos = 0;
      extra -= left;
      if (count) this.skippedMs += (left / rate) * 1000;
    }
  }

  // Sample of channel ch at integer index i counted from the start of chunks[0].
  sampleAt(ch, i) {
    for (const c of this.chunks) {
      if (i < c.frames) return c.planes[Math.min(ch, c.planes.length - 1)][i];
      i -= c.frames;
    }
    return 0;
  }

  chooseRate(buffered) {
    if (buffered > this.targetMs + 25) this.adj = RATE_ADJ;
    else if (buffered < this.targetMs - 25) this.adj = -RATE_ADJ;
    else if ((this.adj > 0 && buffered <= this.targetMs + 5) || (this.adj < 0 && buffered >= this.targetMs - 5)) this.adj = 0;
  }

  // Buffer needed to (re)start: the target, plus a cushion the first time, while the page is
  // still busy loading and decoding the group of pictures it joined with. After an underrun the
  // old target + 40 ms is enough to restart (the target grown to cover the gap would only make
  // the silence longer when sound resumes without a burst); what arrived beyond it is kept up
  // to the target (after a TCP stall the held-back audio arrives at once: that is the cushion).
  startMs() {
    const t = this.restartMs !== null ? Math.min(this.restartMs, this.targetMs) : this.targetMs;
    return t + (this.played < sampleRate * 5 ? START_EXTRA_MS : 0);
  }

  underrun() {
    this.playing = false;
    this.adj = 0;
    if (this.expect && this.played > 0) {
      this.underruns++;
      this.lastUnderrunAt = currentTime;
      this.underrunTimes.push(Math.round(currentTime * 1000));
      if (this.underrunTimes.length > 8) this.underrunTimes.shift();
      if (this.dryAt === null) {
        this.dryAt = currentTime;
        this.targetBefore = this.targetMs;
      }
      this.targetMs = Math.min(TARGET_MAX_MS, this.targetMs + TARGET_STEP_MS);
      this.restartMs = this.targetMs;
    }
  }

  // Sound again after an underrun: the target grows to what would have covered the gap.
  cover() {
    const need = this.targetBefore + (currentTime - this.dryAt) * 1000 + TARGET_COVER_MS;
    this.targetMs = Math.min(TARGET_MAX_MS, Math.max(this.targetMs, Math.round(need)));
    this.dryAt = null;
  }

  decay() {
    if (this.targetMs > this.baseTargetMs && currentTime - this.lastUnderrunAt > DECAY_AFTER_S &&
        currentTime - this.lastDecayAt > DECAY_EVERY_S) {
      this.targetMs = Math.max(this.baseTargetMs, this.targetMs - DECAY_STEP_MS);
      this.lastDecayAt = currentTime;
    }
  }

  process(_inputs, outputs) {
    const out = outputs[0];
    const n = out[0].length;
    for (const ch of out) ch.fill(0);
    let buffered = this.bufferedMs();
    if (!this.playing && this.chunks.length && buffered >= this.startMs()) {
      if (this.hold) {
        this.skipTo(this.startMs(), false); // nothing has played: keep only the newest
      } else {
        this.skipTo(Math.max(this.startMs(), this.targetMs), false);
        this.restartMs = null;
        buffered = this.bufferedMs();
        this.playing = true;
        this.ramp = 0; // fade in: no click after silence
      }
    }
    if (this.playing && buffered > this.targetMs + SKIP_EXTRA_MS) {
      this.skipTo(this.targetMs);
      this.ramp = 0; // the skip is a discontinuity: fade in over it
      buffered = this.bufferedMs();
    }
    this.anchor = null;
    if (this.playing) this.render(out, n, buffered);
    this.decay();
    if (++this.quanta % POST_EVERY === 0) this.post();
    return true;
  }

  render(out, n, buffered) {
    this.chooseRate(buffered);
    const step = (this.inRate() / sampleRate) * (1 + this.adj);
    const c0 = this.chunks[0];
    this.anchor = { ctxTime: currentTime, captureUs: c0.captureUs + (this.pos / c0.rate) * 1e6, rate: 1 + this.adj };
    for (let i = 0; i < n; i++) {
      if (this.frames - this.pos < 2) { // not enough for an interpolated sample
        this.underrun();
        break;
      }
      const gain = this.ramp < FADE_FRAMES ? ++this.ramp / FADE_FRAMES : 1;
      const i0 = Math.floor(this.pos);
      const f = this.pos - i0;
      for (let ch = 0; ch < out.length; ch++) {
        const a = this.sampleAt(ch, i0);
        const b = this.sampleAt(ch, i0 + 1);
        out[ch][i] = (a + (b - a) * f) * gain;
      }
      this.played++;
      this.pos += step;
      while (this.chunks.length && this.pos >= this.chunks[0].frames) {
        const c = this.chunks.shift();
        this.pos -= c.frames;
        this.frames -= c.frames;
      }
      if (!this.chunks.length) this.pos = 0;
    }
  }

  post() {
    this.port.postMessage({
      type: 'state',
      playing: this.playing,
      bufferedMs: this.bufferedMs(),
      targetMs: this.targetMs,
      underruns: this.underruns,
      underrunTimes: this.underrunTimes,
      skippedMs: this.skippedMs,
      played: this.played,
      anchor: this.anchor,
      ctxTime: currentTime,
    });
  }
}

registerProcessor('bbt-jitter-buffer', JitterBuffer);

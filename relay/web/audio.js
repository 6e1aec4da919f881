// audio.js — sound out: the AudioContext and the jitter buffer (audio-worklet.js), fed with
// PCM directly by the network worker (audio-decode.js decodes there). Provides the audio clock
// that video is presented against (sync.js): the capture time (µs) of the sound leaving the
// speakers now.
//
// Browsers start an AudioContext "suspended" until the user interacts with the page (unless
// Chromium runs with --autoplay-policy=no-user-gesture-required, as a kiosk should). While it
// is suspended decoded audio is dropped (nothing would play it) and the page shows the
// "click to start sound" overlay; video plays meanwhile against the wall clock.

const RATE = 48000;

export class AudioOut {
  // net: the NetClient (PCM port, running flag). onState(state) on every context change.
  constructor({ net, log, targetMs = 120, onState = () => {} }) {
    this.net = net;
    this.log = log;
    this.targetMs = targetMs;
    this.onState = onState;
    this.ctx = null;
    this.node = null;
    this.ready = false;
    this.w = null;           // last state message from the worklet (+ rxAt)
    this.expecting = false;
    this.dec = null;         // decoder counters from the worker
  }

  get available() {
    return typeof AudioContext !== 'undefined' && typeof AudioWorkletNode !== 'undefined';
  }

  async init() {
    if (!this.available || this.ctx) return;
    try {
      this.ctx = new AudioContext({ latencyHint: 'interactive', sampleRate: RATE });
    } catch (e) {
      this.log('warn', 'AudioContext at 48 kHz refused, using the default rate', e.message);
      this.ctx = new AudioContext({ latencyHint: 'interactive' });
    }
    this.ctx.onstatechange = () => this.stateChanged();
    try {
      await this.ctx.audioWorklet.addModule(new URL('audio-worklet.js', import.meta.url));
      this.node = new AudioWorkletNode(this.ctx, 'bbt-jitter-buffer', {
        numberOfInputs: 0,
        outputChannelCount: [2],
        processorOptions: { targetMs: this.targetMs },
      });
      this.node.port.onmessage = (e) => this.onWorklet(e.data);
      this.node.connect(this.ctx.destination);
      const ch = new MessageChannel(); // worker → worklet, not through this thread
      this.node.port.postMessage({ type: 'port', port: ch.port2 }, [ch.port2]);
      this.net.setPcmPort(ch.port1);
      this.ready = true;
      this.expect(this.expecting);
      if (this.holding) this.node.port.postMessage({ type: 'hold', on: true });
    } catch (e) {
      this.log('error', 'audio output unavailable', e && e.message);
    }
    this.stateChanged();
  }

  stateChanged() {
    this.net.setAudioRunning(this.ready && this.ctx.state === 'running');
    this.onState(this.state);
  }

  get state() {
    return this.ctx ? this.ctx.state : 'none';
  }

  get suspended() {
    return !!this.ctx && this.ctx.state === 'suspended';
  }

  // From a user gesture (click, key): let sound out.
  async resume() {
    if (!this.ctx) await this.init();
    if (this.ctx && this.ctx.state !== 'running') {
      try { await this.ctx.resume(); } catch (e) { this.log('warn', 'audio resume failed', e.message); }
    }
  }

  onWorklet(m) {
    if (m.type !== 'state') return;
    m.rxAt = performance.now();
    this.w = m;
  }

  // Audio should be flowing (session live with an audio track): underruns count.
  expect(on) {
    this.expecting = on;
    if (this.node) this.node.port.postMessage({ type: 'expect', on });
  }

  // Joining a lesson (page busy decoding the group of pictures): buffer sound but start it
  // only when released — after the first picture, or after at most maxMs.
  hold(on, maxMs = 2000) {
    clearTimeout(this.holdTimer);
    if (this.node) this.node.port.postMessage({ type: 'hold', on });
    this.holding = on;
    if (on) this.holdTimer = setTimeout(() => this.hold(false), maxMs);
  }

  // Empty the jitter buffer (a new stream).
  reset() {
    if (this.node) this.node.port.postMessage({ type: 'reset' });
  }

  // Decoder counters and arrival jitter from the network worker's stats.
  decoderStats(d, jitterMs, jitterMaxMs) {
    this.dec = d;
    this.jitterMs = jitterMs;
    this.jitterMaxMs = jitterMaxMs;
  }

  // Is sound actually coming out?
  get playing() {
    const w = this.w;
    return !!w && w.playing && !!this.ctx && this.ctx.state === 'running' && performance.now() - w.rxAt < 500;
  }

  get ok() {
    const d = this.dec;
    const fresh = d && d.last_decoded_wall_ms && performance.timeOrigin + performance.now() - d.last_decoded_wall_ms < 1500;
    return this.playing && !!fresh;
  }

  get bufferedMs() {
    return this.w ? this.w.bufferedMs : 0;
  }

  get underruns() {
    return this.w ? this.w.underruns : 0;
  }

  // Capture time (µs, the publisher's clock) of the sound heard at performance.now() = nowMs,
  // or null when no sound is playing.
  clockUs(nowMs) {
    const w = this.w;
    if (!w || !w.anchor || !this.playing || nowMs - w.rxAt > 250) return null;
    const ots = this.ctx.getOutputTimestamp();
    if (!ots || !ots.performanceTime) return null;
    const heard = ots.contextTime + (nowMs - ots.performanceTime) / 1000;
    return w.anchor.captureUs + (heard - w.anchor.ctxTime) * 1e6 * w.anchor.rate;
  }

  figures() {
    const w = this.w || {};
    const d = this.dec || {};
    return {
      audio_state: this.state,
      audio_ok: this.ok,
      audio_playing: this.playing,
      audio_frames_received: d.received || 0,
      audio_frames_decoded: d.decoded || 0,
      audio_decoder_errors: d.errors || 0,
      audio_decoder_restarts: d.restarts || 0,
      audio_buffer_ms: Math.round(w.bufferedMs || 0),
      audio_target_ms: w.targetMs || this.targetMs,
      audio_underruns: w.underruns || 0,
      audio_underrun_at_ms: (w.underrunTimes || []).slice(),
      audio_skipped_ms: Math.round(w.skippedMs || 0),
      audio_jitter_ms: this.jitterMs || 0,
      audio_jitter_max_ms: this.jitterMaxMs || 0,
      audio_output_latency_ms: this.ctx ? Math.round(((this.ctx.outputLatency || 0) + (this.ctx.baseLatency || 0)) * 1000) : 0,
      audio_codec: d.track ? d.track.codec : null,
      audio_track: d.track ? d.track.id : null,
    };
  }
}

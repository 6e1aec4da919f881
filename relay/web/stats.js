// stats.js — the player's figures: counters, latency percentiles, the once-a-second `report`
// (docs/PROTOCOL.md §3.8) and window.bbtStats (every field documented in docs/PLAYER.md).

// Latency histogram with 1 ms bins up to 10 s (and one overflow bin): constant memory for a
// whole day of playback, exact enough for p50/p95.
class Histogram {
  constructor(maxMs = 10000) {
    this.max = maxMs;
    this.bins = new Uint32Array(maxMs + 1);
    this.reset();
  }

  reset() {
    this.bins.fill(0);
    this.n = 0;
    this.top = 0;
    this.sum = 0;
  }

  add(ms) {
    if (!Number.isFinite(ms)) return;
    const v = ms < 0 ? 0 : ms;
    this.bins[Math.min(this.max, Math.floor(v))]++;
    this.n++;
    this.sum += v;
    if (v > this.top) this.top = v;
  }

  quantile(q) {
    if (!this.n) return 0;
    const want = Math.max(1, Math.ceil(q * this.n));
    let seen = 0;
    for (let i = 0; i <= this.max; i++) {
      seen += this.bins[i];
      if (seen >= want) return i + 0.5 > this.top ? this.top : i + 0.5;
    }
    return this.top;
  }

  summary() {
    return {
      p50: round1(this.quantile(0.5)),
      p95: round1(this.quantile(0.95)),
      max: round1(this.top),
      mean: this.n ? round1(this.sum / this.n) : 0,
      n: this.n,
    };
  }
}

// Samples of the current second: small arrays, sorted once per second.
class Window {
  constructor() {
    this.v = [];
  }

  add(ms) {
    if (Number.isFinite(ms)) this.v.push(ms < 0 ? 0 : ms);
  }

  take() {
    const v = this.v.sort((a, b) => a - b);
    this.v = [];
    if (!v.length) return null;
    const at = (q) => v[Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1))];
    return { p50: round1(at(0.5)), p95: round1(at(0.95)), max: round1(v[v.length - 1]), n: v.length };
  }
}

function round1(x) {
  return Math.round(x * 10) / 10;
}

const BIG = 9007199254740992; // 2^53, the protocol's ceiling for counters

function clampInt(x, lo, hi) {
  const v = Math.round(Number(x) || 0);
  return v < lo ? lo : v > hi ? hi : v;
}

export class Stats {
  constructor() {
    this.c = {
      bytes: 0,               // media bytes received (whole binary messages; network worker)
      padding_bytes: 0,       // of those, the relay's padding probes (§2.6), dropped unread
      frames_received: 0,     // video (camera) frames received
      frames_decoded: 0,      // video frames out of the decoder
      frames_shown: 0,        // drawn on the canvas
      frames_dropped: 0,      // not shown: late, superseded, or lost before decoding
      frames_skipped: 0,      // of frames_dropped: catch-up frames of a joined GOP, decoded only
      courseware_received: 0,
      courseware_decoded: 0,
      decoder_errors: 0,      // video decoder errors (audio: audio_decoder_errors)
      keyframe_requests: 0,
      frame_errors: 0,        // malformed binary messages (counted in the network worker)
      audio_copy: null,       // the second audio connection (audio-copy.js): subscribed, taken,
                              // from_copy, duplicates, subscribes, unsubscribes, bytes, errors
      seq_gaps: 0,
      overloads: 0,           // times the page fell behind and skipped to a keyframe
      stalls: 0,
      stall_ms: 0,
      errors: 0,              // console.error lines the player logged
    };
    this.latWin = new Window();
    this.latAll = new Histogram();
    this.presentWin = new Window();
    this.presentAll = new Histogram();
    this.avAll = new Histogram(2000);
    this.lastLatency = null;
    this.lastPresent = null;
  }

  add(name, n = 1) {
    this.c[name] += n;
  }

  latency(ms) {
    this.latWin.add(ms);
    this.latAll.add(ms);
  }

  presented(latencyMs, avMs) {
    this.presentWin.add(latencyMs);
    this.presentAll.add(latencyMs);
    if (Number.isFinite(avMs)) this.avAll.add(Math.abs(avMs));
  }

  // Called once a second: closes the current latency window.
  roll() {
    this.lastLatency = this.latWin.take();
    this.lastPresent = this.presentWin.take();
  }

  resetTotals() {
    this.latAll.reset();
    this.presentAll.reset();
    this.avAll.reset();
  }

  // The `report` message, every member within docs/PROTOCOL.md §3.8's ranges.
  report(session, extra) {
    const c = this.c;
    const m = {
      type: 'report',
      session,
      bytes: clampInt(c.bytes, 0, BIG),
      frames_decoded: clampInt(c.frames_decoded, 0, BIG),
      frames_dropped: clampInt(c.frames_dropped, 0, BIG),
      buffer_ms: clampInt(extra.buffer_ms, 0, 600000),
      stalls: clampInt(c.stalls, 0, BIG),
      stall_ms: clampInt(c.stall_ms, 0, BIG),
    };
    const l = this.lastLatency;
    if (l) m.latency_ms = { p50: l.p50, p95: l.p95, max: l.max };
    if (Number.isInteger(extra.layer)) m.layer = clampInt(extra.layer, -1, 31);
    m.audio_ok = !!extra.audio_ok;
    m.audio_underruns = clampInt(extra.audio_underruns, 0, BIG);
    return m;
  }

  // The counters and figures for window.bbtStats (merged with the player's state there).
  snapshot() {
    return {
      ...this.c,
      latency_ms: this.lastLatency || { p50: 0, p95: 0, max: 0, n: 0 },
      latency_total_ms: this.latAll.summary(),
      present_latency_ms: this.lastPresent || { p50: 0, p95: 0, max: 0, n: 0 },
      present_latency_total_ms: this.presentAll.summary(),
      av_offset_total_ms: this.avAll.summary(),
    };
  }
}

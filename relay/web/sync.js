// sync.js — when each decoded video frame is shown.
//
// Every frame carries its capture time (capture_us, the publisher's wall clock). MediaClock
// says which capture time should be on screen now: while sound plays, the capture time of the
// sound leaving the speakers (audio.js), so picture and sound match; otherwise the wall clock
// minus the current playout delay (the delay the audio clock had when it last ran, or the
// network's own latency measured on arriving frames plus a small margin).
//
// FrameScheduler (one per canvas) holds decoded frames until their time and then draws the
// newest one that is due. Frames that are due but already superseded, or late by more than
// LATE_DROP_MS, are dropped rather than shown: joining a lesson decodes the group of pictures
// the relay sends at once but shows only its newest picture, and a player that fell behind jumps
// to the present instead of playing a fast-forward. So that the screen never stays empty or
// frozen for long, a late frame is still shown when there has been no picture for
// FIRST_PICTURE_WAIT_MS after joining, or none for KEEPALIVE_MS since.

const LATE_DROP_MS = 250;
const KEEPALIVE_MS = 1000;
const FIRST_PICTURE_WAIT_MS = 250;
const DUE_TOLERANCE_MS = 8;
const MAX_AHEAD_MS = 1500;
const MAX_QUEUE = 12;
const STALL_MS = 500;
const LIVE_MARGIN_MS = 30;

export function wallUs(nowMs = performance.now()) {
  return (performance.timeOrigin + nowMs) * 1000;
}

export class MediaClock {
  constructor(audio) {
    this.audio = audio;
    this.offsetUs = 0;          // relay clock − local clock (ping/pong), applied to wallUs
    this.delayUs = 0;           // wall − audio clock, smoothed, while audio plays
    this.audioSeenAt = -1e9;
    this.source = 'wall';
    this.minCur = Infinity;     // arrival latency minimum, this second and the previous one
    this.minPrev = Infinity;
    this.minRolledAt = 0;
  }

  nowWallUs(nowMs = performance.now()) {
    return wallUs(nowMs) + this.offsetUs;
  }

  // A media frame arrived latUs after its capture: feeds the live-edge estimate.
  arrival(latUs, nowMs = performance.now()) {
    if (nowMs - this.minRolledAt > 1000) {
      this.minPrev = this.minCur;
      this.minCur = Infinity;
      this.minRolledAt = nowMs;
    }
    if (latUs < this.minCur) this.minCur = latUs;
  }

  // Network latency of the freshest frames, µs (0 when unknown).
  get liveLatencyUs() {
    const m = Math.min(this.minCur, this.minPrev);
    return Number.isFinite(m) ? Math.max(0, m) : 0;
  }

  // Capture time that should be on screen at performance.now() = nowMs.
  nowUs(nowMs = performance.now()) {
    const wall = this.nowWallUs(nowMs);
    const a = this.audio ? this.audio.clockUs(nowMs) : null;
    if (a !== null && wall - a > -1e6 && wall - a < 5e6) {
      const d = wall - a;
      this.delayUs = nowMs - this.audioSeenAt > 1000 ? d : this.delayUs + (d - this.delayUs) * 0.05;
      this.audioSeenAt = nowMs;
      this.source = 'audio';
      return a;
    }
    this.source = 'wall';
    if (nowMs - this.audioSeenAt < 5000) return wall - this.delayUs;
    return wall - this.liveLatencyUs - LIVE_MARGIN_MS * 1000;
  }
}

export class FrameScheduler {
  // draw(frame) paints a VideoFrame; the scheduler closes every frame it was given.
  constructor({ clock, stats, draw, camera = true }) {
    this.clock = clock;
    this.stats = stats;
    this.draw = draw;
    this.camera = camera;
    this.queue = [];
    this.newestReceivedUs = -Infinity;
    this.shown = 0;
    this.lastShownAt = 0;
    this.firstOfferAt = 0;
    this.inStall = false;
    this.expect = false;     // frames should be flowing (live, on a video layer): counts stalls
  }

  // The decoder's input side: the newest capture time handed to the decoder.
  received(captureUs) {
    if (captureUs > this.newestReceivedUs) this.newestReceivedUs = captureUs;
  }

  drop(frame, skipped = false) {
    frame.close();
    if (!this.camera) return;
    this.stats.add('frames_dropped');
    if (skipped) this.stats.add('frames_skipped');
  }

  // A decoded frame.
  offer(frame) {
    const nowMs = performance.now();
    if (!this.firstOfferAt) this.firstOfferAt = nowMs;
    const clk = this.clock.nowUs(nowMs);
    // Due already and a newer picture is on its way: catch up without showing it — unless the
    // catch-up is slow (a busy or weak machine) and there is no picture at all yet: then this
    // one is shown as a still, and the live picture follows when the decoder has caught up.
    const stillWanted = !this.shown && nowMs - this.firstOfferAt > FIRST_PICTURE_WAIT_MS;
    if (frame.timestamp < clk && frame.timestamp < this.newestReceivedUs && !stillWanted) {
      this.drop(frame, true);
      return;
    }
    this.queue.push(frame);
    while (this.queue.length > MAX_QUEUE) this.drop(this.queue.shift());
  }

  // Once per animation frame.
  tick(nowMs = performance.now()) {
    this.trackStall(nowMs);
    if (!this.queue.length) return;
    const clk = this.clock.nowUs(nowMs);
    let idx = -1;
    for (let i = 0; i < this.queue.length; i++) {
      if (this.queue[i].timestamp <= clk + DUE_TOLERANCE_MS * 1000) idx = i;
      else break;
    }
    if (idx < 0) {
      // Nothing due. A head far in the future means the clocks disagree: show it anyway.
      if (this.queue[0].timestamp - clk > MAX_AHEAD_MS * 1000) idx = 0;
      else return;
    }
    for (let i = 0; i < idx; i++) this.drop(this.queue[i]);
    const f = this.queue[idx];
    this.queue.splice(0, idx + 1);
    const lateMs = (clk - f.timestamp) / 1000;
    const starving = this.shown ? nowMs - this.lastShownAt > KEEPALIVE_MS
      : nowMs - this.firstOfferAt > FIRST_PICTURE_WAIT_MS;
    if (lateMs > LATE_DROP_MS && !starving && this.queue.length === 0 && this.shown) {
      this.drop(f);
      return;
    }
    this.present(f, nowMs);
  }

  present(f, nowMs) {
    const ts = f.timestamp;
    try {
      this.draw(f);
    } finally {
      f.close();
    }
    if (this.camera) {
      if (this.inStall) {
        this.stats.add('stall_ms', Math.round(nowMs - this.lastShownAt));
        this.inStall = false;
      }
      this.stats.add('frames_shown');
      const wall = this.clock.nowWallUs(nowMs);
      const a = this.clock.source === 'audio' ? this.clock.nowUs(nowMs) : NaN;
      this.stats.presented((wall - ts) / 1000, (ts - a) / 1000);
    }
    this.shown++;
    this.lastShownAt = nowMs;
  }

  trackStall(nowMs) {
    if (!this.camera || !this.expect || !this.shown || document.hidden) {
      this.inStall = false;
      return;
    }
    if (!this.inStall && nowMs - this.lastShownAt > STALL_MS) {
      this.inStall = true;
      this.stats.add('stalls');
    }
  }

  // How long the picture has not changed while frames were expected (ms), 0 when fine.
  stalledMs(nowMs = performance.now()) {
    return this.expect && this.shown ? Math.max(0, nowMs - this.lastShownAt) : 0;
  }

  // Span of the decoded frames waiting to be shown, ms.
  bufferedMs() {
    if (this.queue.length < 1) return 0;
    return (this.queue[this.queue.length - 1].timestamp - this.queue[0].timestamp) / 1000;
  }

  flush() {
    for (const f of this.queue) f.close();
    this.queue = [];
    this.newestReceivedUs = -Infinity;
    this.inStall = false;
  }
}

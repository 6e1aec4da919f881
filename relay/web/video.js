// video.js — H.264 decoding (WebCodecs VideoDecoder, Annex-B without `description`) onto a
// canvas. One VideoPipeline per picture role: the camera, and the courseware (shared screen).
//
// The decoder is configured with the codec string of the track list (e.g. avc1.42C01F) on the
// first KEY|CONFIG frame — SPS and PPS travel in band — and reconfigured when the relay moves
// the viewer to another layer (frames of the new track start at a keyframe). Before a keyframe,
// after a gap in the sequence numbers, or after a decoder error, frames are dropped until the
// next keyframe; the relay is asked for one ({"type":"keyframe","track":N}, at most every 2 s).
// Decoded frames go to the FrameScheduler (sync.js), which decides when each is drawn. The
// canvas takes the picture's display size (visibleRect: a 720p picture may be coded as 738
// lines) and CSS fits it to the screen keeping the aspect ratio.

import { FrameScheduler, wallUs } from './sync.js';
import { FLAG_CONFIG, FLAG_END, FLAG_KEY, seqDelta } from './frame.js';

const KEYREQ_INTERVAL_MS = 2000;
const MAX_DECODE_QUEUE = 30; // 1.2 s at 25 fps

export function videoSupported() {
  return typeof VideoDecoder !== 'undefined' && typeof EncodedVideoChunk !== 'undefined';
}

export class VideoPipeline {
  // kind: 'camera' | 'courseware'. requestKeyframe(trackId, reason) sends the control message.
  constructor({ kind, canvas, clock, stats, log, requestKeyframe, onPicture = () => {} }) {
    this.kind = kind;
    this.camera = kind === 'camera';
    this.canvas = canvas;
    this.g = canvas.getContext('2d', { alpha: false });
    this.clock = clock;
    this.stats = stats;
    this.log = log;
    this.requestKeyframe = requestKeyframe;
    this.onPicture = onPicture;
    this.track = null;          // track object being decoded
    this.decoder = null;
    this.configured = null;     // codec string the decoder is configured with
    this.awaitingKey = true;
    this.lastSeq = null;
    this.lastKeyReq = -1e9;
    this.unsupported = new Set(); // codec strings this browser refused
    this.size = { w: 0, h: 0 };
    this.pictures = 0;
    this.scheduler = new FrameScheduler({ clock, stats, camera: this.camera, draw: (f) => this.paint(f) });
  }

  // A new track list or a new stream (publisher back): restart at the next keyframe.
  restart() {
    this.closeDecoder();
    this.awaitingKey = true;
    this.lastSeq = null;
    this.scheduler.flush();
  }

  // The track list changed: forget a track that is gone.
  tracksChanged(tracks) {
    if (this.track && !tracks.some((t) => t.id === this.track.id && t.codec === this.track.codec)) {
      this.track = null;
      this.restart();
    } else {
      this.lastSeq = null; // a new publish numbers its frames anew (and starts at a keyframe)
    }
  }

  // The relay moved this viewer to another layer, from this keyframe on. The old decoder
  // finishes what it has (those pictures are older) and the queue of decoded frames stays, so
  // the picture does not freeze during the switch.
  switchTrack() {
    const old = this.decoder;
    this.decoder = null;
    this.configured = null;
    this.awaitingKey = true;
    this.lastSeq = null;
    if (old && old.state === 'configured') {
      this.retiring = old;
      old.flush().catch(() => {}).finally(() => {
        if (this.retiring === old) this.retiring = null;
        if (old.state !== 'closed') old.close();
      });
    } else if (old && old.state !== 'closed') {
      old.close();
    }
  }

  closeDecoder() {
    if (this.decoder && this.decoder.state !== 'closed') {
      try { this.decoder.close(); } catch (_) { /* closed already */ }
    }
    this.decoder = null;
    this.configured = null;
    if (this.retiring && this.retiring.state !== 'closed') {
      try { this.retiring.close(); } catch (_) { /* closed already */ }
    }
    this.retiring = null;
  }

  // The page could not keep up: drop this frame and start again at the next keyframe.
  overloaded(behindMs) {
    if (this.camera) this.stats.add('frames_received');
    this.dropBeforeDecode();
    if (!this.awaitingKey) {
      this.stats.add('overloads');
      this.log('warn', `page ${Math.round(behindMs)} ms behind the network: skipping to the next keyframe`);
    }
    this.awaitingKey = true;
  }

  dropBeforeDecode() {
    if (this.camera) this.stats.add('frames_dropped');
  }

  askKeyframe(reason) {
    if (!this.track) return;
    const now = performance.now();
    if (now - this.lastKeyReq < KEYREQ_INTERVAL_MS) return;
    this.lastKeyReq = now;
    this.stats.add('keyframe_requests');
    this.requestKeyframe(this.track.id, reason);
  }

  // One media frame of a track of this pipeline's kind; `info` is its track object.
  receive(frame, info) {
    if (this.camera) this.stats.add('frames_received');
    else this.stats.add('courseware_received');
    const key = (frame.flags & FLAG_KEY) !== 0;
    if (!this.track || frame.track !== this.track.id) {
      if (!key) { // another layer's frames count only from a keyframe: the relay switches there
        this.dropBeforeDecode();
        return;
      }
      this.track = info;
      this.switchTrack();
    }
    if (this.lastSeq !== null) {
      const d = seqDelta(this.lastSeq, frame.seq);
      if (d !== 1) {
        this.stats.add('seq_gaps');
        if (!key) this.awaitingKey = true;
      }
    }
    this.lastSeq = frame.seq;
    if ((frame.flags & FLAG_END) && frame.payload.byteLength === 0) return;
    if (this.unsupported.has(info.codec)) return;
    if (this.awaitingKey && !key) {
      this.dropBeforeDecode();
      this.askKeyframe('player waiting for a keyframe');
      return;
    }
    if (key && !this.ensureDecoder(frame)) {
      this.dropBeforeDecode();
      return;
    }
    this.decode(frame, key);
  }

  ensureDecoder(frame) {
    const codec = this.track.codec;
    if (this.decoder && this.decoder.state === 'configured' && this.configured === codec) return true;
    if (!(frame.flags & FLAG_CONFIG)) { // a fresh decoder needs SPS/PPS in band
      this.askKeyframe('keyframe without configuration');
      return false;
    }
    if (this.decoder && this.decoder.state !== 'closed') this.decoder.close(); // not a retiring one
    const dec = new VideoDecoder({
      output: (vf) => this.onFrame(vf, dec),
      error: (e) => this.onError(e, dec, codec),
    });
    const cfg = { codec, optimizeForLatency: true };
    if (this.track.width > 0 && this.track.height > 0) {
      cfg.codedWidth = this.track.width;
      cfg.codedHeight = this.track.height;
    }
    try {
      dec.configure(cfg);
    } catch (e) {
      this.log('warn', `video decoder refused ${codec}`, e && e.message);
      this.unsupported.add(codec);
      return false;
    }
    this.decoder = dec;
    this.configured = codec;
    return true;
  }

  decode(frame, key) {
    const dec = this.decoder;
    if (!dec || dec.state !== 'configured') {
      this.awaitingKey = true;
      this.dropBeforeDecode();
      return;
    }
    if (dec.decodeQueueSize > MAX_DECODE_QUEUE) { // this machine cannot keep up: start afresh
      this.log('warn', `video decoder backlog ${dec.decodeQueueSize}: waiting for the next keyframe`);
      this.restart();
      this.dropBeforeDecode();
      return;
    }
    try {
      dec.decode(new EncodedVideoChunk({ type: key ? 'key' : 'delta', timestamp: frame.captureUs, data: frame.payload }));
      if (key) this.awaitingKey = false;
      this.scheduler.received(frame.captureUs);
    } catch (e) {
      this.log('warn', 'video decode refused', e && e.message);
      this.awaitingKey = true;
      this.dropBeforeDecode();
    }
  }

  onFrame(vf, dec) {
    if (dec !== this.decoder && dec !== this.retiring) {
      vf.close();
      return;
    }
    if (this.camera) {
      this.stats.add('frames_decoded');
      this.stats.latency((this.clock.nowWallUs() - vf.timestamp) / 1000);
    } else {
      this.stats.add('courseware_decoded');
    }
    this.scheduler.offer(vf);
  }

  onError(e, dec, codec) {
    if (dec === this.retiring) this.retiring = null;
    if (dec !== this.decoder) return;
    this.decoder = null;
    this.configured = null;
    this.awaitingKey = true;
    this.stats.add('decoder_errors');
    if (e && e.name === 'NotSupportedError') {
      this.unsupported.add(codec);
      this.log('warn', `this browser cannot decode ${codec}`, e.message);
      return;
    }
    this.log('warn', `video decoder error on track ${this.track ? this.track.id : '?'}; waiting for a keyframe`, e && e.message);
    this.askKeyframe('decoder error');
  }

  paint(vf) {
    const w = vf.displayWidth || (vf.visibleRect ? vf.visibleRect.width : vf.codedWidth);
    const h = vf.displayHeight || (vf.visibleRect ? vf.visibleRect.height : vf.codedHeight);
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
      this.size = { w, h };
    }
    this.g.drawImage(vf, 0, 0, w, h);
    this.pictures++;
    this.onPicture(this, wallUs());
  }

  tick(nowMs) {
    this.scheduler.tick(nowMs);
  }

  get codecUnsupported() {
    return this.track && this.unsupported.has(this.track.codec) ? this.track.codec : null;
  }

  figures() {
    return {
      track: this.track ? this.track.id : null,
      codec: this.track ? this.track.codec : null,
      width: this.size.w,
      height: this.size.h,
      decoder: this.decoder ? this.decoder.state : 'none',
      decode_queue: this.decoder ? this.decoder.decodeQueueSize : 0,
      pending: this.scheduler.queue.length,
      awaiting_key: this.awaitingKey,
    };
  }
}

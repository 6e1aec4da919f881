// audio-decode.js — Opus packets to PCM with WebCodecs' AudioDecoder. Runs in the network
// worker (net-worker.js), next to the WebSocket, so that sound depends neither on the page's
// main thread (video drawing, layout) nor on its event loop: PCM goes straight to the jitter
// buffer in the AudioWorklet through a MessagePort.
//
// Chromium's decoder stamps its outputs contiguously from the first input (base + samples) and
// ignores later input timestamps: after a gap (publisher back, network stall) its stamps would
// lag the real capture times by the gap. So each output takes the capture time of its own packet
// (one Opus packet decodes to one AudioData, in order: a FIFO), and a discontinuity in the
// capture times restarts the decoder.

const OPUS_RATE = 48000;
const DISCONTINUITY_US = 200000;

// OpusHead (RFC 7845 §5.1) as the decoder's description: version 1, channel count, no
// pre-skip (a live stream joined mid-way has no encoder delay to trim), the input rate, no
// gain, channel mapping family 0 (mono or stereo).
export function opusHead(channels, inputRate = OPUS_RATE) {
  const b = new Uint8Array(19);
  b.set([0x4f, 0x70, 0x75, 0x73, 0x48, 0x65, 0x61, 0x64]); // "OpusHead"
  const dv = new DataView(b.buffer);
  dv.setUint8(8, 1);
  dv.setUint8(9, channels);
  dv.setUint16(10, 0, true);
  dv.setUint32(12, inputRate, true);
  dv.setInt16(16, 0, true);
  dv.setUint8(18, 0);
  return b;
}

export class OpusDecode {
  // out(planes, captureUs, sampleRate): decoded PCM (Float32Array per channel, ≤ 2 channels).
  constructor({ log, out }) {
    this.log = log;
    this.out = out;
    this.track = null;
    this.decoder = null;
    this.config = null;
    this.pendingUs = [];
    this.lastInUs = null;
    this.unsupported = false;
    this.running = false;      // the AudioContext plays: PCM is wanted
    this.c = { received: 0, decoded: 0, errors: 0, restarts: 0 };
  }

  // Use this audio track (null: none). Another track, codec or channel count: a new decoder.
  setTrack(track) {
    const same = track && this.track && track.id === this.track.id && track.codec === this.track.codec &&
      (track.channels || 1) === (this.track.channels || 1) && this.decoder && this.decoder.state === 'configured';
    if (same) return;
    this.close();
    this.track = track || null;
    if (track) this.open(track);
  }

  open(track) {
    const channels = track.channels || 1;
    const rate = track.sample_rate || OPUS_RATE;
    this.unsupported = false;
    if (track.codec !== 'opus' || channels > 2 || typeof AudioDecoder === 'undefined') {
      this.log('warn', `audio codec ${track.codec} with ${channels} channels is not supported here`);
      this.unsupported = true;
      return;
    }
    const dec = new AudioDecoder({
      output: (data) => this.onDecoded(data, dec),
      error: (e) => {
        this.c.errors++;
        this.log('warn', 'audio decoder error; restarting it', e && e.message);
        if (this.decoder === dec) this.decoder = null;
      },
    });
    this.config = { codec: 'opus', sampleRate: rate, numberOfChannels: channels, description: opusHead(channels, rate) };
    this.pendingUs = [];
    this.lastInUs = null;
    try {
      dec.configure(this.config);
      this.decoder = dec;
    } catch (e) {
      this.unsupported = true;
      this.log('warn', 'opus decoder refused its configuration', e && e.message);
    }
  }

  close() {
    if (this.decoder && this.decoder.state !== 'closed') {
      try { this.decoder.close(); } catch (_) { /* closed already */ }
    }
    this.decoder = null;
    this.pendingUs = [];
    this.lastInUs = null;
  }

  restart() {
    this.pendingUs = [];
    this.c.restarts++;
    const dec = this.decoder;
    if (!dec || dec.state === 'closed') return;
    try {
      dec.reset();
      dec.configure(this.config);
    } catch (e) {
      this.log('warn', 'audio decoder restart failed', e && e.message);
      this.close();
    }
  }

  // One media frame of the audio track: {captureUs, payload}.
  decode(frame) {
    this.c.received++;
    if (!this.decoder && this.track && !this.unsupported) this.open(this.track);
    if (!this.decoder || !frame.payload.byteLength) return;
    const gap = this.lastInUs === null ? 0 : frame.captureUs - this.lastInUs;
    if (gap > DISCONTINUITY_US || gap < -DISCONTINUITY_US / 4) this.restart();
    this.lastInUs = frame.captureUs;
    const dec = this.decoder;
    if (!dec || dec.state !== 'configured' || dec.decodeQueueSize > 50) return; // stuck: stay bounded
    try {
      dec.decode(new EncodedAudioChunk({ type: 'key', timestamp: frame.captureUs, data: frame.payload }));
      this.pendingUs.push(frame.captureUs);
      if (this.pendingUs.length > 100) this.pendingUs.shift();
    } catch (e) {
      this.log('warn', 'audio decode refused', e && e.message);
    }
  }

  onDecoded(data, dec) {
    if (dec !== this.decoder) {
      data.close();
      return;
    }
    this.c.decoded++;
    this.lastDecodedAt = performance.timeOrigin + performance.now();
    const captureUs = this.pendingUs.length ? this.pendingUs.shift() : data.timestamp;
    try {
      if (!this.running) return; // nobody is listening: drop, so nothing piles up
      const planes = [];
      const channels = Math.min(data.numberOfChannels, 2);
      for (let ch = 0; ch < channels; ch++) {
        const p = new Float32Array(data.numberOfFrames);
        data.copyTo(p, { planeIndex: ch, format: 'f32-planar' });
        planes.push(p);
      }
      this.out(planes, captureUs, data.sampleRate);
    } finally {
      data.close();
    }
  }
}

// net-core.js — the media path that runs off the page's main thread (in net-worker.js; in the
// page itself only where module workers are unavailable): the WebSocket to the relay (ws.js),
// frame parsing (frame.js), and Opus decoding (audio-decode.js) straight into the AudioWorklet's
// jitter buffer. Sound therefore keeps flowing while the main thread is busy drawing video.
//
// On a lossy link the audio also comes on one or two more connections (audio-copy.js: when, why);
// each audio frame is decoded once, from whichever connection brings it first.
//
// Messages in (from the page):
//   {type:'start', url, audio, hello, subscribe}  connect and reconnect forever; on each
//                                          connection say hello (resume: true after the first
//                                          welcome), then subscribe once welcomed (subscribe
//                                          null: the page subscribes as its plan says); with
//                                          audio, the audio copies' connections open too
//                                          (closed at the welcome on a LAN)
//   {type:'send', msg}                     a control message for the relay
//   {type:'pcm-port', port}                where decoded PCM goes (the worklet's MessagePort)
//   {type:'audio-running', on}             the AudioContext plays (else PCM is dropped)
// Messages out (to the page):
//   {type:'open'} {type:'close', info} {type:'text', msg, sentUs, rxUs} (a welcome carries
//   the wall-clock times its hello left and it arrived, for the clock offset)
//   {type:'frame', track, flags, seq, captureUs, arrivalUs, postedMs, buf} a non-audio frame
//                                          (payload at offset 16; postedMs: wall clock, ms); a
//                                          frame the relay sent in fragments (§2.5) comes whole,
//                                          arrivalUs taken at its last fragment
//   {type:'stats', ..., audio_copy} every 250 ms   {type:'log', level, args}

import { RelayConnection } from './ws.js';
import { HEADER_LEN, isPadding, parseFrame, Reassembler } from './frame.js';
import { OpusDecode } from './audio-decode.js';
import { AudioCopies, AudioCopy, AudioCopyRule, AudioPick, FAR_RTT_MS } from './audio-copy.js';

const wallUs = () => (performance.timeOrigin + performance.now()) * 1000;

export class NetCore {
  constructor(emit) {
    this.emit = emit;
    this.conn = null;
    this.wantAudio = true;
    this.audioTrack = null;
    this.pcmPort = null;
    this.bytes = 0;
    this.paddingBytes = 0; // the relay's padding probes (§2.6): counted in bytes, dropped
    this.frameErrors = 0;
    // Large frames may come in fragments (subscribe "fragments": true): only whole ones go on.
    this.reasm = new Reassembler(undefined, (d) => {
      this.frameErrors++;
      this.log('warn', `fragmented frame discarded (${d.why}): track ${d.track} seq ${d.seq}` +
        (d.bySeq !== d.seq ? `, then seq ${d.bySeq} came` : '') + `, ${d.bytes} bytes`);
    });
    this.audioArrivalUs = null;
    this.audioArrivalMinUs = Infinity;   // since the last stats message (live-edge estimate)
    this.jitter = { min: Infinity, max: -Infinity, lastMs: 0, maxMs: 0, windows: 0, startedAt: 0 };
    this.audio = new OpusDecode({
      log: (level, ...args) => this.log(level, ...args),
      out: (planes, captureUs, rate) => {
        if (this.pcmPort) this.pcmPort.postMessage({ type: 'pcm', planes, captureUs, rate }, planes.map((p) => p.buffer));
      },
    });
    this.timer = null;
    // Lossy links: the audio also on one or two more connections (audio-copy.js), each taken once.
    this.pick = new AudioPick();
    this.copyRule = new AudioCopyRule();
    this.copies = new AudioCopies((i) => new AudioCopy(this.url, this.hello, (cf) => this.onCopyFrame(cf),
      (level, ...args) => this.log(level, ...args),
      () => this.pick.copyJoined(false), // its first frames may be ahead of the main connection's
      () => this.copyNoRoom(i)));
    this.session = null;   // the main connection's subscription
  }

  log(level, ...args) {
    this.emit({ type: 'log', level, args: args.map((a) => (typeof a === 'string' ? a : String(a))) });
  }

  handle(m) {
    switch (m.type) {
      case 'start': return this.start(m);
      case 'send':
        if (this.conn && this.conn.send(m.msg)) this.sent(m.msg);
        return undefined;
      case 'pcm-port': this.pcmPort = m.port; return undefined;
      case 'audio-running': this.audio.running = !!m.on; return undefined;
      default: return undefined;
    }
  }

  start(m) {
    if (this.conn) return;
    this.wantAudio = m.audio !== false;
    this.url = m.url;
    this.hello = m.hello;
    this.subscribe = m.subscribe;
    this.welcomed = false;
    this.conn = new RelayConnection(m.url, {
      onOpen: () => this.onOpen(),
      onText: (msg) => this.onText(msg),
      onBinary: (buf) => this.onBinary(buf),
      onClose: (info) => {
        this.audio.lastInUs = null;
        this.reasm.reset();
        this.emit({ type: 'close', info: { ...info, connects: this.conn.connects } });
      },
    }, (level, ...args) => this.log(level, ...args));
    this.conn.start();
    // The copies' connections open with the main one, subscribing nothing: where the welcome
    // says the link is far they subscribe with it, their first audio as early as its own (opened
    // at its welcome they came ~0.45 s after it on flaky-3g, and a lost packet of the main
    // connection alone then was a gap); on a LAN they close at the welcome.
    this.copiesAhead = this.wantAudio && this.copies.connect() > 0;
    this.timer = setInterval(() => this.report(), 250);
  }

  onOpen() {
    this.helloSentUs = wallUs();
    this.conn.send(this.welcomed ? { ...this.hello, resume: true } : this.hello);
    this.emit({ type: 'open' });
  }

  // The track list decides which frames are decoded here: the best audio track.
  onText(msg) {
    if (msg.type === 'welcome') {
      this.welcomed = true;
      // The network's round trip: the relay's TCP measure when it sends one (docs/PROTOCOL.md
      // §3.3.2 rtt_us), else hello → welcome, which also holds this computer's own delays (a busy
      // classroom PC starting the page: 85 ms seen on a LAN-like link in e2e/poornet).
      this.helloRttMs = Number.isInteger(msg.rtt_us) && msg.rtt_us > 0 ? msg.rtt_us / 1000
        : (wallUs() - this.helloSentUs) / 1000;
      if (this.copiesAhead && !(this.helloRttMs >= FAR_RTT_MS) && this.copies.closeIdle() > 0) {
        this.log('info', `round trip ${Math.round(this.helloRttMs * 10) / 10} ms (a LAN): the audio copies' connections opened ahead are closed`);
      }
      this.copiesAhead = false;
      if (this.subscribe && this.conn.send(this.subscribe)) this.sent(this.subscribe); // null: the page follows its plan
      this.emit({ type: 'text', msg, sentUs: this.helloSentUs, rxUs: wallUs() });
      return;
    }
    if (msg.type === 'tracks') {
      const list = Array.isArray(msg.tracks) ? msg.tracks : [];
      const audio = list.filter((t) => t && t.kind === 'audio').sort((a, b) => (b.layer || 0) - (a.layer || 0))[0];
      this.audioTrack = this.wantAudio && audio ? audio : null;
      this.audio.setTrack(this.audioTrack);
      this.pick.reset(); // the session (re)started: its audio may count from anew
    }
    if (msg.type === 'pong' && Number.isInteger(msg.retrans) && this.copyRule.retrans(msg.retrans) &&
        this.session !== null) {
      this.copies.subscribe(this.session, performance.now(), this.copyRule.copies);
      this.log('info', `a far link that loses packets: ${this.copyRule.copies} audio copies subscribed`);
    }
    this.emit({ type: 'text', msg });
  }

  // What the main connection asked for: the copy follows its subscription.
  sent(msg) {
    if (msg.type === 'subscribe') {
      this.session = msg.session;
      this.copyRule.reset(); // (the pick resets at the `tracks` that answers it)
      this.copies.unsubscribe();
      if (this.copyRule.subscribed(this.helloRttMs, performance.now()) > 0) {
        this.copyWanted(1, null, `round trip ${Math.round(this.helloRttMs)} ms (not a LAN)`);
      }
    } else if (msg.type === 'unsubscribe') {
      this.session = null;
      this.copies.unsubscribe();
    }
  }

  // An audio frame from either connection: decoded when it is the first to bring it.
  takeAudio(f, arrivalUs, fromCopy) {
    const now = performance.now();
    if (this.session !== null) {
      this.copyWanted(fromCopy ? this.copyRule.copyAudio(f.captureUs, now)
                               : this.copyRule.mainAudio(arrivalUs, now, f.captureUs), arrivalUs);
      if (!fromCopy) this.copies.follow(now);
    }
    if (!this.pick.take(f.seq, fromCopy, now)) return;
    if (this.session !== null && this.copyRule.taken(now)) {
      this.copies.subscribe(this.session, now, this.copyRule.copies);
      this.log('info', `the sound broke with ${this.copyRule.copies - 1} audio copy: copy ${this.copyRule.copies} subscribed`);
    }
    this.audioArrivalUs = arrivalUs;
    if (arrivalUs < this.audioArrivalMinUs) this.audioArrivalMinUs = arrivalUs;
    if (arrivalUs < this.jitter.min) this.jitter.min = arrivalUs;
    if (arrivalUs > this.jitter.max) this.jitter.max = arrivalUs;
    this.audio.decode(f);
  }

  copyWanted(change, arrivalUs, why = null) {
    if (!change) return;
    const over = `${Math.round((arrivalUs - this.copyRule.minUs) / 1000)} ms`;
    if (change < 0) {
      this.copies.unsubscribe();
      this.log('info', change === -2
        ? 'no TCP retransmission since subscribing: the link does not lose; audio copies unsubscribed'
        : `audio stands ${over} late with its copies: the link has no room for them; copies unsubscribed`);
      return;
    }
    this.copies.subscribe(this.session, performance.now(), this.copyRule.copies);
    this.log('info', why ? `${why}: audio copies subscribed with the lesson` : `audio held up ${over}: audio copies subscribed`);
  }

  // The relay measured no room on the link for copy i (BBT_EFULL): the first one's refusal is the
  // rule's back-off, the others go; a later copy backs off alone.
  copyNoRoom(i) {
    const now = performance.now();
    if (this.copies.noRoom(i, now)) {
      this.copyRule.noRoom(now);
      this.copies.unsubscribe();
      this.log('info', 'the relay measured no room on this link for the audio twice: audio copies refused or ended');
    } else {
      this.log('info', `the relay measured no room on this link for the audio ${i + 2} times: audio copy ${i + 1} refused or ended`);
    }
  }

  onCopyFrame(f) {
    if (this.audioTrack && f.track === this.audioTrack.id) this.takeAudio(f, wallUs() - f.captureUs, true);
  }

  onBinary(msg) {
    this.bytes += msg.byteLength; // every message, fragments and padding too
    if (isPadding(msg)) {
      this.paddingBytes += msg.byteLength;
      return;
    }
    let part;
    try {
      part = parseFrame(msg);
    } catch (e) {
      this.frameErrors++;
      this.log('error', 'malformed media frame rejected', e && e.message ? e.message : String(e));
      return;
    }
    const f = this.reasm.push(part);
    if (!f) return; // a fragment: the frame is not whole yet
    const buf = f === part ? msg : f.buf; // unfragmented: the message itself, no copy
    const arrivalUs = wallUs() - f.captureUs;
    if (this.audioTrack && f.track === this.audioTrack.id) {
      this.takeAudio(f, arrivalUs, false);
      return;
    }
    this.emit({ type: 'frame', track: f.track, flags: f.flags, seq: f.seq, captureUs: f.captureUs, arrivalUs,
                postedMs: performance.timeOrigin + performance.now(), offset: HEADER_LEN, buf }, [buf]);
  }

  // Audio jitter: the spread of arrival latencies (arrival − capture) over each second.
  rollJitter() {
    const j = this.jitter;
    const now = performance.now();
    if (now - j.startedAt < 1000) return;
    if (Number.isFinite(j.min) && Number.isFinite(j.max)) {
      j.lastMs = (j.max - j.min) / 1000;
      if (j.lastMs > j.maxMs && j.windows >= 2) j.maxMs = j.lastMs; // the join's first seconds aside
      j.windows++;
    }
    j.startedAt = now;
    j.min = Infinity;
    j.max = -Infinity;
  }

  report() {
    const min = this.audioArrivalMinUs;
    this.rollJitter();
    this.emit({
      type: 'stats',
      bytes: this.bytes,
      padding_bytes: this.paddingBytes,
      frame_errors: this.frameErrors,
      audio: { ...this.audio.c, track: this.audioTrack, unsupported: this.audio.unsupported,
               last_decoded_wall_ms: this.audio.lastDecodedAt || 0 },
      audio_arrival_us: this.audioArrivalUs,
      audio_arrival_min_us: Number.isFinite(min) ? min : null,
      audio_jitter_ms: Math.round(this.jitter.lastMs * 10) / 10,
      audio_jitter_max_ms: Math.round(this.jitter.maxMs * 10) / 10,
      open: !!(this.conn && this.conn.open),
      attempt: this.conn ? this.conn.attempt : 0,
      connects: this.conn ? this.conn.connects : 0,
      audio_copy: { subscribed: this.copies.subscribed, ...this.pick.c, ...this.copies.stats() },
    });
    this.audioArrivalMinUs = Infinity;
  }
}

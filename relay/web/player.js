// player.js — the classroom player's entry point: the status shown to the classroom, the
// bbt.v1 conversation with the relay as seen from the page (docs/PROTOCOL.md §3: welcome, tracks,
// state, report, keyframe, pong, error), video frames to the decoders, window.bbtStats.
//
// boot.js (a classic script that runs first) reads the URL parameters and starts the network
// worker (net-worker.js: WebSocket, hello → subscribe, audio decoding into the AudioWorklet);
// this module adopts it. Without `session`, a page that knows its classroom follows the
// classroom's timetable (plan.js, onPlan below). URL parameters (docs/PLAYER.md): session, token, classroom,
// lang=zh|en, kiosk=1, debug=1, layer=N (pin a video track), audio=0, video=0, audio_ms=N.

import { relayUrl } from './ws.js';
import { NetClient } from './net.js';
import { VideoPipeline, videoSupported } from './video.js';
import { AudioOut } from './audio.js';
import { MediaClock, wallUs } from './sync.js';
import { Stats } from './stats.js';
import { Ui } from './ui.js';
import { lang, t } from './i18n.js';
import { isPlan, liveSession, nextLesson, nextLessonVars } from './plan.js';

const VERSION = '0.1.0';
const IDENT = /^[A-Za-z0-9_.-]{1,64}$/;
const POOR_VIDEO_STALL_MS = 2000;
const MAX_BEHIND_MS = 500; // a frame that waited longer between worker and page is dropped
const ERROR_LOG_LIMIT = 20; // per kind per minute, so a flood cannot hang the page

performance.mark('bbt-start');

// ---- logging: never the token, never the URL (it may carry the token) ----------------------

const logCounts = new Map();
let stats = null;
function log(level, ...args) {
  const minute = Math.floor(performance.now() / 60000);
  const k = `${level}|${args[0]}|${minute}`;
  const n = (logCounts.get(k) || 0) + 1;
  logCounts.set(k, n);
  if (logCounts.size > 500) logCounts.clear();
  if (n > ERROR_LOG_LIMIT) return;
  if (level === 'error' && stats) stats.add('errors');
  const fn = console[level] || console.log;
  fn.call(console, '[bbt]', ...args);
}

// ---- parameters (read by boot.js, which runs first) -------------------------------------------

function params_() {
  if (window.bbtParams) return window.bbtParams;
  log('error', 'boot.js did not run: index.html must load it before player.js');
  return { session: null, sessionValid: false, token: '', audio: true, video: true, layer: null, audioMs: 120 };
}

// ---- the player ------------------------------------------------------------------------------

class Player {
  constructor(params, ui) {
    this.p = params;
    this.ui = ui;
    this.stats = new Stats();
    stats = this.stats;
    this.conn = new NetClient(relayUrl(), {
      onOpen: () => this.onOpen(),
      onText: (m) => this.onText(m),
      onFrame: (f) => this.onFrame(f),
      onClose: (c) => this.onClose(c),
      onStats: (s) => this.onNetStats(s),
    }, log);
    this.audio = new AudioOut({ net: this.conn, log, targetMs: params.audioMs, onState: () => this.render() });
    this.clock = new MediaClock(this.audio);
    const mk = (kind, canvas) => new VideoPipeline({
      kind, canvas, clock: this.clock, stats: this.stats, log,
      requestKeyframe: (track, reason) => this.conn.send({ type: 'keyframe', track, reason }),
      onPicture: (pipe) => this.onPicture(pipe),
    });
    this.camera = mk('camera', ui.el.camera);
    this.courseware = mk('courseware', ui.el.courseware);
    this.phase = 'connecting';     // connecting | reconnecting | hello | subscribing | subscribed | denied
    this.sessionState = null;      // waiting | live | interrupted | ended (the relay's word)
    this.tracks = [];
    this.trackById = new Map();
    this.layer = null;             // the relay's `state.layer` for this viewer (−1: audio only)
    this.welcomed = false;
    this.offsetSamples = [];
    this.rttMs = null;
    this.lastError = null;
    this.reconnects = 0;
    this.firstPictureMs = null;
    this.firstFrameMs = null;
    this.nextRetryAt = 0;
    this.unknownTracks = new Set();
    this.arrivalMs = {};           // track id → latency of its last frame at arrival (ms)
    // Following the timetable (plan.js): no ?session=, a classroom — watch plan.live.
    this.follow = !params.session && !!(params.classroomValid || params.token);
    this.classroom = params.classroomValid ? params.classroom : null; // else welcome.subject
    this.plan = null;
    this.subscribeId = 2;
  }

  start() {
    const p = this.p;
    const hello = { type: 'hello', id: 1, token: p.token, role: 'receiver',
                    client: { name: 'bbt-player', version: VERSION } };
    if (p.classroomValid) hello.classroom = p.classroom;
    const subscribe = this.follow ? null : this.subscribeMsg(p.session);
    // First: the first picture waits for the connection (usually boot.js has started it).
    this.conn.start({ type: 'start', url: relayUrl(), audio: p.audio, hello, subscribe });
    this.audio.init().then(() => this.render());
    const loop = (now) => {
      this.camera.tick(now);
      this.courseware.tick(now);
      requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
    setInterval(() => this.render(), 250);
    setInterval(() => this.everySecond(), 1000);
    this.render();
  }

  // ---- connection ----

  // The worker says hello on each connection and subscribes once welcomed.
  onOpen() {
    performance.mark('bbt-connected');
    if (this.phase !== 'denied') this.phase = 'hello'; // a refused token stays on screen
    this.render();
  }

  onClose(c) {
    this.sessionState = null; // joining again after the reconnection
    if (this.phase !== 'denied') this.phase = this.welcomed || this.phase !== 'connecting' ? 'reconnecting' : 'connecting';
    this.nextRetryAt = performance.now() + c.delayMs;
    this.camera.restart();
    this.courseware.restart();
    this.audio.expect(false);
    this.render();
  }

  onText(m, env) {
    switch (m.type) {
      case 'welcome': return this.onWelcome(m, env);
      case 'tracks': return this.onTracks(m);
      case 'state': return this.onState(m);
      case 'pong': return this.onPong(m);
      case 'error': return this.onError(m);
      case 'bye': log('info', 'relay said bye', m.reason || ''); return undefined;
      case 'ping': this.conn.send({ type: 'pong', ref_id: m.id, time_us: m.time_us }); return undefined;
      case 'plan': return this.onPlan(m);
      default: return undefined; // hand, ... : not for this page (yet)
    }
  }

  onWelcome(m, env) {
    performance.mark('bbt-welcome');
    if (this.welcomed) this.reconnects++;
    this.welcomed = true;
    if (Number.isFinite(m.time_us) && env && env.sentUs) this.clockSample(m.time_us, env.sentUs, env.rxUs);
    this.phase = 'subscribing';
    if (this.follow) {           // a new connection watches nothing until its plan says
      if (typeof m.subject === 'string') this.classroom = m.subject; // the verified classroom
      this.p.session = null;
      this.phase = 'plan';
    }
  }

  subscribeMsg(session) {
    const p = this.p;
    return { type: 'subscribe', id: this.subscribeId, session, layer: p.layer === null ? 'auto' : p.layer,
             audio: p.audio, video: p.video, fragments: true, // §2.5: net-core.js reassembles
             padding: true }; // §2.6: net-core.js drops padding
  }

  // The classroom's plan (§3.13): join plan.live at its start (or at once: a late join), leave
  // when a later plan no longer names it, announce the next lesson in between.
  onPlan(m) {
    if (!this.follow || !isPlan(m, this.classroom)) return;
    this.plan = m;
    const live = liveSession(m);
    if (live !== this.p.session) {
      if (this.p.session) {
        log('info', `the timetable ends session ${this.p.session}`);
        this.conn.send({ type: 'unsubscribe', session: this.p.session });
        this.leave();
      }
      this.p.session = live;
      if (live) {
        log('info', `the timetable starts session ${live}`);
        this.subscribeId++;
        this.conn.send(this.subscribeMsg(live));
        this.phase = 'subscribing';
      }
    }
    if (!this.p.session) this.phase = 'between';
    this.render();
  }

  // Forget the session just left: its tracks, pictures and sound.
  leave() {
    this.sessionState = null;
    this.layer = null;
    this.tracks = [];
    this.trackById = new Map();
    this.audioTrack = null;
    this.audio.expect(false);
    for (const pipe of [this.camera, this.courseware]) {
      pipe.track = null;
      pipe.restart();
      pipe.g.fillStyle = '#000';
      pipe.g.fillRect(0, 0, pipe.canvas.width, pipe.canvas.height);
    }
    this.ui.setCourseware(false);
    this.firstPictureMs = null;
  }

  onTracks(m) {
    if (m.session !== this.p.session) return;
    this.phase = 'subscribed';
    this.setSessionState(m.state);
    this.tracks = Array.isArray(m.tracks) ? m.tracks : [];
    this.trackById = new Map(this.tracks.map((tr) => [tr.id, tr]));
    this.camera.tracksChanged(this.tracks);
    this.courseware.tracksChanged(this.tracks);
    const audio = this.tracks.filter((tr) => tr.kind === 'audio').sort((a, b) => (b.layer || 0) - (a.layer || 0))[0];
    this.audioTrack = this.p.audio ? audio || null : null; // the worker decodes the same one
    this.audio.expect(this.sessionState === 'live' && !!this.audioTrack);
    if (!this.tracks.some((tr) => tr.kind === 'courseware')) this.ui.setCourseware(false);
    this.render();
  }

  onState(m) {
    if (m.session !== this.p.session) return;
    this.setSessionState(m.state);
    if (Number.isInteger(m.layer)) this.layer = m.layer;
    this.audio.expect(this.sessionState === 'live' && !!this.audioTrack);
    this.render();
  }

  setSessionState(s) {
    if (s === this.sessionState) return;
    if (s === 'live') this.joining();
    this.sessionState = s;
    if (s !== 'live') this.layer = null;
    log('info', `session ${this.p.session} is ${s}`);
  }

  onPong(m) {
    if (Number.isFinite(m.time_us)) this.clockSample(null, m.time_us, wallUs());
  }

  // Clock offset to the relay: welcome.time_us against the hello's round trip; pings give the
  // round-trip time. The sample with the smallest round trip wins.
  clockSample(relayUs, sentUs, rxUs) {
    const rtt = (rxUs - sentUs) / 1000;
    if (relayUs === null) {
      this.rttMs = this.rttMs === null ? rtt : this.rttMs * 0.8 + rtt * 0.2;
      return;
    }
    this.offsetSamples.push({ rtt, off: relayUs - (sentUs + rxUs) / 2 });
    this.offsetSamples.sort((a, b) => a.rtt - b.rtt);
    this.offsetSamples.length = Math.min(this.offsetSamples.length, 8);
    this.clock.offsetUs = this.offsetSamples[0].off;
    if (this.rttMs === null) this.rttMs = rtt;
  }

  onError(m) {
    this.lastError = `${m.name || m.code}: ${m.message || ''}`;
    const ours = m.code >= 40 && m.code <= 44; // a message of ours failed validation: our bug
    log(ours ? 'error' : 'warn', `relay error ${m.name} (${m.code})${m.ref_type ? ' on ' + m.ref_type : ''}: ${m.message}`);
    if (m.fatal && (m.code === 80 || m.code === 81 || m.code === 82 || m.code === 83)) this.phase = 'denied';
    this.render();
  }

  // ---- media ----

  // A video or courseware frame from the network worker (audio is decoded there).
  onFrame(f) {
    if (this.firstFrameMs === null) {
      this.firstFrameMs = performance.now();
      performance.mark('bbt-first-frame');
    }
    const info = this.trackById.get(f.track);
    if (!info) {
      if (!this.unknownTracks.has(f.track)) log('warn', `media frame on track ${f.track}, which is not in the track list`);
      this.unknownTracks.add(f.track);
      return;
    }
    this.clock.arrival(f.arrivalUs + this.clock.offsetUs);
    this.arrivalMs[f.track] = (f.arrivalUs + this.clock.offsetUs) / 1000;
    const pipe = info.kind === 'video' ? this.camera : info.kind === 'courseware' ? this.courseware : null;
    if (!pipe) return;
    // This thread fell behind the network worker (a starved or slow machine): frames queued
    // between the two would be decoded ever later. Drop them and restart at a fresh keyframe,
    // so latency stays bounded.
    const behindMs = performance.timeOrigin + performance.now() - f.postedMs;
    if (behindMs > MAX_BEHIND_MS) {
      pipe.overloaded(behindMs);
      return;
    }
    try {
      pipe.receive(f, info);
    } catch (e) {
      log('error', 'media frame handling failed', e && e.stack ? e.stack : String(e));
    }
  }

  onNetStats(s) {
    this.stats.c.bytes = s.bytes;
    this.stats.c.padding_bytes = s.padding_bytes || 0;
    this.stats.c.frame_errors = s.frame_errors;
    this.stats.c.audio_copy = s.audio_copy || null;
    this.audio.decoderStats(s.audio, s.audio_jitter_ms, s.audio_jitter_max_ms);
    if (s.audio_arrival_min_us !== null) this.clock.arrival(s.audio_arrival_min_us + this.clock.offsetUs);
    if (s.audio_arrival_us !== null && s.audio && s.audio.track) {
      this.arrivalMs[s.audio.track.id] = (s.audio_arrival_us + this.clock.offsetUs) / 1000;
    }
  }

  // The lesson starts (or resumes) here: pictures first, sound once the page has settled.
  joining() {
    this.audio.hold(true, this.p.video ? 2000 : 300);
  }

  onPicture(pipe) {
    if (this.audio.holding) setTimeout(() => this.audio.hold(false), 300);
    if (pipe === this.courseware) {
      this.ui.setCourseware(true);
      return;
    }
    if (this.firstPictureMs === null) {
      performance.mark('bbt-first-picture');
      this.firstPictureMs = performance.now();
      this.stats.resetTotals(); // the totals describe playback, not the catch-up on joining
      log('info', `first picture ${Math.round(this.firstPictureMs)} ms after the page started loading`);
      this.render();
    }
  }

  // ---- what the classroom sees ----

  audioOnly() {
    if (this.sessionState !== 'live') return false;
    if (this.layer === -1 || !this.p.video) return true;
    if (!this.tracks.some((tr) => tr.kind === 'video')) return this.tracks.some((tr) => tr.kind === 'audio');
    return !!this.camera.codecUnsupported;
  }

  status() {
    if (this.phase === 'denied') return { key: 'denied', sub: 'denied_sub', error: true };
    if (this.phase === 'between') {
      const vars = nextLessonVars(this.plan, lang());
      return vars ? { key: 'between', sub: 'next_lesson', vars } : { key: 'between', sub: 'no_next_lesson' };
    }
    if (this.phase === 'plan') return { key: 'connecting', sub: 'plan_wait_sub' };
    if (this.phase === 'connecting' || this.phase === 'hello' || this.phase === 'subscribing') {
      return this.welcomed || this.reconnects ? { key: 'reconnecting', sub: 'reconnecting_now' } : { key: 'connecting', sub: 'connecting_sub' };
    }
    if (this.phase === 'reconnecting') {
      const s = Math.max(0, Math.ceil((this.nextRetryAt - performance.now()) / 1000));
      return s > 0 ? { key: 'reconnecting', sub: 'reconnecting_sub', vars: { s, n: this.conn.attempt } }
        : { key: 'reconnecting', sub: 'reconnecting_now' };
    }
    switch (this.sessionState) {
      case 'waiting': return { key: 'waiting', sub: 'waiting_sub' };
      case 'interrupted': return { key: 'waiting', sub: 'interrupted_sub' };
      case 'ended': return { key: 'ended', sub: 'ended_sub' };
      case 'live':
        if (this.firstPictureMs === null && !this.audioOnly() && !this.courseware.pictures) return { key: 'starting' };
        return null;
      default: return { key: 'connecting', sub: 'connecting_sub' };
    }
  }

  render() {
    const ui = this.ui;
    ui.setStatus(this.status());
    const live = this.phase === 'subscribed' && this.sessionState === 'live';
    const audioOnly = this.audioOnly();
    this.camera.scheduler.expect = live && !audioOnly;
    const stalled = this.camera.scheduler.stalledMs() > POOR_VIDEO_STALL_MS && this.audio.playing;
    const poor = live && (this.layer === -1 || stalled);
    const unsupported = live && this.camera.codecUnsupported;
    if (unsupported) ui.setBanner('video_codec_unsupported', { c: unsupported });
    else ui.setBanner(poor ? 'poor_network' : null);
    ui.setBadge(live && (audioOnly || stalled) ? 'audio_only' : null);
    ui.showSoundOverlay(this.audio.suspended && live && !!this.audioTrack);
    this.publishStats();
  }

  everySecond() {
    this.stats.roll();
    if (this.phase === 'subscribed') {
      const layer = this.layer === -1 || this.audioOnly() ? -1 : this.camera.track ? this.camera.track.id : null;
      const buffer = this.audio.playing ? this.audio.bufferedMs : this.camera.scheduler.bufferedMs();
      const m = this.stats.report(this.p.session, { buffer_ms: buffer, layer, audio_ok: this.audio.ok,
                                                    audio_underruns: this.audio.underruns });
      this.conn.send(m);
      this.lastReport = m;
    }
    this.render();
  }

  figures() {
    const cam = this.camera.figures();
    return {
      version: VERSION,
      lang: lang(),
      session: this.p.session,
      classroom: this.classroom,
      follow: this.follow,
      plan_date: this.plan ? this.plan.date : null,
      plan_live: this.plan ? liveSession(this.plan) : null,
      next_lesson: this.plan ? nextLesson(this.plan) : null,
      phase: this.phase,
      state: this.sessionState,
      status: this.ui.el.status.classList.contains('clear') ? null : this.ui.el.status.dataset.state || null,
      status_text: this.ui.el.status.classList.contains('clear') ? '' : this.ui.el.statusText.textContent,
      connected: this.conn.open,
      connections: this.conn.connects,
      reconnects: this.reconnects,
      layer: this.layer,
      video_track: cam.track,
      video_codec: cam.codec,
      video_width: cam.width,
      video_height: cam.height,
      video_decoder: cam.decoder,
      video_decode_queue: cam.decode_queue,
      video_pending: cam.pending,
      video_awaiting_key: cam.awaiting_key,
      video_stalled_ms: Math.round(this.camera.scheduler.stalledMs()),
      courseware_track: this.courseware.track ? this.courseware.track.id : null,
      audio_only: this.audioOnly(),
      ...this.stats.snapshot(),
      ...this.audio.figures(),
      buffer_ms: Math.round(this.audio.playing ? this.audio.bufferedMs : this.camera.scheduler.bufferedMs()),
      clock_source: this.clock.source,
      clock_offset_ms: Math.round(this.clock.offsetUs / 100) / 10,
      live_latency_ms: Math.round(this.clock.liveLatencyUs / 100) / 10,
      av_delay_ms: Math.round(this.clock.delayUs / 100) / 10,
      rtt_ms: this.rttMs === null ? null : Math.round(this.rttMs * 10) / 10,
      arrival_latency_ms: Object.fromEntries(Object.entries(this.arrivalMs).map(([k, v]) => [k, Math.round(v * 10) / 10])),
      first_frame_ms: this.firstFrameMs === null ? null : Math.round(this.firstFrameMs),
      first_picture_ms: this.firstPictureMs === null ? null : Math.round(this.firstPictureMs),
      last_error: this.lastError,
      webcodecs: true,
      updated_ms: Math.round(performance.now()),
    };
  }

  publishStats() {
    const s = this.figures();
    window.bbtStats = s;
    if (this.p.debug) this.ui.setDebug(debugText(s));
  }
}

function debugText(s) {
  const l = s.latency_ms, lt = s.latency_total_ms, pl = s.present_latency_total_ms;
  return [
    `${t('stats_title')}  ${s.session}  ${s.phase}/${s.state}`,
    `video   track ${s.video_track} ${s.video_codec || ''} ${s.video_width}x${s.video_height}  layer ${s.layer}`,
    `frames  recv ${s.frames_received} dec ${s.frames_decoded} shown ${s.frames_shown} drop ${s.frames_dropped} (skip ${s.frames_skipped})`,
    `latency 1s p50 ${l.p50} p95 ${l.p95} max ${l.max} ms | all p50 ${lt.p50} p95 ${lt.p95} max ${lt.max}`,
    `shown   all p50 ${pl.p50} p95 ${pl.p95} ms  clock ${s.clock_source} a/v delay ${s.av_delay_ms} ms`,
    `audio   ${s.audio_state} ok ${s.audio_ok} dec ${s.audio_frames_decoded} buf ${s.audio_buffer_ms}/${s.audio_target_ms} ms underruns ${s.audio_underruns}`,
    `stalls  ${s.stalls} (${s.stall_ms} ms)  buffer ${s.buffer_ms} ms  bytes ${s.bytes}`,
    `net     rtt ${s.rtt_ms} ms offset ${s.clock_offset_ms} ms live ${s.live_latency_ms} ms  reconnects ${s.reconnects}`,
    `start   first frame ${s.first_frame_ms} ms, first picture ${s.first_picture_ms} ms`,
    `errors  ${s.errors} frame ${s.frame_errors} decoder ${s.decoder_errors} keyreq ${s.keyframe_requests}${s.last_error ? '  ' + s.last_error : ''}`,
  ].join('\n');
}

// ---- start -----------------------------------------------------------------------------------

function main() {
  const ui = new Ui();
  const params = params_();
  if (params.kiosk) document.body.classList.add('kiosk');
  const base = { version: VERSION, lang: lang(), webcodecs: videoSupported() };
  window.bbtStats = { ...base, phase: 'starting' };

  if (!videoSupported()) {
    ui.showUnsupported();
    window.bbtStats = { ...base, phase: 'unsupported' };
    log('warn', 'WebCodecs VideoDecoder is not available in this browser');
    return;
  }
  if (!params.sessionValid && (params.session || !(params.classroomValid || params.token))) {
    ui.showForm(params.session, params.session ? 'bad_session' : null);
    window.bbtStats = { ...base, phase: 'no-session' };
    ui.el.joinForm.addEventListener('submit', (e) => {
      e.preventDefault();
      const v = ui.el.input.value.trim();
      if (!IDENT.test(v)) {
        ui.showForm(v, 'bad_session');
        return;
      }
      const q = new URLSearchParams(location.search);
      q.set('session', v);
      location.search = q.toString();
    });
    ui.onLang = () => ui.showForm(undefined, null);
    return;
  }

  const player = new Player(params, ui);
  ui.onLang = () => player.render();
  window.bbtPlayer = player;
  // One click (or key) anywhere: sound on; in kiosk mode or on a big screen also full screen.
  const gesture = () => {
    player.audio.resume().then(() => player.render());
    if (params.kiosk || window.innerWidth > 700) ui.enterFullscreen();
  };
  ui.el.sound.addEventListener('click', (e) => { e.stopPropagation(); gesture(); });
  document.addEventListener('keydown', () => { if (player.audio.suspended) gesture(); });
  document.addEventListener('pointerdown', () => { if (params.kiosk || player.audio.suspended) player.audio.resume(); });
  if (params.kiosk) ui.enterFullscreen();
  player.start();
}

main();

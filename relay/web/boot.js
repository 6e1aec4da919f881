// boot.js — runs first (a classic script in <head>): reads the URL parameters and, when there is
// a session to play and the browser has WebCodecs, starts the network worker at once, so the
// relay connection (hello → welcome → subscribe → first frames) proceeds while the page's own
// modules are still loading. player.js adopts the worker and the messages it sent meanwhile.
// The token is passed to the worker only; it is never logged or shown. It comes once in the URL
// (?token=…, the link county IT gives a classroom): it is kept in localStorage and removed from
// the address bar at once (history.replaceState), so it stays out of the history, bookmarks and
// screenshots; later visits use the stored one (docs/SECURITY.md).
(function () {
  'use strict';
  var IDENT = /^[A-Za-z0-9_.-]{1,64}$/;
  var TOKEN_KEY = 'bbt.player.token';
  var q = new URLSearchParams(location.search);
  function takeToken() {
    var t = q.get('token');
    try {
      if (t) {
        localStorage.setItem(TOKEN_KEY, t);
        var u = new URL(location.href);
        u.searchParams.delete('token');
        history.replaceState(history.state, '', u.pathname + u.search + u.hash);
        return t;
      }
      return localStorage.getItem(TOKEN_KEY) || '';
    } catch (e) {
      return t || ''; // storage refused (private mode): use it for this visit only
    }
  }
  function int(name, lo, hi) {
    var v = q.get(name);
    if (v === null || !/^-?\d+$/.test(v)) return null;
    var n = Number(v);
    return n >= lo && n <= hi ? n : null;
  }
  var p = {
    session: q.get('session'),
    token: takeToken(),
    classroom: q.get('classroom'),
    kiosk: q.get('kiosk') === '1',
    debug: q.get('debug') === '1',
    layer: int('layer', 0, 31),
    audio: q.get('audio') !== '0',
    video: q.get('video') !== '0',
    audioMs: int('audio_ms', 20, 1000) || 120,
  };
  p.sessionValid = !!p.session && IDENT.test(p.session);
  p.classroomValid = !!p.classroom && IDENT.test(p.classroom);
  window.bbtParams = p;
  window.bbtBoot = null;
  // A session to play, or a classroom whose timetable says what to play (player.js, plan.js):
  // named by ?classroom= (lab mode) or by the token's subject.
  var follow = !p.session && (p.classroomValid || !!p.token);
  if (!(p.sessionValid || follow) || typeof VideoDecoder === 'undefined' || typeof Worker === 'undefined') return;
  var worker;
  try {
    worker = new Worker('net-worker.js', { type: 'module', name: 'bbt-net' });
  } catch (e) {
    return; // player.js tries again, or runs the network on the main thread
  }
  var early = [];
  worker.onmessage = function (e) { early.push(e.data); };
  window.bbtBoot = { worker: worker, early: early };
  var scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  var hello = { type: 'hello', id: 1, token: p.token, role: 'receiver',
                client: { name: 'bbt-player', version: '0.1.0' } };
  if (p.classroomValid) hello.classroom = p.classroom;
  worker.postMessage({
    type: 'start',
    url: scheme + '//' + location.host + '/ws',
    audio: p.audio,
    hello: hello,
    subscribe: follow ? null : { type: 'subscribe', id: 2, session: p.session, layer: p.layer === null ? 'auto' : p.layer,
                                 audio: p.audio, video: p.video, fragments: true, padding: true },
  });
}());

// tests/bench/node-ws-relay/server.js — a plain Node.js `ws` broadcast relay that speaks just
// enough of bbt.v1 (docs/PROTOCOL.md) for `bbt-bench fanout` to drive it: the baseline that
// docs/PERFORMANCE.md compares bbt-relay with. Deliberately what a straightforward Node relay
// is: hello -> welcome, publish -> published (+ tracks to the viewers), subscribe -> tracks,
// and every binary frame from the publisher sent to each viewer whose pinned video track or
// audio it is. No validation beyond JSON.parse, no GOP cache, no per-viewer queue bound, no
// adaptation: ws.send() buffers as much as the socket does not take.
//
//   npm install && node server.js [PORT]        (default 9100, listens on 127.0.0.1)
'use strict';
const http = require('http');
const { WebSocketServer } = require('ws');

const port = Number(process.argv[2] || process.env.PORT || 9100);
const sessions = new Map(); // id -> { publisher, tracks, viewers: Set }

function session(id) {
  let s = sessions.get(id);
  if (!s) {
    s = { publisher: null, tracks: [], viewers: new Set(), audio: new Set(), best: -1 };
    sessions.set(id, s);
  }
  return s;
}

function send(ws, msg) {
  ws.send(JSON.stringify(msg));
}

function tracksMsg(id, s, refId) {
  const m = { type: 'tracks', session: id, state: s.publisher ? 'live' : 'waiting',
              tracks: s.publisher ? s.tracks : [] };
  if (refId !== undefined) m.ref_id = refId;
  return m;
}

function onPublish(ws, m) {
  const s = session(m.session);
  s.publisher = ws;
  s.tracks = m.tracks;
  s.audio = new Set(m.tracks.filter((t) => t.kind === 'audio').map((t) => t.id));
  const video = m.tracks.filter((t) => t.kind === 'video').sort((a, b) => (b.layer || 0) - (a.layer || 0));
  s.best = video.length ? video[0].id : -1;
  ws.bbt.pub = m.session;
  send(ws, { type: 'published', ref_id: m.id, session: m.session, tracks: m.tracks });
  for (const v of s.viewers) send(v, tracksMsg(m.session, s));
}

function onSubscribe(ws, m) {
  const s = session(m.session);
  ws.bbt.sub = m.session;
  ws.bbt.pin = Number.isInteger(m.layer) ? m.layer : -1;
  ws.bbt.audio = m.audio !== false;
  s.viewers.add(ws);
  send(ws, tracksMsg(m.session, s, m.id));
}

function onText(ws, text) {
  let m;
  try {
    m = JSON.parse(text);
  } catch (e) {
    return send(ws, { type: 'error', code: 40, name: 'BBT_EMSG_JSON', message: 'not JSON' });
  }
  switch (m.type) {
    case 'hello':
      ws.bbt.role = m.role;
      return send(ws, { type: 'welcome', ref_id: m.id, server: 'node-ws-relay/0.1.0', version: 1,
                        time_us: Date.now() * 1000, subject: m.classroom || 'anonymous',
                        role: m.role, heartbeat_ms: 10000 });
    case 'publish': return onPublish(ws, m);
    case 'subscribe': return onSubscribe(ws, m);
    case 'ping': return send(ws, { type: 'pong', ref_id: m.id, time_us: m.time_us });
    default: return undefined; // report, keyframe, bye, ...: ignored
  }
}

function onBinary(ws, data) {
  const s = ws.bbt.pub !== undefined ? sessions.get(ws.bbt.pub) : undefined;
  if (!s || s.publisher !== ws || data.length < 16) return;
  const track = data[1];
  const isAudio = s.audio.has(track);
  for (const v of s.viewers) {
    const video = v.bbt.pin >= 0 ? v.bbt.pin : s.best;
    if ((isAudio && v.bbt.audio) || track === video) v.send(data, { binary: true });
  }
}

const server = http.createServer((req, res) => {
  res.writeHead(req.url === '/healthz' ? 200 : 404);
  res.end(req.url === '/healthz' ? 'ok\n' : '');
});
const wss = new WebSocketServer({
  server, path: '/ws', perMessageDeflate: false, maxPayload: 8 * 1024 * 1024 + 16,
  handleProtocols: (protocols) => (protocols.has('bbt.v1') ? 'bbt.v1' : false),
});
wss.on('connection', (ws) => {
  ws.bbt = { role: null, pub: undefined, sub: undefined, pin: -1, audio: true };
  ws.on('message', (data, isBinary) => (isBinary ? onBinary(ws, data) : onText(ws, data.toString())));
  ws.on('close', () => {
    const sub = ws.bbt.sub !== undefined && sessions.get(ws.bbt.sub);
    if (sub) sub.viewers.delete(ws);
    const pub = ws.bbt.pub !== undefined && sessions.get(ws.bbt.pub);
    if (pub && pub.publisher === ws) pub.publisher = null;
  });
  ws.on('error', () => {});
});
server.listen(port, '127.0.0.1', () => console.error(`node-ws-relay listening on 127.0.0.1:${port}`));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));

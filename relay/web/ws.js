// ws.js — one WebSocket to the relay (subprotocol bbt.v1) that reconnects by itself forever.
//
// Back-off: 0.5 s doubling to 15 s, each delay drawn uniformly from [d/2, d] ("equal jitter")
// so a school's classrooms do not all come back in the same millisecond after a relay restart.
// The delay starts again from 0.5 s once a connection has lasted 10 s. A connection that hears
// nothing for 15 s (the player pings every second for the first 10 s after opening, then every
// 5 s) is considered dead and replaced. After a relay's `bye` the next attempt waits at least
// 30 s (docs/PROTOCOL.md §3.11 asks peers not to come straight back); a classroom screen still
// never gives up.

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15000;
const BYE_DELAY_MS = 30000;
const STABLE_MS = 10000;
const PING_MS = 5000;
// Every second at first: the pong tells the player whether TCP retransmits (the audio copy's
// gate), and a lossy link is known a second or so after opening instead of at the next 5 s ping
// (bbt-bench rural's flaky-3g: a first pong without a retransmission left the main connection
// alone for 6.5 s, nine audio gaps).
const EARLY_PING_MS = 1000;
const EARLY_FOR_MS = 10000;
const DEAD_MS = 15000;

export const PROTOCOL = 'bbt.v1';

export function relayUrl(loc = location) {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/ws`;
}

export class RelayConnection {
  // handlers: onOpen(), onText(obj, raw), onBinary(ArrayBuffer), onClose({code, reason, delayMs,
  // attempt}), onWaiting({delayMs, attempt}) — all optional. log(level, ...args).
  constructor(url, handlers = {}, log = () => {}) {
    this.url = url;
    this.h = handlers;
    this.log = log;
    this.ws = null;
    this.attempt = 0;        // consecutive failed or short connections
    this.connects = 0;       // connections opened in total
    this.stopped = false;
    this.openedAt = 0;
    this.lastRx = 0;
    this.byeSeen = false;
    this.timer = null;
    this.pingTimer = null;
    this.nextAttemptAt = 0;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.pingTimer);
    if (this.ws) try { this.ws.close(1000); } catch (_) { /* closing anyway */ }
    this.ws = null;
  }

  get open() {
    return !!this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  send(obj) {
    if (!this.open) return false;
    try {
      this.ws.send(JSON.stringify(obj));
      return true;
    } catch (e) {
      this.log('warn', 'send failed', e && e.message);
      return false;
    }
  }

  sawBye() {
    this.byeSeen = true;
  }

  connect() {
    if (this.stopped) return;
    let ws;
    try {
      ws = new WebSocket(this.url, PROTOCOL);
    } catch (e) {
      this.log('warn', 'cannot open WebSocket', e && e.message);
      this.scheduleReconnect(0, 'constructor');
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.openedAt = performance.now();
      this.lastRx = this.openedAt;
      this.byeSeen = false;
      this.connects++;
      if (ws.protocol !== PROTOCOL) this.log('warn', 'relay chose subprotocol', ws.protocol);
      this.schedulePing(ws);
      if (this.h.onOpen) this.h.onOpen();
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      this.lastRx = performance.now();
      if (typeof ev.data === 'string') {
        let obj;
        try {
          obj = JSON.parse(ev.data);
        } catch (e) {
          this.log('error', 'relay sent text that is not JSON', e.message);
          return;
        }
        if (obj === null || typeof obj !== 'object' || typeof obj.type !== 'string') {
          this.log('error', 'relay sent a message without a type');
          return;
        }
        if (obj.type === 'bye') this.byeSeen = true;
        if (this.h.onText) this.h.onText(obj, ev.data);
      } else if (ev.data instanceof ArrayBuffer) {
        if (this.h.onBinary) this.h.onBinary(ev.data);
      }
    };
    ws.onerror = () => { /* the close event follows and says what happened */ };
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      this.ws = null;
      clearTimeout(this.pingTimer);
      const lasted = this.openedAt ? performance.now() - this.openedAt : 0;
      this.openedAt = 0;
      if (lasted >= STABLE_MS) this.attempt = 0;
      this.scheduleReconnect(ev.code, ev.reason);
    };
  }

  // The next ping on `ws`: every EARLY_PING_MS for EARLY_FOR_MS after opening, then PING_MS.
  schedulePing(ws) {
    clearTimeout(this.pingTimer);
    const early = performance.now() - this.openedAt < EARLY_FOR_MS;
    this.pingTimer = setTimeout(() => {
      if (ws !== this.ws) return;
      this.keepalive();
      if (ws === this.ws) this.schedulePing(ws);
    }, early ? EARLY_PING_MS : PING_MS);
  }

  keepalive() {
    if (!this.open) return;
    const now = performance.now();
    if (now - this.lastRx > DEAD_MS) {
      this.log('warn', `no message from the relay for ${Math.round(now - this.lastRx)} ms: reconnecting`);
      const ws = this.ws;
      this.ws = null;
      clearTimeout(this.pingTimer);
      try { ws.close(4008, 'timeout'); } catch (_) { /* gone anyway */ }
      this.scheduleReconnect(4008, 'timeout');
      return;
    }
    this.send({ type: 'ping', time_us: Math.round((performance.timeOrigin + now) * 1000) });
  }

  scheduleReconnect(code, reason) {
    if (this.stopped) return;
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(this.attempt, 10));
    let delay = ceiling / 2 + Math.random() * (ceiling / 2);
    if (this.byeSeen) delay = Math.max(delay, BYE_DELAY_MS);
    this.attempt++;
    this.nextAttemptAt = performance.now() + delay;
    this.log('info', `connection closed (code ${code}${reason ? ', ' + reason : ''}); ` +
      `reconnecting in ${Math.round(delay)} ms (attempt ${this.attempt})`);
    if (this.h.onClose) this.h.onClose({ code, reason, delayMs: delay, attempt: this.attempt });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }
}

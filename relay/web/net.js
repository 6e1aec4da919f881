// net.js — the page's side of the network worker (net-worker.js): starts it, relays control
// messages both ways, and hands each video/courseware frame to the player. Where module workers
// are unavailable the same core runs on the main thread (sound is then more exposed to jank).

import { NetCore } from './net-core.js';

export class NetClient {
  // handlers: onOpen(), onText(msg), onFrame(frame), onClose(info), onStats(stats); log(level, ...)
  constructor(url, handlers, log) {
    this.url = url;
    this.h = handlers;
    this.log = log;
    this.open = false;
    this.attempt = 0;
    this.connects = 0;
    this.worker = null;
    this.core = null;
    this.inWorker = false;
  }

  // boot.js may have started the worker already (then its early messages are replayed);
  // otherwise start it here with the same start message.
  start(startMsg) {
    const onmsg = (m) => this.onMessage(m);
    const boot = window.bbtBoot;
    if (boot && boot.worker) {
      this.worker = boot.worker;
      this.worker.onmessage = (e) => onmsg(e.data);
      this.worker.onerror = (e) => this.log('error', 'network worker failed', e.message || '');
      this.inWorker = true;
      window.bbtBoot = null;
      // Frames that came before this page was ready waited for it, not behind it.
      const adopted = performance.timeOrigin + performance.now();
      boot.early.splice(0).forEach((m) => {
        if (m.type === 'frame') m.postedMs = Math.max(m.postedMs, adopted);
        onmsg(m);
      });
      return;
    }
    try {
      this.worker = new Worker(new URL('net-worker.js', import.meta.url), { type: 'module', name: 'bbt-net' });
      this.worker.onmessage = (e) => onmsg(e.data);
      this.worker.onerror = (e) => this.log('error', 'network worker failed', e.message || '');
      this.inWorker = true;
    } catch (e) {
      this.log('warn', 'no module worker: networking on the main thread', e && e.message);
      this.core = new NetCore((m) => onmsg(m));
    }
    this.post(startMsg);
  }

  post(msg, transfer) {
    if (this.worker) this.worker.postMessage(msg, transfer || []);
    else this.core.handle(msg);
  }

  send(msg) {
    if (!this.open) return false;
    this.post({ type: 'send', msg });
    return true;
  }

  setPcmPort(port) {
    this.post({ type: 'pcm-port', port }, [port]);
  }

  setAudioRunning(on) {
    this.post({ type: 'audio-running', on });
  }

  onMessage(m) {
    switch (m.type) {
      case 'open':
        this.open = true;
        if (this.h.onOpen) this.h.onOpen();
        break;
      case 'close':
        this.open = false;
        this.attempt = m.info.attempt;
        this.connects = m.info.connects;
        if (this.h.onClose) this.h.onClose(m.info);
        break;
      case 'text':
        if (this.h.onText) this.h.onText(m.msg, m);
        break;
      case 'frame':
        m.payload = new Uint8Array(m.buf, m.offset);
        if (this.h.onFrame) this.h.onFrame(m);
        break;
      case 'stats':
        this.attempt = m.attempt;
        this.connects = m.connects;
        if (this.h.onStats) this.h.onStats(m);
        break;
      case 'log':
        this.log(m.level, ...m.args);
        break;
      default:
        break;
    }
  }
}

// net-worker.js — the dedicated (module) worker that runs net-core.js: the relay connection and
// the audio decoding live here, away from the page's main thread.

import { NetCore } from './net-core.js';

const core = new NetCore((msg, transfer) => self.postMessage(msg, transfer || []));
self.onmessage = (e) => core.handle(e.data);

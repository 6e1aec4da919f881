// tests/e2e/harness.mjs — processes and browser for the player tests: a real bbt-relay on a free
// loopback port serving relay/web, a real bbt-node publishing its test sources, and headless
// Chromium driven by playwright-core (no browser download: /usr/bin/chromium).
//
// Environment (CTest sets the first two; see tests/CMakeLists.txt):
//   BBT_RELAY_BIN   bbt-relay binary (required)
//   BBT_NODE_BIN    bbt-node binary (required: the publisher)
//   BBT_CHROMIUM    browser binary (default /usr/bin/chromium)
//   BBT_WEB_ROOT    pages to serve (default relay/web of this checkout)
//   BBT_E2E_ARTIFACTS  directory for logs and screenshots (default a new /tmp/bbt-e2e-XXXXXX)

import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '..', '..');

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The checks of one test program: check(name, ok, detail) prints "ok"/"FAIL" with the detail
// and counts; the program ends by printing results and exiting 1 when any failed.
export function checks() {
  const results = { passed: 0, failed: 0 };
  const check = (name, ok, detail = '') => {
    if (ok) results.passed++;
    else results.failed++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? '  (' + detail + ')' : ''}`);
    return ok;
  };
  return { results, check };
}

export function config() {
  const env = process.env;
  const c = {
    relayBin: env.BBT_RELAY_BIN,
    nodeBin: env.BBT_NODE_BIN,
    chromium: env.BBT_CHROMIUM || '/usr/bin/chromium',
    webRoot: env.BBT_WEB_ROOT || join(root, 'relay', 'web'),
    artifacts: env.BBT_E2E_ARTIFACTS || mkdtempSync(join(tmpdir(), 'bbt-e2e-')),
  };
  const missing = [];
  if (!c.relayBin || !existsSync(c.relayBin)) missing.push(`BBT_RELAY_BIN (bbt-relay) = ${c.relayBin}`);
  if (!c.nodeBin || !existsSync(c.nodeBin)) missing.push(`BBT_NODE_BIN (bbt-node) = ${c.nodeBin}`);
  if (!existsSync(c.chromium)) missing.push(`BBT_CHROMIUM = ${c.chromium} (apt-get install chromium, or bash deploy/setup.sh)`);
  if (!existsSync(join(here, 'node_modules', 'playwright-core'))) {
    missing.push('tests/e2e/node_modules/playwright-core (run: bash deploy/setup.sh, or cd tests/e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci)');
  }
  if (missing.length) {
    console.error(`e2e: cannot run, missing:\n  ${missing.join('\n  ')}`);
    process.exit(2);
  }
  mkdirSync(c.artifacts, { recursive: true });
  return c;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const children = new Set();

function killAll() {
  for (const p of children) {
    try { p.kill('SIGKILL'); } catch (_) { /* gone */ }
  }
  children.clear();
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

// A child process with its output appended to a log file; resolves `exited` when it ends.
export function run(bin, args, logPath) {
  const log = createWriteStream(logPath, { flags: 'a' });
  const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  p.stdout.pipe(log, { end: false });
  p.stderr.pipe(log, { end: false });
  children.add(p);
  p.exited = new Promise((resolve) => p.on('exit', (code, signal) => {
    children.delete(p);
    resolve({ code, signal });
  }));
  return p;
}

export async function stop(p, signal = 'SIGTERM', waitMs = 5000) {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  p.kill(signal);
  const t = sleep(waitMs).then(() => 'timeout');
  if ((await Promise.race([p.exited, t])) === 'timeout') {
    p.kill('SIGKILL');
    await p.exited;
  }
}

export async function waitHttp(url, ms = 5000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      const r = await fetch(url);
      if (r.ok) return true;
    } catch (_) { /* not yet */ }
    await sleep(50);
  }
  return false;
}

// Minimal configuration files (everything else at its default), so the test depends on the
// binaries and not on the example files of the working tree.
function configFile(c, name, text) {
  const path = join(c.artifacts, name);
  writeFileSync(path, `# written by tests/e2e for one run\n${text}`);
  return path;
}

// extraIni: more sections appended to the relay's configuration (e.g. "[schedule]\ntest_clock = true\n").
export async function startRelay(c, port, extraIni = '') {
  const ini = configFile(c, 'relay.ini', `[relay]\nlisten = 127.0.0.1\nport = ${port}\nallow_insecure = true\n` +
    `web_root = ${c.webRoot}\nstate_dir = ${c.artifacts}\n[auth]\nrequired = false\n${extraIni}`);
  const p = run(c.relayBin, ['--config', ini], join(c.artifacts, 'relay.log'));
  if (!(await waitHttp(`http://127.0.0.1:${port}/healthz`, 8000))) {
    await stop(p, 'SIGKILL');
    throw new Error(`bbt-relay did not come up on port ${port} (log: ${c.artifacts}/relay.log)`);
  }
  return p;
}

export function startNode(c, port, session, extra = []) {
  const ini = configFile(c, 'node.ini', '[node]\n');
  return run(c.nodeBin, [
    '--config', ini,
    '--set', `node.relay=ws://127.0.0.1:${port}/ws`, '--set', `node.session=${session}`,
    '--set', 'node.classroom=e2e-source', '--set', `node.state_dir=${c.artifacts}`,
    '--set', 'capture.video=test', '--set', 'capture.audio=test', ...extra,
  ], join(c.artifacts, `node-${session}.log`));
}

// autoplay false: without --autoplay-policy=no-user-gesture-required (sound needs a click).
export async function launchBrowser(c, { autoplay = true } = {}) {
  const { chromium } = await import(join(here, 'node_modules', 'playwright-core', 'index.mjs'));
  const args = autoplay ? CHROMIUM_ARGS : CHROMIUM_ARGS.filter((a) => !a.startsWith('--autoplay-policy'));
  return chromium.launch({ executablePath: c.chromium, headless: true, args });
}

// Console errors and page errors of every page, with a switch for the moments the test itself
// breaks the network (the browser then logs failed WebSocket connections).
export class ConsoleWatch {
  constructor() {
    this.errors = [];
    this.allowNet = false;
    this.tolerated = 0;
  }

  attach(page, name) {
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      const text = m.text();
      if (this.allowNet && /WebSocket connection to .* failed|ERR_CONNECTION_REFUSED/.test(text)) {
        this.tolerated++;
        return;
      }
      this.errors.push(`${name}: console.error: ${text}`);
    });
    page.on('pageerror', (e) => this.errors.push(`${name}: uncaught: ${e.message}`));
  }
}

// Luma mean and variance of the canvas, sampled on a 4-pixel grid, in the page.
export function canvasVariance(page, id) {
  return page.evaluate((cid) => {
    const c = document.getElementById(cid);
    if (!c || !c.width || !c.height) return { w: 0, h: 0, mean: 0, variance: 0 };
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    let s = 0;
    let s2 = 0;
    for (let y = 0; y < c.height; y += 4) {
      for (let x = 0; x < c.width; x += 4) {
        const i = (y * c.width + x) * 4;
        const l = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
        n++;
        s += l;
        s2 += l * l;
      }
    }
    const mean = s / n;
    return { w: c.width, h: c.height, mean, variance: s2 / n - mean * mean };
  }, id);
}

export const stats = (page) => page.evaluate(() => window.bbtStats);

// Wait until window.bbtStats satisfies `want` — {above: {field: n}} (field > n), {equal:
// {field: v}}, {set: [field]} (not null) — then return the stats. Data, not a function source:
// the relay's CSP forbids eval, which a string predicate would need.
export async function waitStats(page, want, ms) {
  await page.waitForFunction(({ above = {}, equal = {}, set = [] }) => {
    const s = window.bbtStats;
    if (!s) return false;
    for (const [k, v] of Object.entries(above)) if (!(s[k] > v)) return false;
    for (const [k, v] of Object.entries(equal)) if (s[k] !== v) return false;
    for (const k of set) if (s[k] === null || s[k] === undefined) return false;
    return true;
  }, want, { timeout: ms, polling: 100 });
  return stats(page);
}

export const statusText = (page) => page.evaluate(() => {
  const st = document.getElementById('status');
  return st.classList.contains('clear') ? '' : document.getElementById('status-text').textContent;
});

export async function waitStatus(page, text, ms) {
  await page.waitForFunction((want) => {
    const st = document.getElementById('status');
    const t = st.classList.contains('clear') ? '' : document.getElementById('status-text').textContent;
    return t === want;
  }, text, { timeout: ms, polling: 100 });
}

// A courseware lesson without a screen to capture: a page (the relay's /healthz: same origin, so
// loopback WebSockets are allowed) that subscribes
// to session `from` twice — pinned to track 0 (720p) with audio, and to track 2 (180p) — and
// publishes session `to` with the 180p picture as the camera (id 0), the 720p picture as the
// courseware track (id 1) and the audio, forwarding the frames with their track byte rewritten.
// Returns the page; closing it ends the lesson.
export async function startRepublisher(browser, base, from, to) {
  const page = await browser.newPage();
  await page.goto(`${base}/healthz`);
  const wsUrl = `${base.replace(/^http/, 'ws')}/ws`;
  await page.evaluate(async ({ url, src, dst }) => {
    const open = () => new Promise((resolve, reject) => {
      const w = new WebSocket(url, 'bbt.v1');
      w.binaryType = 'arraybuffer';
      w.onopen = () => resolve(w);
      w.onerror = () => reject(new Error('republisher: cannot connect'));
    });
    const next = (w, type) => new Promise((resolve) => {
      const h = (e) => {
        if (typeof e.data !== 'string') return;
        const m = JSON.parse(e.data);
        if (m.type === type) {
          w.removeEventListener('message', h);
          resolve(m);
        }
      };
      w.addEventListener('message', h);
    });
    const hello = async (role) => {
      const w = await open();
      w.send(JSON.stringify({ type: 'hello', id: 1, token: '', role, classroom: 'e2e-republisher' }));
      await next(w, 'welcome');
      return w;
    };
    const watch = async (layer, audio) => {
      const w = await hello('receiver');
      w.send(JSON.stringify({ type: 'subscribe', id: 2, session: src, layer, audio, video: true }));
      return { w, tracks: (await next(w, 'tracks')).tracks };
    };
    const pub = await hello('source');
    const big = await watch(0, true);
    const small = await watch(2, false);
    const t0 = big.tracks.find((t) => t.id === 0);
    const t2 = big.tracks.find((t) => t.id === 2);
    const ta = big.tracks.find((t) => t.kind === 'audio');
    const tracks = [{ ...t2, id: 0, kind: 'video', layer: 0 }, { ...t0, id: 1, kind: 'courseware', layer: 0 }, ta];
    pub.send(JSON.stringify({ type: 'publish', id: 2, session: dst, title: 'e2e courseware', tracks }));
    await next(pub, 'published');
    const forward = (w, map) => w.addEventListener('message', (e) => {
      if (typeof e.data === 'string') return;
      const u8 = new Uint8Array(e.data);
      if (!(u8[1] in map)) return;
      u8[1] = map[u8[1]];
      pub.send(u8);
    });
    forward(big.w, { 0: 1, [ta.id]: ta.id });
    forward(small.w, { 2: 0 });
  }, { url: wsUrl, src: from, dst: to });
  return page;
}

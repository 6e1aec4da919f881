// tests/e2e/operator.mjs — an operator connection for the browser tests: a page on the relay's
// /healthz (same origin, so the loopback WebSocket is allowed; Node 20 has no WebSocket) that
// says hello as `operator` (lab mode: the relay trusts the stated role) and sends the
// timetable messages of docs/PROTOCOL.md §3.18, one request at a time, each answered by its
// reply (matched by ref_id). Also reads the relay's /metrics.

export async function openOperator(browser, base) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${base}/healthz`);
  await page.evaluate(async (url) => {
    const ws = new WebSocket(url, 'bbt.v1');
    const waiting = new Map();
    let nextId = 1;
    ws.onmessage = (e) => {
      if (typeof e.data !== 'string') return;
      const m = JSON.parse(e.data);
      const w = waiting.get(m.ref_id);
      if (w) {
        waiting.delete(m.ref_id);
        w(m);
      }
    };
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error('operator: cannot connect'));
    });
    window.bbtOp = (msg) => new Promise((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ ...msg, id }));
    });
    const w = await window.bbtOp({ type: 'hello', token: '', role: 'operator', client: { name: 'e2e-operator' } });
    if (w.type !== 'welcome') throw new Error(`operator: hello refused: ${JSON.stringify(w)}`);
  }, `${base.replace(/^http/, 'ws')}/ws`);
  return {
    // One request; the reply (or the relay's `error`).
    request: (msg) => page.evaluate((m) => window.bbtOp(m), msg),
    // The same, throwing when the relay answers `error`.
    async must(msg) {
      const r = await page.evaluate((m) => window.bbtOp(m), msg);
      if (r.type === 'error') throw new Error(`${msg.type} refused: ${r.message}`);
      return r;
    },
    close: () => ctx.close(),
  };
}

// µs since 1970 of a local time in Asia/Shanghai (+08:00), e.g. at('2025-03-03', '09:55').
export function shanghaiUs(date, hhmm) {
  return Date.parse(`${date}T${hhmm}:00+08:00`) * 1000;
}

// One sample of the relay's Prometheus text: {name{labels}: value}.
export async function metrics(base) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const out = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return out;
}

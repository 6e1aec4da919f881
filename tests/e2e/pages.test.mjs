#!/usr/bin/env node
// tests/e2e/pages.test.mjs — static checks of the player page (relay/web/) in plain node:
//   - the relay's CSP (script-src 'self', style-src 'self') holds: no inline <script>, no
//     inline style or event-handler attributes, no eval-like calls in the scripts;
//   - every file the pages reference exists, and only extensions the relay serves are used;
//   - every user-facing string exists in Simplified Chinese and English, with the same
//     placeholders; the status texts named in docs/PLAYER.md are the ones the page shows;
//   - the `report` the player sends holds docs/PROTOCOL.md §3.8's field names and ranges.
// Prints "N passed, N failed".

import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const web = join(root, 'relay', 'web');

let passed = 0;
let failed = 0;
async function test(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}\n     ${e && e.message ? e.message.split('\n').slice(0, 4).join('\n     ') : e}`);
  }
}

const files = readdirSync(web);
const read = (f) => readFileSync(join(web, f), 'utf8');
const html = files.filter((f) => f.endsWith('.html'));
const scripts = files.filter((f) => f.endsWith('.js'));

await test('only file types the relay serves with a proper MIME type', () => {
  const ok = /\.(html|js|css|svg|png|json|ico|woff2?)$/;
  const bad = files.filter((f) => !ok.test(f));
  assert.deepEqual(bad, [], `unexpected files: ${bad.join(', ')} (.mjs is refused by the relay)`);
});

await test('HTML: no inline script, style, or event handler (the CSP would block them)', () => {
  for (const f of html) {
    const s = read(f);
    assert.ok(/<meta charset="utf-8">/i.test(s), `${f}: <meta charset="utf-8"> (the relay sends no charset)`);
    for (const m of s.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
      assert.ok(/\bsrc=/.test(m[1]) && m[2].trim() === '', `${f}: inline <script>`);
    }
    assert.ok(!/<style\b/i.test(s), `${f}: <style> element`);
    assert.ok(!/\sstyle\s*=/i.test(s), `${f}: style= attribute`);
    assert.ok(!/\son[a-z]+\s*=/i.test(s), `${f}: on…= handler attribute`);
    assert.ok(!/javascript:/i.test(s), `${f}: javascript: URL`);
  }
});

await test('scripts: no eval, new Function, or string timers', () => {
  for (const f of scripts) {
    const s = read(f);
    assert.ok(!/\beval\s*\(/.test(s), `${f}: eval(`);
    assert.ok(!/new\s+Function\s*\(/.test(s), `${f}: new Function(`);
    assert.ok(!/set(Timeout|Interval)\s*\(\s*['"`]/.test(s), `${f}: string timer`);
    assert.ok(!/\.innerHTML\s*=/.test(s), `${f}: innerHTML (text only, never markup)`);
  }
});

await test('every referenced file exists', () => {
  const refs = new Set();
  for (const f of html) for (const m of read(f).matchAll(/(?:src|href)="([^"#?:]+)"/g)) refs.add(m[1]);
  for (const f of scripts) {
    for (const m of read(f).matchAll(/(?:from|import)\s*\(?\s*'(\.\/[^']+)'/g)) refs.add(m[1].slice(2));
    for (const m of read(f).matchAll(/new URL\('([^']+)'/g)) refs.add(m[1]);
    for (const m of read(f).matchAll(/new Worker\('([^']+)'/g)) refs.add(m[1]);
  }
  const missing = [...refs].filter((r) => !existsSync(join(web, r)));
  assert.deepEqual(missing, []);
  assert.ok(refs.has('player.js') && refs.has('audio-worklet.js') && refs.has('net-worker.js'));
});

await test('no script logs the token or the page URL', () => {
  for (const f of scripts) {
    const s = read(f);
    for (const m of s.matchAll(/(?:log|console\.\w+)\(([^;]*)\)/g)) {
      assert.ok(!/token|location\.href|location\.search/.test(m[1]), `${f}: ${m[0].slice(0, 80)}`);
    }
  }
});

await test('i18n: every string in zh and en, with the same placeholders', async () => {
  const { ALL, t } = await import(join(web, 'i18n.js'));
  const ph = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(',');
  for (const [k, v] of Object.entries(ALL)) {
    assert.ok(v.zh && v.en, `${k}: both languages`);
    assert.ok(/[\u4e00-\u9fff]/.test(v.zh) || k === 'lang_toggle', `${k}: zh is Chinese`);
    assert.equal(ph(v.zh), ph(v.en), `${k}: placeholders`);
  }
  assert.equal(t('reconnecting_sub', { s: 3, n: 2 }, 'zh'), '网络连接中断，3 秒后自动重试（第 2 次）');
});

await test('admin-i18n: every dashboard string in zh and en, with the same placeholders', async () => {
  const { ALL, t } = await import(join(web, 'admin-i18n.js'));
  const ph = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(',');
  for (const [k, v] of Object.entries(ALL)) {
    assert.ok(v.zh && v.en, `${k}: both languages`);
    assert.equal(ph(v.zh), ph(v.en), `${k}: placeholders`);
  }
  // every reason and light relay/dash.c names has its text
  const dash = readFileSync(join(root, 'relay', 'dash.c'), 'utf8');
  const names = dash.slice(dash.indexOf('bbt_dash_reason_name'));
  for (const m of names.slice(0, names.indexOf('};')).matchAll(/"(\w+)"/g)) assert.ok(`r_${m[1]}` in ALL, `reason ${m[1]}`);
  for (const l of ['green', 'amber', 'red', 'idle']) assert.ok(`light_${l}` in ALL, `light ${l}`);
  assert.equal(t('s_live', {}, 'zh'), '直播中');
});

await test('i18n: the status texts of the issue and docs/PLAYER.md', async () => {
  const { t } = await import(join(web, 'i18n.js'));
  const want = { waiting: '等待上课', connecting: '正在连接', reconnecting: '正在重新连接',
                 poor_network: '网络较差，仅显示课件/声音', ended: '课程已结束', audio_only: '仅声音',
                 tap_for_sound: '点击开始播放声音' };
  for (const [k, zh] of Object.entries(want)) assert.equal(t(k, {}, 'zh'), zh);
  assert.equal(t('tap_for_sound', {}, 'en'), 'Click to start sound');
  const doc = readFileSync(join(root, 'docs', 'PLAYER.md'), 'utf8');
  for (const zh of Object.values(want)) assert.ok(doc.includes(zh), `docs/PLAYER.md mentions ${zh}`);
});

await test('report: field names and ranges of PROTOCOL.md §3.8 (and proto/control_tables.c)', async () => {
  const { Stats } = await import(join(web, 'stats.js'));
  const s = new Stats();
  s.c.bytes = 123456.7;
  s.c.frames_decoded = 25;
  s.c.frames_dropped = -3; // never negative on the wire
  for (const v of [10, 20.5, 300]) s.latency(v);
  s.roll();
  const m = s.report('2025-03-03.music.p3', { buffer_ms: 1e9, layer: -1, audio_ok: 1, audio_underruns: 2 });
  const tables = readFileSync(join(root, 'proto', 'control_tables.c'), 'utf8');
  const block = tables.slice(tables.indexOf('static const bbt_param report[]'));
  const names = [...block.slice(0, block.indexOf('P_END')).matchAll(/P_\w+\("(\w+)"/g)].map((x) => x[1]);
  for (const k of Object.keys(m)) if (k !== 'type') assert.ok(names.includes(k), `unknown report field ${k}`);
  assert.equal(m.type, 'report');
  assert.equal(m.bytes, 123457);
  assert.equal(m.frames_dropped, 0);
  assert.equal(m.buffer_ms, 600000);
  assert.equal(m.layer, -1);
  assert.equal(m.audio_ok, true);
  assert.deepEqual(m.latency_ms, { p50: 20.5, p95: 300, max: 300 });
  for (const k of ['bytes', 'frames_decoded', 'frames_dropped', 'buffer_ms', 'stalls', 'stall_ms', 'audio_underruns']) {
    assert.ok(Number.isInteger(m[k]) && m[k] >= 0, k);
  }
  s.roll();
  assert.ok(!('latency_ms' in s.report('x', { buffer_ms: 0 })), 'no latency_ms without samples (all three are required)');
});

await test('boot.js: ?token= is kept in localStorage and removed from the address bar', async () => {
  const vm = await import('node:vm');
  const store = new Map();
  let replaced = null;
  const at = (search) => ({ search, href: `http://relay.example${search ? '/' + search : '/'}`,
                            protocol: 'http:', host: 'relay.example' });
  const ctx = {
    location: at('?classroom=ls-1&token=aaa.bbb.ccc'),
    localStorage: { getItem: (k) => (store.has(k) ? store.get(k) : null),
                    setItem: (k, v) => store.set(k, String(v)) },
    history: { state: null, replaceState: (s, t, u) => { replaced = u; } },
    URLSearchParams, URL,
  };
  ctx.window = ctx;
  vm.runInNewContext(read('boot.js'), ctx);
  assert.equal(ctx.bbtParams.token, 'aaa.bbb.ccc');
  assert.equal(store.get('bbt.player.token'), 'aaa.bbb.ccc');
  assert.equal(replaced, '/?classroom=ls-1', 'the token leaves the address bar');
  replaced = null; // a later visit without it: the stored token, the address untouched
  ctx.location = at('?classroom=ls-1');
  vm.runInNewContext(read('boot.js'), ctx);
  assert.equal(ctx.bbtParams.token, 'aaa.bbb.ccc');
  assert.equal(replaced, null);
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

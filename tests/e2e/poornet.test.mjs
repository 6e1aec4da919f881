#!/usr/bin/env node
// tests/e2e/poornet.test.mjs — the player on a poor link (issue 5 item 2, issue 6 item 4): the
// relay's own adaptation moves this viewer down, and the page shows it. A real bbt-relay and a
// real bbt-node on the host; headless Chromium inside a network namespace created for the run,
// reaching the relay through a veth pair whose host end is shaped with `tc … tbf` (the
// bottleneck of a rural link, with its small queue). The relay then really measures a slow
// viewer (bytes drained, queue delay) and switches it — nothing in the page or the relay is
// told what to do.
//
// (Chromium's own throttling — CDP Network.emulateNetworkConditions — was measured first: it
// does slow the WebSocket, but it throttles above the socket, so the kernel's receive buffer of
// several MB fills before the throttle and the relay's `state` message waits behind it for
// minutes: the page never learns of the switch in time. A real bottleneck does not do that.)
//
// Checks (bbtStats.layer against bbt_viewer_layer{classroom="e2e-poor"} in /metrics):
//   4 Mbit/s    plays on a camera layer, no poor-network banner, page layer = relay layer
//   48 kbit/s   the relay switches to audio only (-1): the banner "网络较差，仅显示课件/声音",
//               the "仅声音" badge, sound still decoded; page layer = relay layer = -1
//   150 kbit/s  up from audio only to a lower camera layer (360p or 180p): page layer = relay
//               layer, and the page decodes that track
//   4 Mbit/s    back up to 720p by itself (the relay's probes), banner gone
//   audio copy  not left subscribed at 48 kbit/s (no room for the audio twice); never a
//               malformed frame, every audio frame taken decoded once (duplicates never)
//   console     no errors
// Needs root (namespaces, tc): without it, exit 77 (CTest: skipped) with the reason.

import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checks, CHROMIUM_ARGS, ConsoleWatch, config, freePort, here, run, sleep, startNode, stats, stop, waitHttp, waitStats,
} from './harness.mjs';
import { metrics } from './operator.mjs';

const SESSION = 'e2e-poor-link';
const CLASSROOM = 'e2e-poor';
const { results, check } = checks();

function sh(args, { quiet = false } = {}) {
  const r = spawnSync(args[0], args.slice(1), { encoding: 'utf8' });
  if (r.status !== 0 && !quiet) throw new Error(`${args.join(' ')}: ${(r.stderr || r.error || '').toString().trim()}`);
  return r.status === 0;
}

function skip(why) {
  console.log(`SKIP poornet: ${why}`);
  process.exit(77);
}

// ---- the link: a namespace for the browser, a veth pair, tbf on the host end --------------------

const id = process.pid % 100000;
const NS = `bbt-pn-${process.pid}`;
const HOST = `bbtp${id}h`;
const PEER = `bbtp${id}n`;
const NET = `10.216.${id % 250}`;
const HOST_IP = `${NET}.1`;

// Namespaces (and their veth pairs) left by an earlier run that was killed with SIGKILL.
function removeStale() {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  for (const m of (r.stdout || '').matchAll(/^bbt-pn-(\d+)/gm)) {
    const pid = Number(m[1]);
    let alive = true;
    try { process.kill(pid, 0); } catch (_) { alive = false; }
    if (alive) continue;
    sh(['ip', 'link', 'del', `bbtp${pid % 100000}h`], { quiet: true });
    sh(['ip', 'netns', 'del', m[0]], { quiet: true });
  }
}

function linkUp() {
  removeStale();
  sh(['ip', 'netns', 'add', NS]);
  sh(['ip', 'link', 'add', HOST, 'type', 'veth', 'peer', 'name', PEER]);
  sh(['ip', 'link', 'set', PEER, 'netns', NS]);
  // IPv4 only in the namespace: an IPv6 link-local address that finishes its duplicate
  // detection a second after the link comes up is a "network change" to Chromium, which then
  // fails the page's loads under way (net::ERR_NETWORK_CHANGED, seen in 2 of ~12 runs)
  sh(['ip', 'netns', 'exec', NS, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
  sh(['ip', 'netns', 'exec', NS, 'sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1']);
  sh(['ip', 'addr', 'add', `${HOST_IP}/30`, 'dev', HOST]);
  sh(['ip', 'link', 'set', HOST, 'up']);
  sh(['ip', 'netns', 'exec', NS, 'ip', 'addr', 'add', `${NET}.2/30`, 'dev', PEER]);
  sh(['ip', 'netns', 'exec', NS, 'ip', 'link', 'set', PEER, 'up']);
  sh(['ip', 'netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up']);
  rate('add', 4000);
}

// Towards the viewer: `kbit` kbit/s, a bucket of 1.5 KB per 100 kbit/s (≥ 3 KB) and a queue of
// at most 100 ms at that rate — a rural link's bottleneck, not a browser's buffer.
function rate(verb, kbit) {
  const burst = Math.max(3000, Math.round(kbit * 15));
  sh(['tc', 'qdisc', verb, 'dev', HOST, 'root', 'tbf', 'rate', `${kbit}kbit`, 'burst', String(burst), 'latency', '100ms']);
}

function linkDown() {
  sh(['ip', 'link', 'del', HOST], { quiet: true });
  sh(['ip', 'netns', 'del', NS], { quiet: true });
}

// ---- processes ---------------------------------------------------------------------------------

async function startRelayOn(c, port) {
  const ini = join(c.artifacts, 'relay-poornet.ini');
  writeFileSync(ini, `# written by tests/e2e/poornet.test.mjs\n[relay]\nlisten = ${HOST_IP}\nport = ${port}\n` +
    `allow_insecure = true\nweb_root = ${c.webRoot}\nstate_dir = ${c.artifacts}\n[auth]\nrequired = false\n` +
    '[schedule]\nenabled = false\n');
  const p = run(c.relayBin, ['--config', ini], join(c.artifacts, 'relay-poornet.log'));
  if (!(await waitHttp(`http://${HOST_IP}:${port}/healthz`, 8000))) {
    await stop(p, 'SIGKILL');
    throw new Error(`bbt-relay did not come up on ${HOST_IP}:${port}`);
  }
  return p;
}

// Chromium in the namespace (a wrapper the driver starts: the DevTools pipe crosses namespaces).
async function launchInNamespace(c, base) {
  const wrapper = join(c.artifacts, 'chromium-in-netns.sh');
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${NS} ${c.chromium} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const { chromium } = await import(join(here, 'node_modules', 'playwright-core', 'index.mjs'));
  // WebCodecs and AudioWorklet need a secure context: this origin is one, for this run only.
  return chromium.launch({ executablePath: wrapper, headless: true,
    args: [...CHROMIUM_ARGS, `--unsafely-treat-insecure-origin-as-secure=${base}`] });
}

// The relay's layer for this classroom's viewer (bbt_viewer_layer), or null.
async function relayLayer(base) {
  const m = await metrics(base);
  const k = Object.keys(m).find((x) => x.startsWith('bbt_viewer_layer{') && x.includes(`classroom="${CLASSROOM}"`));
  return k === undefined ? null : m[k];
}

// Wait until the page and the relay agree on a layer satisfying want(layer); both values.
async function agree(page, base, want, ms) {
  const until = Date.now() + ms;
  let s = null;
  let r = null;
  while (Date.now() < until) {
    s = await stats(page);
    r = await relayLayer(base);
    if (r !== null && s.layer === r && want(r)) break;
    await sleep(250);
  }
  return { s, relay: r };
}

const bannerText = (page) => page.evaluate(() => {
  const b = document.getElementById('banner');
  return b.hidden ? '' : b.textContent;
});
const badgeText = (page) => page.evaluate(() => {
  const b = document.getElementById('badge');
  return b.hidden ? '' : b.textContent;
});

// After a failure: what the page, the relay and the node saw, so a CI log alone tells why (the
// page's counters, every adaptation decision the relay logged, the ends of both logs).
async function diagnose(c, page) {
  if (page) {
    const s = await stats(page).catch((e) => `unavailable: ${e.message.split('\n')[0]}`);
    console.log(`page bbtStats: ${JSON.stringify(s)}`);
  }
  for (const name of ['relay-poornet.log', `node-${SESSION}.log`]) {
    const f = join(c.artifacts, name);
    if (!existsSync(f)) continue;
    const lines = readFileSync(f, 'utf8').split('\n').filter((l) => l);
    const adapt = name.startsWith('relay') ? lines.filter((l) => l.includes(' adapt ')).slice(0, 30) : [];
    console.log(`--- ${name}: ${lines.length} lines; adapt decisions:\n${adapt.join('\n')}\n--- last lines:`);
    console.log(lines.slice(-15).join('\n'));
  }
}

async function main() {
  if (process.getuid && process.getuid() !== 0) skip('needs root (network namespace, tc)');
  if (!sh(['ip', 'netns', 'list'], { quiet: true })) skip('no `ip netns` here');
  const c = config();
  c.artifacts = join(c.artifacts, `poornet-${process.pid}`);
  mkdirSync(c.artifacts, { recursive: true });
  const watch = new ConsoleWatch();
  try {
    linkUp();
  } catch (e) {
    linkDown();
    skip(`cannot build the emulated link: ${e.message}`);
  }
  let relay = null;
  let node = null;
  let browser = null;
  let page = null;
  try {
    const port = await freePort();
    const base = `http://${HOST_IP}:${port}`;
    relay = await startRelayOn(c, port);
    node = startNode(c, port, SESSION, ['--set', `node.relay=ws://${HOST_IP}:${port}/ws`]);
    browser = await launchInNamespace(c, base);
    page = await (await browser.newContext({ viewport: { width: 1280, height: 720 } })).newPage();
    watch.attach(page, 'poornet');
    await page.goto(`${base}/?session=${SESSION}&classroom=${CLASSROOM}`);

    // a good link: a camera layer, no banner (60 s: a loaded CI machine starts slowly)
    await waitStats(page, { above: { frames_decoded: 20, audio_frames_decoded: 20 } }, 60000);
    let a = await agree(page, base, (l) => l >= 0, 30000);
    let banner = await bannerText(page);
    let dec = a.s;
    check('4 Mbit/s: a camera layer, the page\'s layer is the relay\'s, no poor-network banner',
      a.relay !== null && a.relay >= 0 && a.s.layer === a.relay && banner === '',
      `page ${a.s.layer}, relay ${a.relay}, banner "${banner}"`);

    // a poor link: audio only
    rate('change', 48);
    // Up to 90 s: the relay decides within seconds, but its `state` reaches the page only after
    // what was already handed to the socket (a 720p keyframe is 10 s of this link; a loaded CI
    // machine has taken over 45 s) — a known limit of issue 6, not of the page.
    a = await agree(page, base, (l) => l === -1, 90000);
    await sleep(500);
    banner = await bannerText(page);
    const badge = await badgeText(page);
    // Sound goes on: a second of it (50 packets) within 6 s. 48 kbit/s is below the audio's own
    // wire rate (~55 kbit/s with headers): the relay drops what waits over its queue's bound,
    // about 41 packets a second come, in bursts (TCP stalls on the full link last up to ~1 s).
    const s1 = await stats(page);
    let s2 = s1;
    const t1 = Date.now();
    while (s2.audio_frames_decoded < s1.audio_frames_decoded + 50 && Date.now() - t1 < 6000) {
      await sleep(250);
      s2 = await stats(page);
    }
    check('48 kbit/s: the relay goes to audio only and the page says so',
      a.relay === -1 && a.s.layer === -1 && banner === '网络较差，仅显示课件/声音' && badge === '仅声音' && s2.audio_only === true,
      `page ${a.s.layer}, relay ${a.relay}, banner "${banner}", badge "${badge}"`);
    // (bbt_stuck_holds_total: the relay held its writes while TCP repaired a loss — on this
    // link's 3.6 kB queue, its own writes otherwise kept the repair out for up to 10 s)
    const holds = (await metrics(base)).bbt_stuck_holds_total;
    check('48 kbit/s: sound goes on', s2.audio_frames_decoded >= s1.audio_frames_decoded + 50,
      `${s1.audio_frames_decoded} → ${s2.audio_frames_decoded} packets in ${((Date.now() - t1) / 1000).toFixed(1)} s, ` +
      `bbt_stuck_holds_total ${holds}`);
    // The page's audio copy (docs/PLAYER.md "Audio copy"), if the drop made it subscribe one,
    // goes once the link proves too slow for the audio twice: the relay refuses or ends it once
    // it has measured the link (no_room), or the page's rule (4 s of audio standing 400 ms late).
    let s3 = s2;
    for (let until = Date.now() + 20000; s3.audio_copy && s3.audio_copy.subscribed && Date.now() < until;) {
      await sleep(500);
      s3 = await stats(page);
    }
    check('48 kbit/s: no audio copy left subscribed on a link too slow for it',
      s3.audio_copy !== null && !s3.audio_copy.subscribed && s3.audio_copy.unsubscribes === s3.audio_copy.subscribes,
      JSON.stringify(s3.audio_copy));

    // a slower link: up from audio only to a lower camera layer (the test ladder: 720p ≈ 530,
    // 360p ≈ 130, 180p ≈ 40, Opus ≈ 50 kbit/s; the relay uses 80 % of what it measures). After
    // the audio-only step, not before it: from 720p straight to 150 kbit/s the relay's probes
    // up could leave a 720p backlog that delays its later `state` messages by tens of seconds.
    // Up to 90 s: TCP may still be in retransmission back-off from the 48 kbit/s phase (tbf's
    // 100 ms queue drops most of each burst there), and the relay moves up only once the link
    // reads clear (33 s seen, 7–10 s as a rule).
    rate('change', 150);
    a = await agree(page, base, (l) => l >= 1, 90000);
    dec = a.s;
    if (a.relay !== null && a.relay >= 1) { // and the picture decoded is that layer's
      dec = await waitStats(page, { equal: { video_track: a.relay } }, 20000).catch(() => stats(page));
    }
    check('150 kbit/s: the relay moves to a lower camera layer, the page shows and decodes that layer',
      a.relay !== null && a.relay >= 1 && a.s.layer === a.relay && dec.video_track === a.relay && dec.audio_only === false,
      `page ${a.s.layer}, relay ${a.relay}, decoding track ${dec.video_track} ${dec.video_width}x${dec.video_height}`);

    // On the slow link the relay sent the large frames in fragments (PROTOCOL.md §2.5, asked
    // for by the page), with audio between them: the page put every one together.
    const frags = (await metrics(base)).bbt_fragments_total;
    check('slow link: the relay sent fragments and the page reassembled them without an error',
      frags > 0 && dec.frame_errors === 0 && dec.frames_decoded > 0,
      `bbt_fragments_total ${frags}, page frame_errors ${dec.frame_errors}, frames decoded ${dec.frames_decoded}`);

    // the link recovers: back up by itself
    rate('change', 4000);
    a = await agree(page, base, (l) => l === 0, 90000);
    // the banner stays until a picture of the new layer is drawn (its keyframe, then decoding)
    await page.waitForFunction(() => document.getElementById('banner').hidden, null, { timeout: 20000, polling: 100 })
      .catch(() => {});
    banner = await bannerText(page);
    dec = await stats(page);
    check('4 Mbit/s again: back up to 720p by itself, a picture drawn, the banner gone',
      a.relay === 0 && a.s.layer === a.relay && banner === '',
      `page ${a.s.layer}, relay ${a.relay}, decoding track ${dec.video_track}, banner "${banner}"`);
    check('the audio copy: no malformed frame, no frame taken twice',
      dec.audio_copy !== null && dec.audio_copy.errors === 0 &&
      dec.audio_copy.taken === dec.audio_frames_received,
      JSON.stringify(dec.audio_copy));
    check('no console errors', watch.errors.length === 0, watch.errors.slice(0, 3).join(' | '));
  } catch (e) {
    check(`poornet: ${e && e.message ? e.message.split('\n')[0] : e}`, false);
  } finally {
    if (results.failed) await diagnose(c, page);
    if (browser) await browser.close().catch(() => {});
    await stop(node);
    await stop(relay);
    linkDown();
  }
  console.log(`${results.passed} passed, ${results.failed} failed`);
  process.exit(results.failed ? 1 : 0);
}

main();

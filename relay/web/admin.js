// admin.js — the county dashboard (/admin): connects to the relay as an operator, subscribes to
// the `dash` snapshots (docs/PROTOCOL.md §3.19) and shows, once a second, each classroom's light
// and why, today's lessons with their state, viewers and egress, and the recent errors.
//
// The operator token comes once in the URL (?token=…): it is kept in localStorage and removed
// from the address bar at once (history.replaceState), sent only in `hello`, never logged or
// shown. Without a token (a lab relay) the page states the operator role and the relay grants it.
// window.bbtDash exposes the page's state for tests: {state, snapshots, last}.

import { t, lang, setLang, has } from './admin-i18n.js';

const TOKEN_KEY = 'bbt.admin.token';
const $ = (id) => document.getElementById(id);
const view = { state: 'connecting', snapshots: 0, last: null };
window.bbtDash = view;

function takeToken() {
  const url = new URL(location.href);
  const q = url.searchParams.get('token');
  if (q !== null) {
    try { localStorage.setItem(TOKEN_KEY, q); } catch (_) { /* private mode: this visit only */ }
    url.searchParams.delete('token');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
    return q;
  }
  try { return localStorage.getItem(TOKEN_KEY) || ''; } catch (_) { return ''; }
}

let token = takeToken();

// ---- small DOM helpers (text only, never markup) ----------------------------------------------

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function duration(s) {
  if (s < 60) return t('u_s', { n: s });
  if (s < 3600) return t('u_min', { n: Math.floor(s / 60) });
  if (s < 86400) return t('u_h', { n: Math.floor(s / 3600) });
  return t('u_d', { n: Math.floor(s / 86400) });
}

function clock(us) {
  const d = new Date(us / 1000);
  const p = (n) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

const failText = (reason) => {
  const k = `f_${String(reason || '').replace(/[^A-Za-z0-9]+/g, '_')}`;
  return has(k) ? t(k) : reason;
};

function errorName(name) {
  if (!name) return '';
  for (const k of [`e_${name}`, `e_${name.replace(/^(BBT_EMSG|BBT_EFRAME).*$/, '$1')}`]) {
    if (has(k)) return t(k);
  }
  return name;
}

// ---- rendering -------------------------------------------------------------------------------

function roomDetail(r) {
  const bits = [];
  if (r.connections > 1) bits.push(t('connections', { n: r.connections }));
  if (r.layer) {
    bits.push(r.layer === 'audio' ? t('layer_audio')
      : r.layer === 'courseware' ? t('layer_courseware') : t('layer', { l: r.layer }));
  }
  if (typeof r.latency_ms === 'number') bits.push(t('latency', { ms: Math.round(r.latency_ms) }));
  if (r.stalls) bits.push(t('stalls', { n: r.stalls }));
  if (typeof r.report_age_s === 'number') bits.push(t('no_report', { s: r.report_age_s }));
  if (!r.connected) {
    bits.push(typeof r.last_seen_s === 'number' ? t('last_seen', { t: duration(r.last_seen_s) })
      : t('never_seen'));
  }
  return bits.join(' · ');
}

function roomCard(r) {
  const card = el('div', `room light-${r.light}`);
  card.dataset.classroom = r.classroom;
  card.dataset.light = r.light;
  const head = el('div', 'room-head');
  head.append(el('span', 'dot'), el('span', 'room-id', r.classroom),
    el('span', 'room-light', t(`light_${r.light}`)));
  if (r.role) head.append(el('span', 'room-role', t(`role_${r.role}`)));
  card.append(head);
  const why = (r.reasons || []).map((k) => t(`r_${k}`)).join('，');
  if (why) card.append(el('p', 'room-reasons', why));
  const detail = roomDetail(r);
  if (detail) card.append(el('p', 'room-detail', detail));
  return card;
}

function renderRooms(list) {
  const n = { red: 0, amber: 0, green: 0, idle: 0 };
  for (const r of list) n[r.light] = (n[r.light] || 0) + 1;
  $('counts').textContent = list.length
    ? t('counts', { r: n.red, a: n.amber, g: n.green, i: n.idle }) : t('classrooms_none');
  $('rooms').replaceChildren(...list.map(roomCard));
}

function lessonRow(s) {
  const tr = el('tr');
  tr.dataset.session = s.session;
  tr.dataset.state = s.state;
  tr.append(el('td', 'time', s.start ? `${s.start}–${s.end}` : ''));
  const title = el('td', 'lesson', s.title || s.schedule || s.session);
  if (s.teacher || s.subject) title.append(el('span', 'sub', [s.subject, s.teacher].filter(Boolean).join(' · ')));
  tr.append(title);
  const src = el('td', 'source', s.source || '');
  if (['starting', 'live', 'failed'].includes(s.state)) {
    src.append(el('span', `pub ${s.publisher_up ? 'pub-up' : 'pub-down'}`,
      t(s.publisher_up ? 'pub_up' : 'pub_down')));
  }
  tr.append(src);
  const rcv = el('td', 'receivers', (s.receivers || []).join('、'));
  if (s.receivers && s.receivers.length && typeof s.watching === 'number') {
    rcv.append(el('span', 'sub', t('watching_of', { w: s.watching, n: s.receivers.length })));
  }
  tr.append(rcv);
  const st = el('td');
  st.append(el('span', `state s-${s.state}`, has(`s_${s.state}`) ? t(`s_${s.state}`) : s.state));
  if (s.reason) st.append(el('span', 'why', failText(s.reason)));
  tr.append(st, el('td', 'viewers', s.viewers), el('td', 'kbps', t('kbps', { n: Math.round(s.kbps) })));
  const cols = ['time', 'lesson', 'source', 'receivers', 'state', 'viewers', 'kbps'];
  [...tr.children].forEach((td, i) => { td.dataset.label = t(`col_${cols[i]}`); }); // phone layout
  return tr;
}

function renderLessons(list) {
  $('lessons-body').replaceChildren(...list.map(lessonRow));
  $('lessons').hidden = list.length === 0;
  $('lessons-none').hidden = list.length !== 0;
  $('lessons-none').textContent = t('lessons_none');
}

function renderErrors(list) {
  $('errors').replaceChildren(...list.map((e) => {
    const li = el('li');
    li.append(el('span', 'err-time', clock(e.time_us)), el('span', 'err-subject', e.subject));
    const name = e.name ? errorName(e.name) : t('e_lesson');
    const msg = e.name ? e.message : failText(e.message);
    li.append(el('span', 'err-msg', `${name}：${msg}`));
    if (e.session) li.append(el('span', 'sub', e.session));
    return li;
  }));
  $('errors-none').hidden = list.length !== 0;
  $('errors-none').textContent = t('errors_none');
}

function render(d) {
  if (!d) return;
  $('date').textContent = d.date || '';
  const r = d.relay;
  $('summary').textContent = t('relay_summary', { c: r.connections, p: r.publishers, v: r.viewers,
    u: duration(r.uptime_s) });
  renderRooms(d.classrooms);
  renderLessons(d.sessions);
  renderErrors(d.errors);
}

function renderStatic() {
  document.title = t('title');
  $('title').textContent = t('title');
  $('lang-button').textContent = t('lang_toggle');
  for (const k of ['classrooms', 'lessons', 'errors']) $(`h-${k}`).textContent = t(k);
  for (const k of ['time', 'lesson', 'source', 'receivers', 'state', 'viewers', 'kbps']) {
    $(`col-${k}`).textContent = t(`col_${k}`);
  }
  $('legend').textContent = t('legend');
  $('denied-title').textContent = t('denied');
  $('denied-text').textContent = t('denied_sub');
  $('forget-button').textContent = t('forget_token');
}

function setConn(state, text) {
  view.state = state;
  const c = $('conn');
  c.className = `conn conn-${state === 'live' ? 'live' : state === 'connecting' ? 'connecting' : 'lost'}`;
  c.textContent = text;
  $('denied').hidden = state !== 'denied';
  $('content').hidden = state === 'denied';
}

// ---- the connection --------------------------------------------------------------------------

let retry = 0;
let countdown = null;

function denied() {
  setConn('denied', t('denied'));
}

function scheduleReconnect() {
  const wait = Math.min(30, 2 ** Math.min(retry++, 5));
  let left = wait;
  setConn('lost', t('conn_lost', { s: left }));
  clearInterval(countdown);
  countdown = setInterval(() => {
    left--;
    if (left > 0) {
      setConn('lost', t('conn_lost', { s: left }));
      return;
    }
    clearInterval(countdown);
    connect();
  }, 1000);
}

function onMessage(ws, m) {
  if (m.type === 'welcome') {
    if (m.role !== 'operator') {
      denied();
      ws.close(1000);
      return;
    }
    ws.send(JSON.stringify({ type: 'dash_subscribe', id: 2, interval_ms: 1000 }));
  } else if (m.type === 'dash') {
    retry = 0;
    view.snapshots++;
    view.last = m;
    setConn('live', t('conn_live'));
    render(m);
  } else if (m.type === 'error' && (m.code >= 80 && m.code <= 83)) {
    denied();
  }
}

function connect() {
  setConn('connecting', t('conn_connecting'));
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(`${scheme}//${location.host}/ws`, 'bbt.v1');
  ws.onopen = () => {
    ws.send(JSON.stringify({ type: 'hello', id: 1, token, role: 'operator',
      client: { name: 'bbt-dashboard', version: '0.1.0' } }));
  };
  ws.onmessage = (e) => {
    if (typeof e.data !== 'string') return;
    let m;
    try { m = JSON.parse(e.data); } catch (_) { return; }
    onMessage(ws, m);
  };
  ws.onclose = () => {
    if (view.state !== 'denied') scheduleReconnect();
  };
}

$('lang-button').addEventListener('click', () => {
  setLang(lang() === 'en' ? 'zh' : 'en');
  renderStatic();
  render(view.last);
  if (view.state === 'live') setConn('live', t('conn_live'));
});

$('forget-button').addEventListener('click', () => {
  try { localStorage.removeItem(TOKEN_KEY); } catch (_) { /* nothing saved */ }
  token = '';
  retry = 0;
  connect();
});

setLang(lang());
renderStatic();
connect();

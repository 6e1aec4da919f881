// plan.js — the classroom's timetable as the player sees it (docs/PROTOCOL.md §3.13 `plan`,
// docs/PLAYER.md "Following the timetable"). Pure functions, no DOM and no network, so
// tests/e2e/plan.test.mjs runs them in plain node.
//
// A player opened with only its classroom (`?classroom=`, or the subject of a verified token)
// receives the classroom's `plan` after `welcome` and whenever it changes. `liveSession(plan)`
// is the session to watch now (plan.live) or null; `nextLesson(plan)` the lesson announced on
// the "between lessons" screen; `nextLessonVars` its title and time, formatted for the status
// text in the page's language (the day is named only when it is not the plan's day).

const IDENT = /^[A-Za-z0-9_.-]{1,64}$/;
const HHMM = /^([01]?\d|2[0-3]):[0-5]\d$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const WEEKDAY_ZH = ['周日', '周一', '周二', '周三', '周四', '周五', '周六'];
const WEEKDAY_EN = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTH_EN = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// Is this a plan message for `classroom` (any classroom when null) the page can use?
export function isPlan(m, classroom = null) {
  if (!m || m.type !== 'plan' || typeof m.classroom !== 'string') return false;
  if (classroom !== null && m.classroom !== classroom) return false;
  return Array.isArray(m.sessions);
}

// The session to watch now: plan.live when it is a valid session id, else null.
export function liveSession(plan) {
  return plan && typeof plan.live === 'string' && IDENT.test(plan.live) ? plan.live : null;
}

// The next lesson that has not started: plan.next, else the first of today's lessons still
// `upcoming` or `starting` (a relay that sends no `next`). {session, title, date, start} or null.
export function nextLesson(plan) {
  if (!plan) return null;
  let n = plan.next && typeof plan.next === 'object' ? plan.next : null;
  if (!n && Array.isArray(plan.sessions)) {
    n = plan.sessions.find((s) => s && (s.state === 'upcoming' || s.state === 'starting')) || null;
  }
  if (!n || typeof n.start !== 'string' || !HHMM.test(n.start)) return null;
  return {
    session: typeof n.session === 'string' ? n.session : '',
    title: typeof n.title === 'string' && n.title ? n.title : (typeof n.subject === 'string' ? n.subject : ''),
    date: typeof n.date === 'string' && DATE.test(n.date) ? n.date : plan.date,
    start: n.start,
  };
}

function weekday(date) {
  const m = DATE.exec(date);
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])).getUTCDay() : null;
}

// {title, when} for the status text: when = "10:00" today, "3月10日（周一）10:00" /
// "Mon 10 Mar 10:00" on another day. The title falls back to the session id.
export function nextLessonVars(plan, lang = 'zh') {
  const n = nextLesson(plan);
  if (!n) return null;
  const title = n.title || n.session;
  if (!plan || n.date === plan.date) return { title, when: n.start };
  const m = DATE.exec(n.date);
  const wd = weekday(n.date);
  if (!m || wd === null) return { title, when: n.start };
  const when = lang === 'en'
    ? `${WEEKDAY_EN[wd]} ${+m[3]} ${MONTH_EN[+m[2] - 1]} ${n.start}`
    : `${+m[2]}月${+m[3]}日（${WEEKDAY_ZH[wd]}）${n.start}`;
  return { title, when };
}

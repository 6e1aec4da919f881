// lang.js — the language machinery shared by the player's and the dashboard's string tables
// (i18n.js, admin-i18n.js): Simplified Chinese by default; ?lang=en|zh wins, else the choice the
// page's toggle saved (one choice for every page of the relay), else zh-CN.

function pick() {
  try {
    const q = new URLSearchParams(location.search).get('lang');
    if (q) return q.toLowerCase().startsWith('en') ? 'en' : 'zh';
    const saved = localStorage.getItem('bbt.lang');
    if (saved === 'en' || saved === 'zh') return saved;
  } catch (_) { /* storage may be disabled: the default */ }
  return 'zh';
}

// lang(), setLang(l), has(key), t(key, vars, l) over one table of {key: {zh, en}}.
export function createI18n(strings) {
  let current = typeof location === 'undefined' ? 'zh' : pick();
  const has = (key) => Object.prototype.hasOwnProperty.call(strings, key);
  // The text for `key` in the current language, with {name} placeholders filled from vars.
  const t = (key, vars = {}, l = current) => {
    const entry = strings[key];
    if (!entry) return key;
    const s = entry[l] || entry.zh;
    return s.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : ''));
  };
  const setLang = (l) => {
    current = l === 'en' ? 'en' : 'zh';
    try { localStorage.setItem('bbt.lang', current); } catch (_) { /* ignore */ }
    if (typeof document !== 'undefined') {
      document.documentElement.lang = current === 'en' ? 'en' : 'zh-CN';
      document.title = t('title');
    }
  };
  return { lang: () => current, setLang, has, t };
}

// ui.js — the page's elements: status text, banner, badge, overlays, panels, controls. Only
// DOM work here; player.js decides what to show. Every text comes from i18n.js.

import { lang, setLang, t } from './i18n.js';

const $ = (id) => document.getElementById(id);

export class Ui {
  constructor() {
    this.el = {
      status: $('status'), statusText: $('status-text'), statusSub: $('status-sub'),
      banner: $('banner'), badge: $('badge'), camera: $('camera'), courseware: $('courseware'),
      form: $('session-form'), formTitle: $('form-title'), formHelp: $('form-help'),
      formExample: $('form-example'), formLabel: $('form-label'), input: $('session-input'),
      join: $('join-button'), joinForm: $('join-form'), formError: $('form-error'),
      unsupported: $('unsupported'), unsupportedTitle: $('unsupported-title'),
      unsupportedText: $('unsupported-text'), unsupportedDetail: $('unsupported-detail'),
      sound: $('sound-overlay'), soundText: $('sound-text'), soundSub: $('sound-sub'),
      fullscreen: $('fullscreen-button'), langButton: $('lang-button'), debug: $('debug'),
    };
    this.view = { status: null, banner: null, badge: null };
    this.onLang = () => {};
    this.el.langButton.addEventListener('click', (e) => {
      e.stopPropagation();
      setLang(lang() === 'en' ? 'zh' : 'en');
      this.applyLang();
      this.onLang();
    });
    this.el.fullscreen.addEventListener('click', (e) => {
      e.stopPropagation();
      this.toggleFullscreen();
    });
    document.addEventListener('fullscreenchange', () => this.applyLang());
    this.idleTimer = null;
    const wake = () => this.wake();
    ['mousemove', 'pointerdown', 'keydown', 'touchstart'].forEach((ev) =>
      document.addEventListener(ev, wake, { passive: true }));
    this.wake();
    setLang(lang());
    this.applyLang();
  }

  // Hide the controls (and, in kiosk mode, the cursor) after 4 s without input.
  wake() {
    document.body.classList.remove('idle');
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => document.body.classList.add('idle'), 4000);
  }

  applyLang() {
    const e = this.el;
    e.fullscreen.textContent = document.fullscreenElement ? t('exit_fullscreen') : t('fullscreen');
    e.langButton.textContent = t('lang_toggle');
    e.soundText.textContent = t('tap_for_sound');
    e.soundSub.textContent = t('tap_for_sound_sub');
    e.formTitle.textContent = t('no_session');
    e.formHelp.textContent = t('no_session_sub');
    e.formExample.textContent = `${location.origin}${location.pathname}?session=${t('no_session_example')}`;
    e.formLabel.textContent = t('session_label');
    e.join.textContent = t('join');
    e.unsupportedTitle.textContent = t('unsupported');
    e.unsupportedText.textContent = t('unsupported_sub');
    e.unsupportedDetail.textContent = t('unsupported_detail');
    this.view = { status: null, banner: null, badge: null }; // re-render the texts
  }

  async toggleFullscreen() {
    try {
      if (document.fullscreenElement) await document.exitFullscreen();
      else await document.documentElement.requestFullscreen({ navigationUI: 'hide' });
    } catch (_) { /* needs a user gesture, or not allowed: the button stays */ }
  }

  async enterFullscreen() {
    if (document.fullscreenElement || !document.fullscreenEnabled) return;
    try { await document.documentElement.requestFullscreen({ navigationUI: 'hide' }); } catch (_) { /* see above */ }
  }

  // status: null (clear) or {key, sub, vars, error}
  setStatus(s) {
    const key = s ? `${s.key}|${s.sub || ''}|${JSON.stringify(s.vars || {})}|${lang()}` : null;
    if (key === this.view.status) return;
    this.view.status = key;
    const e = this.el;
    if (!s) {
      e.status.classList.add('clear');
      return;
    }
    e.status.classList.remove('clear');
    e.status.classList.toggle('error', !!s.error);
    e.status.dataset.state = s.key;
    e.statusText.textContent = t(s.key, s.vars);
    e.statusSub.textContent = s.sub ? t(s.sub, s.vars) : '';
  }

  setBanner(key, vars) {
    const k = key ? `${key}|${lang()}|${JSON.stringify(vars || {})}` : null;
    if (k === this.view.banner) return;
    this.view.banner = k;
    this.el.banner.hidden = !key;
    document.body.classList.toggle('has-banner', !!key);
    if (key) this.el.banner.textContent = t(key, vars);
  }

  setBadge(key) {
    const k = key ? `${key}|${lang()}` : null;
    if (k === this.view.badge) return;
    this.view.badge = k;
    this.el.badge.hidden = !key;
    if (key) this.el.badge.textContent = t(key);
  }

  showSoundOverlay(on) {
    this.el.sound.hidden = !on;
  }

  setCourseware(on) {
    document.body.classList.toggle('has-courseware', on);
    this.el.courseware.hidden = !on;
  }

  showForm(session, errorKey) {
    const e = this.el;
    e.form.hidden = false;
    if (session !== undefined && session !== null) e.input.value = session;
    e.formError.hidden = !errorKey;
    if (errorKey) e.formError.textContent = t(errorKey);
    this.setStatus(null);
    e.input.focus();
  }

  showUnsupported() {
    this.el.unsupported.hidden = false;
    this.setStatus(null);
  }

  setDebug(text) {
    this.el.debug.hidden = text === null;
    if (text !== null) this.el.debug.textContent = text;
  }
}

// postcopy-sim live demo: the guided lessons (src/demo/lessons.ts). A lesson is a few short steps;
// each step names a run and when it is shown: when the run pauses on the event the step explains
// (a condition armed on the server's pause control) or when the run ends. The step's text then
// shows the live numbers it talks about, filled in from the events of this run and earlier ones.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const api = window.__pcs;
  const L = { lesson: null, step: -1, runIndex: -1, runId: null, expectRun: false, prevRun: 0, waiting: false, fault: null, tick: null, end: null, runs: [] };

  // ---- the numbers: {path|format} and {ratio:a:b} placeholders
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  const lookup = (ctx, path) => path.split('.').reduce((o, k) => (o === undefined || o === null ? undefined : o[k]), ctx);
  const int = (x) => Math.round(x).toLocaleString('en-US');
  const us = (x) => (x >= 1e6 ? `${+(x / 1e6).toFixed(2)} s` : x >= 1000 ? `${+(x / 1000).toFixed(2)} ms` : `${+x.toFixed(1)} µs`);
  const FORMATS = {
    int, us, ms: (x) => us(x * 1000),
    hex: (x) => `0x${BigInt(Math.round(x)).toString(16)}`,
    names: (x) => (Array.isArray(x) && x.length ? x.join(' | ') : 'none'),
  };
  function value(ctx, spec) {
    if (spec.startsWith('ratio:')) {
      const [, a, b] = spec.split(':');
      const x = lookup(ctx, a), y = lookup(ctx, b);
      return typeof x === 'number' && typeof y === 'number' && y > 0 ? `${(x / y).toFixed(x / y >= 10 ? 0 : 1)}×` : null;
    }
    const [path, how] = spec.split('|');
    const v = lookup(ctx, path);
    if (v === undefined || v === null || (typeof v === 'number' && !Number.isFinite(v))) return null;
    if (how && FORMATS[how]) return FORMATS[how](v);
    return typeof v === 'number' ? (Number.isInteger(v) ? int(v) : String(+v.toFixed(2))) : Array.isArray(v) ? v.join(', ') : String(v);
  }
  function fill(text, ctx) {
    let out = '', at = 0;
    for (const m of text.matchAll(/\{([^}]+)\}/g)) {
      out += esc(text.slice(at, m.index));
      const v = value(ctx, m[1]);
      out += v === null ? `<b class="num missing" data-key="${esc(m[1])}">n/a</b>` : `<b class="num" data-key="${esc(m[1])}">${esc(v)}</b>`;
      at = m.index + m[0].length;
    }
    return out + esc(text.slice(at));
  }

  // ---- the lesson panel
  function pick() {
    const sel = $('lesson-pick');
    if (sel.options.length || !api.config) return;
    for (const l of api.config.choices.lessons) { const o = document.createElement('option'); o.value = l.id; o.textContent = l.title; sel.appendChild(o); }
  }
  function panel(ready) {
    const box = $('lesson');
    box.dataset.step = String(L.step);
    box.dataset.ready = ready ? '1' : '0';
    $('lesson-next').disabled = !ready;
    $('lesson-next').textContent = L.lesson && L.step >= L.lesson.steps.length - 1 ? 'Finish' : 'Next';
  }
  function show() {
    const st = L.lesson.steps[L.step];
    L.waiting = false;
    $('lesson-step-title').textContent = st.title;
    $('lesson-text').innerHTML = fill(st.text, { fault: L.fault, tick: L.tick, end: L.end, runs: L.runs });
    $('lesson-wait').textContent = L.end ? '' : 'paused on this event: press Next to go on';
    panel(true);
  }
  async function next() {
    const lesson = L.lesson;
    L.step++;
    $('lesson-progress').textContent = `step ${Math.min(L.step + 1, lesson.steps.length)} of ${lesson.steps.length}`;
    if (L.step >= lesson.steps.length) {
      $('lesson').dataset.done = '1';
      $('lesson-step-title').textContent = 'Done';
      $('lesson-text').textContent = 'That is the whole lesson. Pick another, or change the controls and run it yourself.';
      $('lesson-wait').textContent = '';
      panel(false);
      return;
    }
    const st = lesson.steps[L.step];
    const until = st.until === 'end' ? null : st.until;
    panel(false);
    L.waiting = true;
    $('lesson-step-title').textContent = st.title;
    $('lesson-text').textContent = '';
    if (st.run !== L.runIndex) {
      const run = lesson.runs[st.run];
      $('lesson-wait').textContent = `running: ${run.label}…`;
      Object.assign(L, { runIndex: st.run, fault: null, tick: null, end: null, expectRun: true, prevRun: api.state.run ?? 0 });
      const r = await api.start(run.controls, until);
      if (!r.ok) $('lesson-wait').textContent = `could not start: ${r.body.error || r.status}`;
    } else if (L.end) {
      show(); // the run is over: nothing more will happen in it
    } else {
      $('lesson-wait').textContent = 'running…';
      await api.post('/api/resume', { until });
    }
  }
  function begin(id) {
    const lesson = api.config.choices.lessons.find((l) => l.id === id);
    if (!lesson) return;
    Object.assign(L, { lesson, step: -1, runIndex: -1, runId: null, runs: [], waiting: false });
    const box = $('lesson');
    box.hidden = false;
    box.dataset.lesson = id;
    box.dataset.done = '0';
    $('lesson-title').textContent = lesson.title;
    $('lesson-summary').textContent = lesson.summary;
    next();
  }

  api.on((e) => {
    pick();
    if (!L.lesson) return;
    if (e.type === 'run' && L.expectRun && e.run > L.prevRun) { L.runId = e.run; L.expectRun = false; return; }
    if (e.run !== L.runId) return;
    if (e.type === 'fault') L.fault = e;
    else if (e.type === 'tick') L.tick = e;
    else if (e.type === 'playback' && e.paused && L.waiting) show();
    else if (e.type === 'end') {
      L.end = e.result;
      L.runs[L.runIndex] = { end: e.result, tick: L.tick, fault: L.fault };
      if (L.waiting) show();
    } else if (e.type === 'error' && L.waiting) {
      $('lesson-wait').textContent = `the run stopped: ${e.message}`;
    }
  });

  $('lesson-start').addEventListener('click', () => begin($('lesson-pick').value));
  $('lesson-next').addEventListener('click', () => next());
  $('lesson-quit').addEventListener('click', () => { L.lesson = null; $('lesson').hidden = true; api.post('/api/stop', {}); });
})();

// postcopy-sim live demo: pause, single-step (one fault at a time) and resume. Only a run on the
// virtual engine can stop: its clock is its own, so it goes on afterwards exactly as if it had not
// stopped. The server's pause control (src/playback.ts) does the work; this file shows its state.
// "Cut the link" works on either engine, whenever the run migrates over a modelled link.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const api = window.__pcs;
  const P = { run: null, pausable: false, cuttable: false, running: false, paused: false, reason: null };

  function draw() {
    const live = P.pausable && P.running;
    $('pause').disabled = !live || P.paused;
    $('step').disabled = !live;
    $('resume').disabled = !live || !P.paused;
    $('cut-link').disabled = !(P.cuttable && P.running);
    const box = $('playback');
    box.dataset.state = !P.pausable ? 'off' : !P.running ? 'ended' : P.paused ? 'paused' : 'playing';
    box.title = P.pausable ? 'pause, single-step (one fault at a time) and resume'
      : 'pause needs the virtual engine: real threads and a real clock cannot be frozen';
    $('playback-status').textContent = !P.pausable ? '' : !P.running ? '' : P.paused ? `paused${P.reason ? ` (${P.reason})` : ''}` : 'playing';
  }

  api.on((e) => {
    if (e.type === 'run') {
      if (e.run !== P.run) { P.run = e.run; P.paused = false; P.reason = null; }
      P.pausable = !!e.pausable;
      P.cuttable = !!e.cuttable;
      P.running = e.status === 'running' || e.status === 'starting';
    } else if (e.type === 'start') {
      P.running = true;
    } else if (e.type === 'playback' && e.run === P.run) {
      P.paused = e.paused;
      P.reason = e.reason;
    } else if ((e.type === 'end' || e.type === 'error') && e.run === P.run) {
      P.running = false;
      P.paused = false;
    }
    draw();
  });

  const act = async (what, body = {}) => {
    const r = await api.post(`/api/${what}`, body);
    if (!r.ok) $('control-error').textContent = r.body.error || `HTTP ${r.status}`;
  };
  $('pause').addEventListener('click', () => act('pause'));
  $('step').addEventListener('click', () => act('step'));
  $('resume').addEventListener('click', () => act('resume'));
  // The link goes down now for 20 ms of modelled time; the state shows in the "migration" counter.
  $('cut-link').addEventListener('click', () => act('cut-link', { durationMs: 20 }));
  draw();
})();

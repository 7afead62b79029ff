// postcopy-sim live demo page. Plain browser JavaScript, no build step: the server sends it as is.
// State arrives on one EventSource (/events); the page keeps the latest values and draws them once
// per animation frame, so a fast stream never queues DOM work (the grid and lanes are canvases, and
// only cells that changed are repainted).
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);

  /** Everything the page knows about the run it shows. */
  const S = {
    run: null, status: 'idle', start: null, cols: 1, rows: 1, px: 8,
    present: new Float32Array(0), demand: new Float32Array(0), zero: new Float32Array(0),
    dirtyCells: new Set(), allDirty: false, presentCells: 0,
    tick: null, faults: [], lastRecord: null, recordDirty: false, recordCount: 0,
    lanesHistory: [], end: null, firstPages: [],
  };
  const uapi = { tables: null };
  window.__demo = { run: null, status: 'idle', ticks: 0, faults: 0, presentCells: 0, lastKind: '', records: {} };
  /** What playback.js and lessons.js use: the configuration, the controls, posting, and every event after this page took it. */
  const listeners = [];
  const API = {
    config: null,
    state: S,
    on(fn) { listeners.push(fn); },
    post: (path, body) => post(path, body),
    /** Sets the controls (the defaults, then `values`), then starts a run; `until` arms a pause. */
    async start(values, until) {
      for (const [k, v] of Object.entries({ ...API.config.choices.defaults, ...values })) { const el = $(`c-${k}`); if (el) el.value = String(v); }
      syncControls();
      return submit(until);
    },
  };
  window.__pcs = API;

  // ---------------------------------------------------------------- controls
  const form = $('controls');
  const fill = (sel, values, labels) => {
    sel.textContent = '';
    values.forEach((v, i) => { const o = document.createElement('option'); o.value = v; o.textContent = labels ? labels[i] : v; sel.appendChild(o); });
  };
  async function loadConfig() {
    const r = await fetch('/api/config');
    const cfg = await r.json();
    const c = cfg.choices;
    uapi.tables = cfg.uapi;
    fill($('c-mode'), c.modes);
    fill($('c-strategy'), c.strategies);
    fill($('c-workload'), c.workloads);
    fill($('c-memory'), c.memory);
    fill($('c-speed'), c.speeds.map((s) => s.value), c.speeds.map((s) => s.label));
    fill($('c-engine'), c.engines);
    fill($('c-network'), c.networks);
    fill($('c-resolver'), c.resolvers);
    fill($('c-arch'), c.archs);
    fill($('c-record'), c.records);
    S.maxVcpus = c.maxVcpus; S.maxVirtualVcpus = c.maxVirtualVcpus;
    const d = c.defaults;
    $('c-mode').value = d.mode; $('c-strategy').value = d.strategy; $('c-workload').value = d.workload;
    $('c-memory').value = d.memory; $('c-speed').value = d.speed; $('c-vcpus').value = d.vcpus;
    $('c-bandwidth').value = d.bandwidth; $('c-latency').value = d.latency;
    $('c-engine').value = d.engine; $('c-network').value = d.network; $('c-partition').value = String(d.partition);
    $('c-accesses').value = d.accesses; $('c-resolver').value = d.resolver; $('c-cores').value = d.cores;
    for (const k of ['arch', 'record', 'pageTables', 'execRatio', 'mteFraction', 'confidential', 'convertRatio']) $(`c-${k}`).value = String(d[k]);
    API.config = cfg;
    const box = $('presets');
    box.textContent = '';
    for (const p of c.presets) {
      const b = document.createElement('button');
      b.type = 'button'; b.className = 'preset'; b.id = `preset-${p.value}`; b.textContent = p.label;
      b.title = `virtual engine: ${Object.entries(p.controls).map(([k, v]) => `${k} ${v === '' ? 'auto' : v}`).join(', ')}`;
      b.addEventListener('click', () => {
        for (const [k, v] of Object.entries(p.controls)) { const el = $(`c-${k}`); if (el) el.value = v; }
        syncControls();
        form.requestSubmit();
      });
      box.appendChild(b);
    }
    syncControls();
    for (const fn of listeners) fn({ type: 'config' });
  }
  /** Controls that do not apply are disabled (and so not sent): cores off the virtual engine, the resolver off exit mode. */
  function syncControls() {
    const virtual = $('c-engine').value === 'virtual';
    $('c-cores').disabled = !virtual;
    $('c-resolver').disabled = $('c-mode').value !== 'exit';
    $('c-vcpus').max = String(virtual ? S.maxVirtualVcpus : S.maxVcpus);
    const net = $('c-network').value === 'link';
    $('c-bandwidth').disabled = !net; $('c-latency').disabled = !net;
    // The fault records: a syndrome rides only on an exit, MTE is arm64's, uffd cannot hold guest_memfd.
    const exit = $('c-mode').value === 'exit';
    $('c-record').disabled = !exit;
    $('c-mteFraction').disabled = $('c-arch').value !== 'arm64';
    $('c-confidential').disabled = $('c-mode').value === 'uffd';
    $('c-convertRatio').disabled = $('c-confidential').disabled || $('c-confidential').value !== 'true';
  }
  for (const id of ['c-engine', 'c-mode', 'c-network', 'c-arch', 'c-confidential']) $(id).addEventListener('change', syncControls);
  const controls = () => {
    const f = new FormData(form);
    const out = {};
    for (const [k, v] of f.entries()) out[k] = String(v).trim();
    return out;
  };
  async function post(path, body) {
    const r = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const j = await r.json().catch(() => ({}));
    return { ok: r.ok, status: r.status, body: j };
  }
  // "stop at the first fault": a virtual run starts with a pause armed on its first fault.
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submit($('start-paused').checked && $('c-engine').value === 'virtual' ? { fault: 'any' } : null);
  });
  async function submit(until) {
    $('control-error').textContent = '';
    const r = await post('/api/start', until ? { ...controls(), until } : controls());
    if (!r.ok) { $('control-error').textContent = r.body.error || `HTTP ${r.status}`; return r; }
    const e = r.body.effective;
    const where = e.network === 'none' ? 'pages copied from a local image (no link)' : `link ${e.bandwidth} with ${fmtUs(e.latencyUs)} latency`;
    $('effective').textContent = `run #${r.body.run}: ${e.memory} guest, ${where}` +
      (e.accesses ? `, ${fmtInt(e.accesses)} accesses per vCPU` : '') +
      (e.engine === 'virtual'
        ? `; virtual time, played back at ${e.virtualUsPerRealMs} virtual µs per real ms (${e.virtualUsPerRealMs >= 1000 ? 'real time' : `${1000 / e.virtualUsPerRealMs}× slower than real time`})` +
          (e.cores ? ` on ${e.cores} modelled cores` : '') + '.'
        : (e.thinkUs ? `, the guest thinks ${fmtUs(e.thinkUs)} between accesses` : '') + '.');
    return r;
  }
  $('stop').addEventListener('click', () => { post('/api/stop', {}); });

  // ---------------------------------------------------------------- formatting
  const fmtInt = (x) => Math.round(x).toLocaleString('en-US');
  function fmtUs(us) { return us >= 1e6 ? `${+(us / 1e6).toFixed(2)} s` : us >= 1000 ? `${+(us / 1000).toFixed(2)} ms` : `${+us.toFixed(1)} µs`; }
  function fmtBytes(b) { return b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : `${(b / 1024).toFixed(0)} KiB`; }

  // ---------------------------------------------------------------- status
  function setStatus(status, text) {
    S.status = status;
    window.__demo.status = status;
    $('status').dataset.status = status;
    $('status').dataset.run = S.run ?? '';
    $('status-text').textContent = text;
    $('start').textContent = status === 'running' || status === 'starting' ? 'Restart' : 'Start';
  }

  // ---------------------------------------------------------------- memory grid (grid.js)
  const grid = window.PcsGrid.attach(S);
  const initGrid = (start) => grid.init(start);
  const drawGrid = () => grid.draw();
  const drawOverlay = () => grid.overlay();

  // ---------------------------------------------------------------- vCPU lanes (lanes.js), charts (charts.js)
  const initLanes = (n) => window.PcsLanes.init(n);
  const stepLanes = (tick) => window.PcsLanes.step(tick);
  const charts = window.PcsCharts;

  // ---------------------------------------------------------------- fault record panel (record.js)
  function renderRecord() {
    const f = S.lastRecord;
    if (!f || !uapi.tables) return;
    window.PcsRecord.render(f, uapi.tables, S.start, S.recordCount);
    window.__demo.lastKind = f.record.kind;
    window.__demo.records[f.record.kind] = (window.__demo.records[f.record.kind] ?? 0) + 1;
  }

  // ---------------------------------------------------------------- counters
  function drawCounters() {
    const t = S.tick, st = S.start;
    if (!t || !st) return;
    $('k-present').textContent = `${fmtInt(t.presentPages)} of ${fmtInt(st.pages)} (${Math.floor((100 * t.presentPages) / st.pages)}%)`;
    $('k-faults').textContent = fmtInt(t.faults);
    $('k-rate').textContent = fmtInt(t.faultsPerSec);
    $('k-blocked').textContent = `${t.blockedVcpus} of ${st.vcpus}`;
    $('k-blocktime').textContent = `${t.blocktimeMs.toFixed(1)} ms`;
    $('k-bytes').textContent = fmtBytes(t.bytesReceived);
    $('k-time').textContent = st.engine === 'virtual' ? `${t.tMs.toFixed(t.tMs < 10 ? 3 : 1)} ms virtual` : `${(t.tMs / 1000).toFixed(2)} s`;
    $('k-queue').textContent = t.queuedFaults === undefined ? '-' : fmtInt(t.queuedFaults);
    // active / paused (link down: faulting vCPUs stay blocked) / recover (bitmap on its way)
    $('k-link').textContent = t.runState ?? '-';
    $('k-link').dataset.state = t.runState ?? '';
  }

  // ---------------------------------------------------------------- the event stream
  function resetRun(msg) {
    S.run = msg.run; S.start = null; S.tick = null; S.end = null; S.faults = []; S.lastRecord = null; S.recordCount = 0;
    window.__demo = { run: msg.run, status: msg.status, ticks: 0, faults: 0, presentCells: 0, lastKind: '', records: {} };
    charts.reset();
    $('end-summary').textContent = '';
    $('record').dataset.kind = ''; $('record').dataset.count = '0';
    $('record-head').textContent = 'no fault yet';
    $('record-body').innerHTML = '<p class="hint">Waiting for the first fault…</p>';
    for (const id of ['k-present', 'k-faults', 'k-rate', 'k-blocked', 'k-blocktime', 'k-queue', 'k-link', 'k-bytes', 'k-time']) $(id).textContent = '-';
    $('k-link').dataset.state = '';
  }
  function describeRun(msg) {
    const c = msg.controls || {};
    return `run #${msg.run}: ${msg.effective?.engine === 'virtual' ? 'virtual time, ' : ''}${c.mode ?? 'exit'}, ${c.strategy ?? 'linear'}, ${c.vcpus ?? '?'} vCPUs, ${msg.effective?.memory ?? ''}`;
  }
  let runInfo = null;
  function onEvent(e) {
    if (e.type === 'hello') { if (e.run === null) setStatus('idle', 'idle: press Start'); return; }
    if (e.run !== undefined && S.run !== null && e.run < S.run) return; // a superseded run
    switch (e.type) {
      case 'run':
        if (e.run !== S.run) resetRun(e);
        runInfo = e;
        setStatus(e.status, `${describeRun(e)} · ${e.status}`);
        break;
      case 'start':
        if (e.run !== S.run) return;
        S.start = e;
        initGrid(e);
        initLanes(e.vcpus);
        setStatus('running', `${runInfo ? describeRun(runInfo) : `run #${e.run}`} · running`);
        break;
      case 'history':
        for (const [t, fr, bt, bytes, , ar] of e.points) charts.push(t, fr, ar, bt, bytes);
        break;
      case 'tick': {
        if (!S.start) return;
        S.tick = e;
        for (const cell of e.cells) {
          const [c, p, d] = cell;
          if ((S.present[c] > 0) !== (p > 0)) S.presentCells += p > 0 ? 1 : -1;
          S.present[c] = p; S.demand[c] = d; if (cell.length > 3) S.zero[c] = cell[3];
          S.dirtyCells.add(c);
        }
        charts.push(e.tMs, e.faultsPerSec, e.accessesPerSec, e.blocktimeMs, e.bytesReceived);
        stepLanes(e);
        window.__demo.ticks++;
        window.__demo.presentCells = S.presentCells;
        break;
      }
      case 'fault':
        if (!S.start) return;
        S.lastRecord = e; S.recordDirty = true; S.recordCount++;
        S.faults.push({ page: e.page, at: performance.now() });
        window.__demo.faults++;
        break;
      case 'end': {
        S.end = e.result;
        const r = e.result, L = r.faultLatencyUs;
        $('end-summary').textContent = `Done: migration took ${r.migrationMs.toFixed(1)} ms (guest ${r.guestMs.toFixed(1)} ms); ` +
          `${fmtInt(r.faults)} faults, latency p50 ${fmtUs(L.p50)}, p99 ${fmtUs(L.p99)}; ${fmtInt(r.pagesDemand)} pages demand-fetched, ${fmtInt(r.pagesPushed)} pushed; ` +
          `blocktime ${r.blocktimeMs.toFixed(1)} ms; verified ${r.verified ? 'yes' : 'NO'}.`;
        setStatus('finished', `${runInfo ? describeRun(runInfo) : `run #${e.run}`} · finished`);
        break;
      }
      case 'error':
        setStatus(e.code === 'ABORTED' ? 'stopped' : 'failed', `run #${e.run} ${e.code === 'ABORTED' ? 'stopped' : `failed: ${e.message}`}`);
        break;
      default:
    }
    for (const fn of listeners) { try { fn(e); } catch (err) { console.error(err); } }
    schedule();
  }

  let pending = false;
  function schedule() { if (!pending) { pending = true; requestAnimationFrame(frame); } }
  function frame() {
    pending = false;
    if (!S.start) return;
    drawGrid();
    drawOverlay();
    drawCounters();
    if (S.recordDirty) { S.recordDirty = false; renderRecord(); }
    if (charts.dirty) charts.draw(S.tick);
    if (S.faults.length) setTimeout(schedule, 250); // let the fault rings fade
  }

  function connect() {
    const es = new EventSource('/events');
    es.onmessage = (m) => { try { onEvent(JSON.parse(m.data)); } catch (err) { console.error(err); } };
    es.onerror = () => { if (S.status !== 'running') setStatus(S.status, 'reconnecting…'); };
  }

  charts.make();
  loadConfig().then(connect, (e) => { $('control-error').textContent = `cannot load the configuration: ${e.message}`; });
})();

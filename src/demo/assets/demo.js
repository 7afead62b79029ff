// postcopy-sim live demo page. Plain browser JavaScript, no build step: the server sends it as is.
// State arrives on one EventSource (/events); the page keeps the latest values and draws them once
// per animation frame, so a fast stream never queues DOM work (the grid and lanes are canvases, and
// only cells that changed are repainted).
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const COLORS = { missing: [223, 227, 234], pushed: [66, 105, 208], demand: [232, 89, 12], zero: [154, 165, 180] };
  const LANE = { running: '#2f9e44', faulted: '#f59f00', waiting: '#e03131', done: '#adb5bd' };
  const MAX_POINTS = 3000;

  /** Everything the page knows about the run it shows. */
  const S = {
    run: null, status: 'idle', start: null, cols: 1, rows: 1, px: 8,
    present: new Float32Array(0), demand: new Float32Array(0), zero: new Float32Array(0),
    dirtyCells: new Set(), allDirty: false, presentCells: 0,
    tick: null, faults: [], lastRecord: null, recordDirty: false, recordCount: 0,
    series: { t: [], faultRate: [], accRate: [], block: [], mib: [] }, chartsDirty: false,
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
  const hex = (n, width = 0) => `0x${BigInt(n).toString(16).padStart(width, '0')}`;
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

  // ---------------------------------------------------------------- status
  function setStatus(status, text) {
    S.status = status;
    window.__demo.status = status;
    $('status').dataset.status = status;
    $('status').dataset.run = S.run ?? '';
    $('status-text').textContent = text;
    $('start').textContent = status === 'running' || status === 'starting' ? 'Restart' : 'Start';
  }

  // ---------------------------------------------------------------- memory grid
  const grid = $('grid'), overlay = $('grid-overlay');
  const gctx = grid.getContext('2d'), octx = overlay.getContext('2d');
  function initGrid(start) {
    const cells = start.cells;
    S.cols = Math.max(1, 2 ** Math.ceil(Math.log2(Math.sqrt(cells))));
    S.rows = Math.ceil(cells / S.cols);
    S.px = Math.max(2, Math.min(64, Math.floor(528 / S.cols)));
    for (const c of [grid, overlay]) { c.width = S.cols * S.px; c.height = S.rows * S.px; }
    S.present = new Float32Array(cells); S.demand = new Float32Array(cells); S.zero = new Float32Array(cells);
    S.presentCells = 0;
    S.allDirty = true;
    let first = 0;
    S.firstPages = start.memslots.map((m) => { const f = first; first += m.sizeBytes / start.pageSize; return f; });
    const per = start.pagesPerCell;
    $('grid-caption').textContent = `${fmtInt(start.pages)} pages of ${fmtBytes(start.pageSize)} · ${fmtInt(cells)} cells` +
      (per > 1 ? `, ${fmtInt(per)} pages (${fmtBytes(per * start.pageSize)}) each` : ', one per page') + ` · ${start.memslots.length} memslot${start.memslots.length > 1 ? 's' : ''}`;
  }
  const mix = (a, b, t) => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
  function cellColor(c) {
    const p = S.present[c];
    if (p <= 0) return COLORS.missing;
    // One demand-fetched page in a cell of many must still show: any demand tints the cell strongly.
    const d = S.demand[c];
    let arrived = mix(COLORS.pushed, COLORS.demand, d > 0 ? 0.55 + 0.45 * d : 0);
    if (S.zero[c] > 0) arrived = mix(arrived, COLORS.zero, S.zero[c]);
    return mix(COLORS.missing, arrived, Math.max(0.25, p));
  }
  function paintCell(c) {
    const [r, g, b] = cellColor(c);
    gctx.fillStyle = `rgb(${r | 0},${g | 0},${b | 0})`;
    const gap = S.px >= 5 ? 1 : 0;
    gctx.fillRect((c % S.cols) * S.px, Math.floor(c / S.cols) * S.px, S.px - gap, S.px - gap);
  }
  function drawGrid() {
    if (S.allDirty) {
      gctx.clearRect(0, 0, grid.width, grid.height);
      for (let c = 0; c < S.present.length; c++) paintCell(c);
      S.allDirty = false;
      S.dirtyCells.clear();
    } else {
      for (const c of S.dirtyCells) paintCell(c);
      S.dirtyCells.clear();
    }
    grid.dataset.presentCells = String(S.presentCells);
  }
  function pageOfGpa(gpa) {
    const st = S.start;
    for (let i = 0; i < st.memslots.length; i++) {
      const m = st.memslots[i];
      if (gpa >= m.baseGpa && gpa < m.baseGpa + m.sizeBytes) return S.firstPages[i] + Math.floor((gpa - m.baseGpa) / st.pageSize);
    }
    return -1;
  }
  function ring(cell, color, width) {
    if (cell < 0) return;
    const x = (cell % S.cols) * S.px, y = Math.floor(cell / S.cols) * S.px;
    const pad = Math.max(2, S.px / 2);
    octx.strokeStyle = color; octx.lineWidth = width;
    octx.strokeRect(x - pad + 0.5, y - pad + 0.5, S.px + 2 * pad - 1, S.px + 2 * pad - 1);
  }
  function drawOverlay() {
    octx.clearRect(0, 0, overlay.width, overlay.height);
    if (!S.start) return;
    const now = performance.now();
    S.faults = S.faults.filter((f) => now - f.at < 1500);
    for (const f of S.faults) ring(Math.floor(f.page / S.start.pagesPerCell), 'rgba(17,17,17,0.85)', 1.5);
    for (const v of S.tick?.vcpus ?? []) {
      if (v.waitGpa === null) continue;
      const page = pageOfGpa(v.waitGpa);
      if (page >= 0) ring(Math.floor(page / S.start.pagesPerCell), '#e03131', 2);
    }
  }

  // ---------------------------------------------------------------- vCPU lanes
  const LANE_COL = 3;
  /** Past this many vCPUs the lanes are one canvas, a row of pixels per vCPU, and a summary line. */
  const COMPACT_OVER = 16;
  function initLanes(n) {
    const box = $('lanes');
    box.textContent = '';
    S.lanesHistory = [];
    S.compact = n > COMPACT_OVER;
    const cv = $('lanes-compact');
    cv.hidden = !S.compact;
    box.hidden = S.compact;
    $('lanes-summary').textContent = '';
    if (S.compact) {
      S.rowPx = n <= 64 ? 5 : n <= 128 ? 3 : 2;
      cv.width = 360; cv.height = n * S.rowPx;
      cv.dataset.lanes = String(n);
      cv.getContext('2d').clearRect(0, 0, cv.width, cv.height);
      return;
    }
    for (let v = 0; v < n; v++) {
      const row = document.createElement('div');
      row.className = 'lane';
      row.innerHTML = `<span class="name">vCPU ${v}</span><span class="state done">-</span><canvas width="300" height="14"></canvas><span class="wait"></span>`;
      box.appendChild(row);
      S.lanesHistory.push({ row, state: row.children[1], canvas: row.children[2], ctx: row.children[2].getContext('2d'), wait: row.children[3] });
    }
  }
  function stepCompact(tick) {
    const cv = $('lanes-compact'), ctx = cv.getContext('2d'), h = S.rowPx;
    ctx.drawImage(cv, -LANE_COL, 0);
    const count = { running: 0, faulted: 0, waiting: 0, done: 0 };
    let longest = null;
    tick.vcpus.forEach((v, i) => {
      count[v.state] = (count[v.state] ?? 0) + 1;
      if (v.waitGpa !== null && (!longest || v.waitMs > longest.waitMs)) longest = { ...v, i };
      ctx.fillStyle = LANE[v.state] ?? '#999';
      ctx.fillRect(cv.width - LANE_COL, i * h, LANE_COL, Math.max(1, h - (h > 2 ? 1 : 0)));
    });
    $('lanes-summary').textContent = `${tick.vcpus.length} vCPUs, a row each (newest on the right): ${count.running} running · ${count.faulted} faulted · ` +
      `${count.waiting} waiting · ${count.done} done` + (longest ? ` · longest wait: vCPU ${longest.i}, ${fmtUs(longest.waitMs * 1000)} on gpa ${hex(longest.waitGpa)}` : '');
  }
  function stepLanes(tick) {
    if (S.compact) { stepCompact(tick); return; }
    tick.vcpus.forEach((v, i) => {
      const L = S.lanesHistory[i];
      if (!L) return;
      const { ctx, canvas } = L;
      ctx.drawImage(canvas, -LANE_COL, 0);
      ctx.fillStyle = LANE[v.state] ?? '#999';
      ctx.fillRect(canvas.width - LANE_COL, 0, LANE_COL, canvas.height);
      if (L.state.textContent !== v.state) { L.state.textContent = v.state; L.state.className = `state ${v.state}`; }
      L.wait.textContent = v.waitGpa !== null ? `waits on gpa ${hex(v.waitGpa)} · ${fmtUs(v.waitMs * 1000)}` : `${fmtInt(v.faults)} faults · ${fmtInt(v.accesses)} accesses`;
    });
  }

  // ---------------------------------------------------------------- fault record panel (record.js)
  function renderRecord() {
    const f = S.lastRecord;
    if (!f || !uapi.tables) return;
    window.PcsRecord.render(f, uapi.tables, S.start, S.recordCount);
    window.__demo.lastKind = f.record.kind;
    window.__demo.records[f.record.kind] = (window.__demo.records[f.record.kind] ?? 0) + 1;
  }

  // ---------------------------------------------------------------- charts (uPlot)
  const charts = {};
  function makeCharts() {
    const w = (id) => Math.max(200, $(id).clientWidth || 280);
    const base = (id, series, axes, extra = {}) => new uPlot({
      width: w(id), height: 170, scales: { x: { time: false } }, legend: { show: true }, cursor: { drag: { x: false, y: false } },
      series: [{ label: 't (s)' }, ...series], axes, ...extra,
    }, [[], ...series.map(() => [])], $(id));
    const xAxis = { label: 's', size: 28, labelSize: 14 };
    const si = (u, vals) => vals.map((v) => (v == null ? '' : Math.abs(v) >= 1e6 ? `${+(v / 1e6).toFixed(1)}M` : Math.abs(v) >= 1e3 ? `${+(v / 1e3).toFixed(1)}k` : `${+v.toFixed(2)}`));
    charts.rate = base('ch-rate', [
      { label: 'faults/s', stroke: '#e8590c', width: 1.5, scale: 'y' },
      { label: 'accesses/s', stroke: '#2f9e44', width: 1, scale: 'acc' },
    ], [xAxis, { scale: 'y', size: 44, values: si }, { scale: 'acc', side: 1, size: 44, grid: { show: false }, values: si }]);
    charts.block = base('ch-block', [{ label: 'blocktime (ms)', stroke: '#e03131', width: 1.5, fill: 'rgba(224,49,49,.08)' }], [xAxis, { size: 44, values: si }]);
    charts.bytes = base('ch-bytes', [{ label: 'MiB', stroke: '#4269d0', width: 1.5, fill: 'rgba(66,105,208,.08)' }], [xAxis, { size: 44, values: si }]);
    const labels = Array.from({ length: 24 }, (_, i) => { const us = 2 ** i; return us >= 1e6 ? `${us / 1e6 | 0}s` : us >= 1000 ? `${Math.round(us / 1000)}ms` : `${us}µs`; });
    charts.hist = new uPlot({
      width: w('ch-hist'), height: 170, scales: { x: { time: false, range: [-0.5, 23.5] } }, legend: { show: false }, cursor: { show: false },
      series: [{}, { label: 'faults', fill: 'rgba(130,80,223,.5)', stroke: '#8250df', paths: uPlot.paths.bars({ size: [0.85] }), points: { show: false } }],
      axes: [{ values: (u, ticks) => ticks.map((t) => labels[t] ?? ''), splits: () => [0, 5, 10, 15, 20], size: 28 }, { size: 44, values: si }],
    }, [Array.from({ length: 24 }, (_, i) => i), new Array(24).fill(0)], $('ch-hist'));
  }
  function resetSeries() {
    for (const k of Object.keys(S.series)) S.series[k] = [];
    S.chartsDirty = true;
  }
  function pushPoint(t, faultRate, accRate, block, bytes) {
    const s = S.series;
    s.t.push(t / 1000); s.faultRate.push(faultRate); s.accRate.push(accRate); s.block.push(block); s.mib.push(bytes / 2 ** 20);
    if (s.t.length > MAX_POINTS) for (const k of Object.keys(s)) s[k] = s[k].filter((_, i) => i % 2 === 0);
    S.chartsDirty = true;
  }
  function drawCharts() {
    const s = S.series;
    charts.rate.setData([s.t, s.faultRate, s.accRate]);
    charts.block.setData([s.t, s.block]);
    charts.bytes.setData([s.t, s.mib]);
    if (S.tick) charts.hist.setData([Array.from({ length: 24 }, (_, i) => i), S.tick.latencyBuckets.slice(0, 24)]);
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
  }

  // ---------------------------------------------------------------- the event stream
  function resetRun(msg) {
    S.run = msg.run; S.start = null; S.tick = null; S.end = null; S.faults = []; S.lastRecord = null; S.recordCount = 0;
    window.__demo = { run: msg.run, status: msg.status, ticks: 0, faults: 0, presentCells: 0, lastKind: '', records: {} };
    resetSeries();
    $('end-summary').textContent = '';
    $('record').dataset.kind = ''; $('record').dataset.count = '0';
    $('record-head').textContent = 'no fault yet';
    $('record-body').innerHTML = '<p class="hint">Waiting for the first fault…</p>';
    for (const id of ['k-present', 'k-faults', 'k-rate', 'k-blocked', 'k-blocktime', 'k-queue', 'k-bytes', 'k-time']) $(id).textContent = '-';
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
        for (const [t, fr, bt, bytes, , ar] of e.points) pushPoint(t, fr, ar, bt, bytes);
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
        pushPoint(e.tMs, e.faultsPerSec, e.accessesPerSec, e.blocktimeMs, e.bytesReceived);
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
    if (S.chartsDirty) { S.chartsDirty = false; drawCharts(); }
    if (S.faults.length) setTimeout(schedule, 250); // let the fault rings fade
  }

  function connect() {
    const es = new EventSource('/events');
    es.onmessage = (m) => { try { onEvent(JSON.parse(m.data)); } catch (err) { console.error(err); } };
    es.onerror = () => { if (S.status !== 'running') setStatus(S.status, 'reconnecting…'); };
  }

  makeCharts();
  loadConfig().then(connect, (e) => { $('control-error').textContent = `cannot load the configuration: ${e.message}`; });
})();

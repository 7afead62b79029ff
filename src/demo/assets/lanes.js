// postcopy-sim live demo: the vCPU lanes. One row per vCPU scrolling left a column per tick,
// coloured by its state (running, faulted, waiting, done); past 16 vCPUs one canvas with a row of
// pixels each and a summary line. demo.js calls window.PcsLanes.init at a run's start and .step
// on every tick.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const LANE = { running: '#2f9e44', faulted: '#f59f00', waiting: '#e03131', done: '#adb5bd' };
  const fmtInt = (x) => Math.round(x).toLocaleString('en-US');
  function fmtUs(us) { return us >= 1e6 ? `${+(us / 1e6).toFixed(2)} s` : us >= 1000 ? `${+(us / 1000).toFixed(2)} ms` : `${+us.toFixed(1)} µs`; }
  const hex = (n) => `0x${BigInt(n).toString(16)}`;
  const S = { lanesHistory: [], compact: false, rowPx: 5 };

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

  window.PcsLanes = { init: initLanes, step: stepLanes };
})();

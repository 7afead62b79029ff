// postcopy-sim live demo: the guest-memory grid. One cell per page (or group of pages), coloured by
// how its pages arrived (pushed, demand-fetched, zero), repainted only where a tick changed it; an
// overlay rings the pages vCPUs wait on and the latest faults. It draws from the page's state object
// (demo.js passes it to window.PcsGrid.attach) and owns the grid's fields of it.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const COLORS = { missing: [223, 227, 234], pushed: [66, 105, 208], demand: [232, 89, 12], zero: [154, 165, 180] };
  const fmtInt = (x) => Math.round(x).toLocaleString('en-US');
  function fmtBytes(b) { return b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : `${(b / 1024).toFixed(0)} KiB`; }

  function attach(S) {
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
    return { init: initGrid, draw: drawGrid, overlay: drawOverlay };
  }

  window.PcsGrid = { attach };
})();

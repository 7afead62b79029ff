// postcopy-sim live demo: the four uPlot charts (fault rate and guest progress, the latency
// histogram, blocktime, bytes moved) and the series behind them, thinned when long. demo.js pushes
// a point per tick and draws at most once per animation frame (window.PcsCharts).
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const MAX_POINTS = 3000;
  const S = { series: { t: [], faultRate: [], accRate: [], block: [], mib: [] } };
  const API = { dirty: false };

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
    API.dirty = true;
  }
  function pushPoint(t, faultRate, accRate, block, bytes) {
    const s = S.series;
    s.t.push(t / 1000); s.faultRate.push(faultRate); s.accRate.push(accRate); s.block.push(block); s.mib.push(bytes / 2 ** 20);
    if (s.t.length > MAX_POINTS) for (const k of Object.keys(s)) s[k] = s[k].filter((_, i) => i % 2 === 0);
    API.dirty = true;
  }
  function drawCharts(tick) {
    API.dirty = false;
    const s = S.series;
    charts.rate.setData([s.t, s.faultRate, s.accRate]);
    charts.block.setData([s.t, s.block]);
    charts.bytes.setData([s.t, s.mib]);
    if (tick) charts.hist.setData([Array.from({ length: 24 }, (_, i) => i), tick.latencyBuckets.slice(0, 24)]);
  }

  Object.assign(API, { make: makeCharts, reset: resetSeries, push: pushPoint, draw: drawCharts });
  window.PcsCharts = API;
})();

/**
 * Human-readable output: the side-by-side summary table of one or more runs.
 */
import type { RunResult } from '../model/result.js';
import { formatBytes, formatRate } from '../units.js';

const n = (x: number) => x.toLocaleString('en-US');
const us = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} ms` : `${x.toFixed(1)} us`);

type Row = [label: string, cell: (r: RunResult) => string];

const ROWS: Row[] = [
  ['mode', (r) => (r.mode === 'uffd' ? `uffd (${r.uffdQueues > 1 ? `${r.uffdQueues} queues` : `1 queue, ${r.handlers} handler${r.handlers > 1 ? 's' : ''}`})` : r.mode)],
  ['strategy', (r) => r.strategy],
  ['vCPUs', (r) => String(r.vcpus)],
  ['guest', (r) => `${formatBytes(r.memoryBytes)} in ${r.memslots} memslot${r.memslots > 1 ? 's' : ''}, ${formatBytes(r.pageSize)} pages`],
  ['workload', (r) => `${r.workload}${r.partition ? ' (partitioned)' : ''}, ${Math.round(r.writeRatio * 100)}% writes`],
  ['link', (r) => (r.bandwidthBps === null && r.latencyUs === 0 ? 'none / unlimited' : `${formatRate(r.bandwidthBps ?? Infinity)}, ${r.latencyUs} us`)],
  ['guest accesses', (r) => n(r.accesses)],
  ['faults (read/write)', (r) => `${n(r.faults)} (${n(r.faultsByFlags.read)}/${n(r.faultsByFlags.write)})`],
  ['fault records by kind', (r) => `${r.faultRecords.arch}, ${r.faultRecords.record}: ` +
    (Object.entries(r.faultRecords.byKind).filter(([, c]) => c.records > 0).map(([k, c]) => `${k} ${n(c.records)}`).join(' · ') || 'none')],
  ['records a syndrome saves / uffd loses', (r) => `${n(r.faultRecords.avoidableRecords)} / ${n(r.faultRecords.uffdLost)}`],
  ['faults/s', (r) => n(r.faultsPerSec)],
  ['fault latency p50', (r) => us(r.faultLatencyUs.p50)],
  ['fault latency p90', (r) => us(r.faultLatencyUs.p90)],
  ['fault latency p99', (r) => us(r.faultLatencyUs.p99)],
  ['fault latency p99.9', (r) => us(r.faultLatencyUs.p999)],
  ['fault latency max', (r) => us(r.faultLatencyUs.max)],
  ['blocktime (all vCPUs)', (r) => `${r.blocktimeMs.toFixed(1)} ms`],
  ['vCPU blocktime (mean)', (r) => `${(r.vcpuBlocktimeMs.reduce((a, b) => a + b, 0) / r.vcpus).toFixed(1)} ms`],
  ['guest time', (r) => `${r.guestMs.toFixed(1)} ms`],
  ['migration time', (r) => `${r.migrationMs.toFixed(1)} ms`],
  ['precopy / downtime', (r) => (r.strategy === 'hybrid' ? `${r.precopyMs.toFixed(1)} ms / ${r.downtimeMs.toFixed(2)} ms (${r.precopyRounds} rounds)` : '-')],
  ['pages demand / pushed', (r) => `${n(r.pagesDemand)} / ${n(r.pagesPushed)}`],
  ['zero pages', (r) => n(r.zeroPages)],
  ['merged faults', (r) => n(r.mergedFaults)],
  ['prefetched / urgent pages', (r) => `${n(r.pagesPrefetched)} / ${n(r.pagesUrgent)}`],
  ['resent / discarded pages', (r) => `${n(r.pagesResent)} / ${n(r.pagesDiscarded)}`],
  ['duplicate copies (EEXIST)', (r) => n(r.duplicatePages)],
  ['demand queueing mean/max', (r) => `${us(r.demandQueueUs.mean)} / ${us(r.demandQueueUs.max)}`],
  ['fault time: simulator threads', (r) => (r.faultBreakdownUs ? `${us(r.faultBreakdownUs.toFetcher + r.faultBreakdownUs.atSource + r.faultBreakdownUs.toInstall + r.faultBreakdownUs.toResume)}` : '-')],
  ['fault time: modelled link', (r) => (r.faultBreakdownUs ? `${us(r.faultBreakdownUs.sendQueue + r.faultBreakdownUs.wire)} (queue ${us(r.faultBreakdownUs.sendQueue)})` : '-')],
  ['bytes on wire', (r) => formatBytes(r.bytesOnWire)],
  ['link utilisation', (r) => (r.linkUtilisation === null ? '-' : `${Math.round(r.linkUtilisation * 100)}%`)],
  ['uffd lock contended', (r) => (r.uffd ? `${n(r.uffd.contended)} of ${n(r.uffd.acquires)} (${us(r.uffd.lockWaitUs)} waiting)` : '-')],
  ['guest degradation', (r) => (r.degradation === null ? '-' : `${(r.degradation * 100).toFixed(1)}% (baseline ${n(r.baselineAccessesPerSec ?? 0)} accesses/s)`)],
  ['peak RSS', (r) => formatBytes(r.peakRssBytes)],
  ['verified', (r) => (r.verified ? 'true' : `FALSE: ${r.verifyErrors[0]}`)],
];

export function formatSummary(results: RunResult[], headers?: string[]): string {
  const cols = results.map((r, i) => headers?.[i] ?? r.mode);
  const cells = ROWS.map(([label, cell]) => [label, ...results.map(cell)]);
  const table = [['', ...cols], ...cells];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  return table.map((row, i) => {
    const line = row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
    return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
  }).join('\n');
}

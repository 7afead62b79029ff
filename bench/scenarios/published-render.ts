/** The published bench's tables, rendered from its JSON body (bench/results/published.json). */
import { fmtInt, fmtRatio, mdTable } from '../common.js';
import { USERFAULT, type ProfileRun, type PublishedBody, type UserfaultColumn, type VirtualCell } from './published.js';

const k = (x: number) => (x / 1000).toFixed(x >= 100_000 ? 0 : 1);

function seriesTable(p: ProfileRun): string {
  return mdTable(['vCPUs', 'uffd sim', 'uffd pub', 'exits sim', 'exits pub', 'exits sim/pub', 'exit/uffd sim', 'exit/uffd pub', 'ratio of ratios'], p.series.map((s) => {
    const rs = s.exits.pagesPerSec / s.uffd.pagesPerSec, rp = s.publishedExitsK / s.publishedUffdK;
    return [String(s.vcpus), k(s.uffd.pagesPerSec), String(s.publishedUffdK), k(s.exits.pagesPerSec), String(s.publishedExitsK),
      fmtRatio(s.exits.pagesPerSec / 1000 / s.publishedExitsK), fmtRatio(rs), fmtRatio(rp), fmtRatio(rs / rp)];
  }));
}

function userfaultTable(p: ProfileRun): string {
  // an older results file has no no-userfault cell
  const cols = (Object.keys(USERFAULT) as UserfaultColumn[]).filter((c) => p.userfault.every((u) => u.cells[c]));
  const ratioCols = cols.filter((c) => c !== 'exits' && c !== 'no-userfault');
  return mdTable(['vCPUs', ...cols.map((c) => `${c} sim / pub`), ...ratioCols.map((c) => `exits/${c} sim vs pub`)], p.userfault.map((u) => [
    String(u.vcpus),
    ...cols.map((c) => `${fmtInt(u.cells[c].perVcpuPagesPerSec)} / ${fmtInt(u.published[c])}`),
    ...ratioCols.map((c) => `${fmtRatio(u.cells.exits.perVcpuPagesPerSec / u.cells[c].perVcpuPagesPerSec)} vs ${fmtRatio(u.published.exits / u.published[c])}`),
  ]));
}

const pct = (x: number) => `${Math.round(x * 100)}%`;

/** Per row: what bounds it (src/virtual/line-report.ts). */
function breakdownTable(p: ProfileRun): string {
  const rows: VirtualCell[] = [...p.series.flatMap((s) => [s.uffd, s.exits]), ...p.userfault.flatMap((u) => Object.values(u.cells))];
  return mdTable(['vCPUs', 'column', 'bound', 'busiest line', 'busy', 'peak requesters', 'walk entries / fault', 'cold', 'empty reads / fault', 'regime'], rows.map((c) => {
    const b = c.breakdown;
    return [String(c.vcpus), c.column, b.bound, b.busiest.line, pct(b.busiest.busyShare), String(b.busiest.peakContenders), b.walkEntriesPerFault.toFixed(1), pct(b.coldEntryShare), b.emptyReadsPerFault.toFixed(2), b.regime ?? '-'];
  }));
}

export function renderPublished(b: PublishedBody): string {
  const out: string[] = [];
  out.push(`### Published tables vs the virtual engine (${b.cores} modelled cores, ${b.mibPerVcpu} MiB per vCPU)`, '');
  for (const p of b.profiles) {
    const t = p.targets;
    out.push(`#### Profile ${p.profile}`, '');
    out.push('KVM_EXIT_MEMORY_FAULT v7 series (`-u MINOR -s shmem -a -r N` vs exits), overall rate, thousands of pages/s:', '', seriesTable(p), '');
    out.push('KVM Userfault v1 (anonymous memory; one uffd per vCPU on shmem; no-userfault: first touch through GUP, no uffd), per-vCPU rate, pages/s:', '', userfaultTable(p), '');
    out.push(`Shape: one uffd peaks at ${t.uffdPeakVcpus} vCPUs and falls ${t.uffdFallFromPeak.toFixed(1)}x by 256; exits rise ${t.exitsRise.toFixed(1)}x; ` +
      `exits within 2x of published on ${t.exitsWithin2x.filter(Boolean).length}/${t.exitsWithin2x.length} rows; exit/uffd within 2x on ${t.ratioWithin2x.filter(Boolean).length}/${t.ratioWithin2x.length} rows.`);
    for (const [name, ok] of Object.entries(t.met)) out.push(`- ${ok ? 'met' : 'NOT met'}: ${name}`);
    const last = p.series[p.series.length - 1];
    if (last) out.push(`- regime of one uffd at ${last.vcpus} vCPUs: ${last.uffd.breakdown.regime ?? '-'} (${last.uffd.breakdown.walkEntriesPerFault.toFixed(1)} walk entries and ${last.uffd.breakdown.emptyReadsPerFault.toFixed(2)} empty reads per fault)`);
    out.push('');
    out.push(`Per row: serial-bound when one line is busy >= 80% of the guest's time, else latency-bound (series rows first, then the userfault cells):`, '', breakdownTable(p), '');
  }
  out.push('#### Cross-check against this host\'s kernel (native/uffd_paging.c; predicted from this host\'s costs measured in the same run)', '');
  out.push(mdTable(['run', 'measured pages/s', 'predicted', 'error'], b.cross.map((c) => [
    `${c.run}${c.fitted ? ' (sets wakeupUs: no wakelat here)' : ''}`, c.measured === null ? `skipped: ${c.skipped}` : fmtInt(c.measured), fmtInt(c.predicted),
    c.error === null ? '-' : `${c.error >= 0 ? '+' : ''}${Math.round(c.error * 100)}%`]), true), '');
  out.push('#### Over a link: 64 vCPUs, zipf, 256 MiB, 10 Gbit/s, linear, large-host profile', '');
  out.push(mdTable(['fault path', 'p50 us', 'p99 us', 'link use', 'migration ms', 'verified'], b.link.map((l) => [
    l.column, fmtInt(l.p50Us), fmtInt(l.p99Us), l.linkUtilisation === null ? '-' : `${Math.round(l.linkUtilisation * 100)}%`, fmtInt(l.migrationMs), String(l.verified)]), true), '');
  if (b.sensitivity.length) {
    out.push(`#### Sensitivity (large-host profile, ${b.mibPerVcpu} MiB per vCPU as the table): each cost x0.5 and x2, where one uffd peaks and how far it falls`, '');
    const yn = (v: boolean | undefined) => (v === undefined ? '-' : v ? 'met' : 'not met');
    out.push(mdTable(['cost', 'x', 'value', 'peak vCPUs', 'fall to 256', 'peak 2..8', 'fall >= 4x'], b.sensitivity.map((s) => [s.cost, String(s.factor), s.factor === 1 ? '-' : s.value.toFixed(4), String(s.peakVcpus), `${s.fall}x`, yn(s.peakTargetHolds), yn(s.fallTargetHolds)]), true), '');
    const all = (f: (s: (typeof b.sensitivity)[number]) => boolean | undefined) => b.sensitivity.every((s) => f(s) === true);
    out.push(`Across these settings: the peak target ${all((s) => s.peakTargetHolds) ? 'holds at every one' : 'does not hold at every one'}; the fall target ${all((s) => s.fallTargetHolds) ? 'holds at every one' : 'does not hold at every one'}.`, '');
  }
  out.push(`Engine speed: ${fmtInt(b.speed.exits256FaultsPerHostSec)} simulated faults per host second on the 256-vCPU exits row; ` +
    `a default 256-vCPU 1 GiB virtual run took ${fmtInt(b.speed.default256Ms)} ms (verified ${b.speed.default256Verified}).`);
  return `${out.join('\n')}\n`;
}

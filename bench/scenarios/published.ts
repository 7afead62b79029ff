/**
 * published: the virtual engine against the published tables (../shared/uapi.md), from measured costs.
 *
 *   series    the KVM_EXIT_MEMORY_FAULT v7 cover letter: demand_paging_test -a -r N (one uffd, N
 *             readers) vs memory-fault exits, 64 MiB per vCPU (default here 16 MiB, --quick 4 MiB,
 *             --full 64 MiB: the rates are steady-state), 1..256 vCPUs on 256 modelled cores.
 *             Overall paging rate, thousands of pages/s.
 *   userfault the KVM Userfault v1 cover: 2/8/64 vCPUs; one uffd with one reader, one uffd with N
 *             readers, one uffd per vCPU, exits (KVM Userfault). Per-vCPU paging rate, pages/s (read
 *             as per-vCPU: 64 x 3029 = 194 k/s matches the series' one-uffd peak of 210 k/s).
 *   cross     this machine: the virtual engine's prediction of the threaded engine (threads profile)
 *             and of the real kernel (kernel profile) against what calibrate measured, with errors.
 *
 * Exits run as the selftest runs them: the vCPU thread resolves its own fault (exitResolver 'vcpu').
 * Costs: the built-in profile (src/virtual/default-costs.json) with cores = 256; nothing is fitted
 * to the published numbers. Reports simulated faults per second of host time per run.
 */
import { realpathSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveOptions, type ResolvedOptions } from '../../src/options.js';
import { defaultCostProfile, loadCostProfile, type CostModel, type CostProfile } from '../../src/virtual/costs.js';
import { runVirtual, type VirtualOptions } from '../../src/virtual/engine.js';
import { predictPagesPerSec } from '../../src/virtual/calibrate.js';
import { fmtInt, fmtRatio, machineFacts, mdTable, MiB, resolveBenchOptions, type BenchOptions } from '../common.js';

export const SERIES_VCPUS = [1, 2, 4, 8, 16, 32, 64, 128, 256];
/** Thousands of pages/s, overall (uapi.md). */
export const SERIES_UFFD = [150, 191, 210, 155, 130, 108, 86, 62, 36];
export const SERIES_EXITS = [340, 477, 809, 1239, 1595, 2299, 3482, 4134, 4012];
export const USERFAULT_VCPUS = [2, 8, 64];
/** Pages/s per vCPU (uapi.md). */
export const USERFAULT = {
  'uffd-1': [90724, 26059, 3029],
  'uffd-n': [86840, 37912, 1664],
  'uffd-pervcpu': [102661, 56978, 11300],
  exits: [160326, 128247, 39913],
} as const;
export type UserfaultColumn = keyof typeof USERFAULT;

export interface PublishedOptions extends BenchOptions {
  /** Cost profile file; default the built-in one. */
  costs?: string;
  /** MiB per vCPU. @default 16; quick 4; full 64 */
  mibPerVcpu?: number;
  /** Modelled cores. @default 256 */
  cores?: number;
  /** vCPU rows of the series. @default all */
  seriesVcpus?: number[];
}

export interface VirtualCell { vcpus: number; column: string; pagesPerSec: number; perVcpuPagesPerSec: number; faults: number; wallMs: number; faultsPerHostSec: number; verified: boolean }

export interface PublishedBody {
  profile: { date: string; basis: string; machine: Record<string, unknown>; costs: CostModel };
  mibPerVcpu: number;
  cores: number;
  series: Array<{ vcpus: number; uffd: VirtualCell; exits: VirtualCell; publishedUffdK: number; publishedExitsK: number }>;
  userfault: Array<{ vcpus: number; cells: Record<UserfaultColumn, VirtualCell>; published: Record<UserfaultColumn, number> }>;
  cross: Array<{ target: string; run: string; measured: number; predicted: number; error: number; fitted: boolean }>;
  targets: { uffdPeakVcpus: number; uffdFallFromPeak: number; exitsRise: number; ratioWithin2x: boolean[]; met: Record<string, boolean> };
  faultsPerHostSec: number;
}

function opts(vcpus: number, mib: number, mode: 'exit' | 'uffd', seed: number): ResolvedOptions {
  return resolveOptions({
    vcpus, memory: vcpus * mib * MiB, pageSize: 4096, workload: 'sequential', partition: true, accesses: (mib * MiB) / 4096,
    writeRatio: 0, network: 'none', mode, seed,
  });
}

function cell(column: string, o: ResolvedOptions & VirtualOptions, costs: CostModel): VirtualCell {
  const r = runVirtual(o, costs);
  const pagesPerSec = r.faults / (r.guestMs / 1000);
  return {
    vcpus: o.vcpus, column, pagesPerSec: Math.round(pagesPerSec), perVcpuPagesPerSec: r.perVcpuPagesPerSec, faults: r.faults,
    wallMs: r.wallMs, faultsPerHostSec: Math.round(r.faults / Math.max(1, r.wallMs) * 1000), verified: r.verified,
  };
}

/** One uffd variant or exits at `vcpus`, as demand_paging_test runs it. */
export function runColumn(column: UserfaultColumn, vcpus: number, mib: number, costs: CostModel, seed = 1): VirtualCell {
  const base = opts(vcpus, mib, column === 'exits' ? 'exit' : 'uffd', seed);
  switch (column) {
    case 'exits': return cell(column, { ...base, exitResolver: 'vcpu' }, costs);
    case 'uffd-1': return cell(column, { ...base, handlers: 1 }, costs);
    // -r N: N readers on the one uffd (the options cap handlers at 64; the engine takes any count)
    case 'uffd-n': return cell(column, { ...base, handlers: vcpus }, costs);
    case 'uffd-pervcpu': return cell(column, { ...base, uffdPerVcpu: true }, costs);
  }
}

export async function runPublished(po: PublishedOptions = {}): Promise<{ body: PublishedBody; summary: string }> {
  const o = resolveBenchOptions(po);
  const profile: CostProfile = po.costs ? loadCostProfile(po.costs) : defaultCostProfile();
  const cores = po.cores ?? 256;
  const costs: CostModel = { ...profile.costs, cores };
  const mib = po.mibPerVcpu ?? (o.quick ? 4 : o.full ? 64 : 16);
  const t0 = performance.now();
  const series: PublishedBody['series'] = [];
  for (const v of po.seriesVcpus ?? SERIES_VCPUS) {
    const i = SERIES_VCPUS.indexOf(v);
    const uffd = runColumn('uffd-n', v, mib, costs, o.seed);
    const exits = runColumn('exits', v, mib, costs, o.seed);
    o.log(`published: series ${v} vCPUs: uffd ${fmtInt(uffd.pagesPerSec)}, exits ${fmtInt(exits.pagesPerSec)} pages/s`);
    series.push({ vcpus: v, uffd, exits, publishedUffdK: SERIES_UFFD[i]!, publishedExitsK: SERIES_EXITS[i]! });
  }
  const userfault: PublishedBody['userfault'] = [];
  USERFAULT_VCPUS.forEach((v, i) => {
    const cells = {} as Record<UserfaultColumn, VirtualCell>;
    const published = {} as Record<UserfaultColumn, number>;
    for (const c of Object.keys(USERFAULT) as UserfaultColumn[]) { cells[c] = runColumn(c, v, mib, costs, o.seed); published[c] = USERFAULT[c][i]!; }
    o.log(`published: userfault ${v} vCPUs done`);
    userfault.push({ vcpus: v, cells, published });
  });
  // Cross-check on this machine: the profile's measurements against the engine's predictions now.
  const cross: PublishedBody['cross'] = [];
  const m = profile.measured as { threadsRuns?: Array<{ vcpus: number; mode: string; pagesPerSec: number }>; kernel?: Record<string, { pagesPerSec?: number; skipped?: boolean }> };
  if (profile.threads) {
    for (const r of m.threadsRuns ?? []) {
      if (r.mode === 'none') continue;
      const p = predictPagesPerSec(profile.threads, r.vcpus, 1024, r.mode as 'exit' | 'uffd');
      cross.push({ target: 'threaded engine', run: `${r.mode}, ${r.vcpus} vCPU${r.vcpus > 1 ? 's' : ''}`, measured: r.pagesPerSec, predicted: Math.round(p), error: p / r.pagesPerSec - 1, fitted: r.vcpus === 1 });
    }
  }
  if (profile.basis === 'kernel' && m.kernel) {
    const k = m.kernel;
    const host = profile.costs; // the host's own core count
    const rows: Array<[string, string, number, number]> = [['other', '1 thread, 1 reader, handler on the other core', 1, 1], ['twoThreadsOneReader', '2 threads, 1 reader', 2, 1], ['twoThreadsTwoReaders', '2 threads, 2 readers', 2, 2]];
    for (const [key, run, threads, readers] of rows) {
      const got = k[key];
      if (!got || got.skipped || !got.pagesPerSec) continue;
      const p = predictPagesPerSec(host, threads, 1024, 'uffd', { handlers: readers });
      cross.push({ target: 'kernel (userfaultfd)', run, measured: Math.round(got.pagesPerSec), predicted: Math.round(p), error: p / got.pagesPerSec - 1, fitted: false });
    }
  }
  // Targets.
  const uffdRates = series.map((s) => s.uffd.pagesPerSec);
  const peakIdx = uffdRates.indexOf(Math.max(...uffdRates));
  const last = series[series.length - 1]!;
  const uffdFallFromPeak = uffdRates[peakIdx]! / last.uffd.pagesPerSec;
  const exitsRise = last.exits.pagesPerSec / series[0]!.exits.pagesPerSec;
  const ratioWithin2x = [
    ...series.map((s) => within2x((s.exits.pagesPerSec / s.uffd.pagesPerSec) / (s.publishedExitsK / s.publishedUffdK))),
    ...userfault.flatMap((u) => (['uffd-1', 'uffd-n', 'uffd-pervcpu'] as const).map((c) => within2x((u.cells.exits.perVcpuPagesPerSec / u.cells[c].perVcpuPagesPerSec) / (u.published.exits / u.published[c])))),
  ];
  const peakVcpus = series[peakIdx]!.vcpus;
  const targets = {
    uffdPeakVcpus: peakVcpus, uffdFallFromPeak, exitsRise, ratioWithin2x,
    met: {
      'uffd peaks at a few vCPUs (2..8)': peakVcpus >= 2 && peakVcpus <= 8,
      'uffd falls >= 4x from its peak by 256': last.vcpus === 256 && uffdFallFromPeak >= 4,
      'exits rise >= 10x from 1 to 256': last.vcpus === 256 && exitsRise >= 10,
      'exit/uffd ratio within 2x of published in every row': ratioWithin2x.every(Boolean),
    },
  };
  const all = [...series.flatMap((s) => [s.uffd, s.exits]), ...userfault.flatMap((u) => Object.values(u.cells))];
  const faultsPerHostSec = Math.round(all.reduce((a, c) => a + c.faults, 0) / ((performance.now() - t0) / 1000));
  const body: PublishedBody = {
    profile: { date: profile.date, basis: profile.basis, machine: profile.machine, costs }, mibPerVcpu: mib, cores, series, userfault, cross, targets, faultsPerHostSec,
  };
  return { body, summary: renderPublished(body) };
}

const within2x = (r: number) => r >= 0.5 && r <= 2;

export function renderPublished(b: PublishedBody): string {
  const k = (x: number) => (x / 1000).toFixed(x >= 100_000 ? 0 : 1);
  const out: string[] = [];
  out.push(`### Published tables vs the virtual engine (${b.profile.basis} costs measured ${b.profile.date.slice(0, 10)}, ${b.cores} modelled cores, ${b.mibPerVcpu} MiB per vCPU)`);
  out.push('');
  out.push('KVM_EXIT_MEMORY_FAULT v7 series, `demand_paging_test -a -r N`, overall paging rate, thousands of pages/s:');
  out.push('');
  out.push(mdTable(['vCPUs', 'uffd sim', 'uffd pub', 'ratio', 'exits sim', 'exits pub', 'ratio', 'exit/uffd sim', 'exit/uffd pub', 'ratio of ratios'], b.series.map((s) => {
    const rs = s.exits.pagesPerSec / s.uffd.pagesPerSec, rp = s.publishedExitsK / s.publishedUffdK;
    return [String(s.vcpus), k(s.uffd.pagesPerSec), String(s.publishedUffdK), fmtRatio(s.uffd.pagesPerSec / 1000 / s.publishedUffdK),
      k(s.exits.pagesPerSec), String(s.publishedExitsK), fmtRatio(s.exits.pagesPerSec / 1000 / s.publishedExitsK), fmtRatio(rs), fmtRatio(rp), fmtRatio(rs / rp)];
  })));
  out.push('');
  out.push('KVM Userfault v1, per-vCPU paging rate, pages/s (sim / published = ratio):');
  out.push('');
  const cols = Object.keys(USERFAULT) as UserfaultColumn[];
  out.push(mdTable(['vCPUs', ...cols.map((c) => `${c} sim / pub`), ...cols.filter((c) => c !== 'exits').map((c) => `exits/${c} sim vs pub`)], b.userfault.map((u) => [
    String(u.vcpus),
    ...cols.map((c) => `${fmtInt(u.cells[c].perVcpuPagesPerSec)} / ${fmtInt(u.published[c])} = ${fmtRatio(u.cells[c].perVcpuPagesPerSec / u.published[c])}`),
    ...cols.filter((c) => c !== 'exits').map((c) => `${fmtRatio(u.cells.exits.perVcpuPagesPerSec / u.cells[c].perVcpuPagesPerSec)} vs ${fmtRatio(u.published.exits / u.published[c])}`),
  ])));
  out.push('');
  out.push('Cross-check on this machine (rows marked fitted set the two residual costs; the others are predictions):');
  out.push('');
  out.push(mdTable(['target', 'run', 'measured pages/s', 'predicted', 'error'], b.cross.map((c) => [c.target, `${c.run}${c.fitted ? ' (fitted)' : ''}`, fmtInt(c.measured), fmtInt(c.predicted), `${c.error >= 0 ? '+' : ''}${Math.round(c.error * 100)}%`]), true));
  out.push('');
  const t = b.targets;
  out.push(`Targets: uffd peaks at ${t.uffdPeakVcpus} vCPUs and falls ${t.uffdFallFromPeak.toFixed(1)}x by 256; exits rise ${t.exitsRise.toFixed(1)}x from 1 to 256; ` +
    `exit/uffd ratio within 2x of published in ${t.ratioWithin2x.filter(Boolean).length}/${t.ratioWithin2x.length} rows.`);
  for (const [name, ok] of Object.entries(t.met)) out.push(`- ${ok ? 'met' : 'NOT met'}: ${name}`);
  out.push('');
  out.push(`Simulated faults per second of host time: ${fmtInt(b.faultsPerHostSec)}.`);
  return `${out.join('\n')}\n`;
}

/** Runs the scenario, writes `<out>/published.json`, prints the summary (also the runner hook). */
export async function runPublishedScenario(po: PublishedOptions = {}): Promise<PublishedBody> {
  const o = resolveBenchOptions(po);
  const started = performance.now();
  const { body, summary } = await runPublished(po);
  mkdirSync(o.outDir, { recursive: true });
  const file = join(o.outDir, 'published.json');
  writeFileSync(file, `${JSON.stringify({ scenario: 'published', date: new Date().toISOString(), seed: o.seed, quick: o.quick, full: o.full, machine: machineFacts(), durationMs: Math.round(performance.now() - started), notes: [], body }, null, 2)}\n`);
  process.stdout.write(summary);
  return body;
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  const quick = process.argv.includes('--quick'), full = process.argv.includes('--full');
  const outAt = process.argv.indexOf('--out');
  runPublishedScenario({ quick, full, ...(outAt > 0 && process.argv[outAt + 1] ? { outDir: process.argv[outAt + 1]! } : {}) }).then(() => {}, (e: unknown) => { process.stderr.write(`published: ${(e as Error).stack}\n`); process.exit(1); });
}

/**
 * The benchmark report: renders the markdown summary from the scenario results (the objects the
 * scenarios return, or the `bench/results/*.json` they wrote) and computes the targets of issue 3
 * from the measured numbers. The runner prints it; scripts/readme-bench.mjs puts the same text
 * into the README, so the README never holds a hand-typed number.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  fmtBytes,
  fmtInt,
  fmtMiB,
  fmtNum,
  fmtPct,
  fmtRatio,
  MiB,
  mdTable,
  SCENARIOS,
  DOCS_RESULTS,
  type MachineFacts,
  type ResultEnvelope,
  type ScenarioName,
} from './common.js';
import type { FloorsResult } from './scenarios/floors.js';
import { KERNEL_COLUMNS, type KernelResult } from './scenarios/kernel.js';
import type { NetworkResult } from './scenarios/network.js';
import type { PipelineResult } from './scenarios/pipeline.js';
import { renderSoak } from './scenarios/soak.js';
import { renderPublished } from './scenarios/published-render.js';
import { renderFaultRecords } from './scenarios/fault-records.js';
import { type findCell, PAGING_COLUMNS, type PagingRateResult } from './scenarios/paging-rate.js';
import { LINEAR_TOLERANCE, type ScaleResult } from './scenarios/scale.js';
import { renderWorkloads } from './scenarios/workloads.js';
import type { Results } from './results.js';
import { renderFrontDoor } from './scenarios/front-door.js';
import { renderEngineSpeed } from './scenarios/engine-speed.js';
import { computeTargets } from './targets.js';
import { QUICK_TIME, renderBenchTime } from './bench-time.js';

export type { Results } from './results.js';

export { computeTargets, type Target, type TargetStatus } from './targets.js';

/** Reads every `<dir>/<scenario>.json` there is, and the docs generators' results (DOCS_RESULTS). */
export function loadResults(dir: string): Results {
  const out: Record<string, unknown> = {};
  for (const name of [...SCENARIOS, ...DOCS_RESULTS, QUICK_TIME]) {
    const file = join(dir, `${name}.json`);
    if (existsSync(file)) out[name] = JSON.parse(readFileSync(file, 'utf8'));
  }
  return out as Results;
}

function present(results: Results): Array<ResultEnvelope<ScenarioName, unknown>> {
  return SCENARIOS.map((n) => results[n] as ResultEnvelope<ScenarioName, unknown> | undefined).filter((r) => r !== undefined);
}

/** Runs that failed or did not verify: these make the runner exit non-zero. Skips are not failures. */
export function failures(results: Results): string[] {
  const out: string[] = [];
  for (const c of results['paging-rate']?.body.cells ?? [])
    if (c.error || !c.verified) out.push(`paging-rate ${c.vcpus} vCPU ${c.column}: ${c.error ?? 'not verified'}`);
  for (const k of results.kernel?.body.cells ?? [])
    if (!k.run.verified || k.run.copyErrors > 0) out.push(`kernel ${k.threads} threads ${k.column}: not verified or copy errors`);
  for (const s of results.scale?.body.rows ?? [])
    if (!s.skipped && (s.error || !s.verified)) out.push(`scale ${fmtMiB(s.guestMiB)}: ${s.error ?? 'not verified'}`);
  for (const n of results.network?.body.rows ?? []) if (n.error || !n.verified) out.push(`network ${n.gbit} Gbit/s: ${n.error ?? 'not verified'}`);
  for (const c of results.workloads?.body.cells ?? [])
    if (c.error || !c.verified) out.push(`workloads ${c.workload} ${c.engine} ${c.strategy}: ${c.error ?? 'not verified'}`);
  const pub = results.published?.body;
  if (
    pub?.profiles
      .flatMap((p) => [...p.series.flatMap((s) => [s.uffd, s.exits]), ...p.userfault.flatMap((u) => Object.values(u.cells))])
      .some((c) => !c.verified)
  ) {
    out.push('published: a virtual-engine cell did not verify');
  }
  for (const f of results['fault-records']?.body.rows ?? [])
    if (f.error || !f.verified) out.push(`fault-records ${f.engine} ${f.arch} ${f.mode} ${f.record}: ${f.error ?? 'not verified'}`);
  for (const f of results['front-door']?.body.rows ?? []) if (!f.verified) out.push(`front-door ${f.id}: a run failed or did not verify`);
  for (const e of results['engine-speed']?.body.rows ?? []) if (!e.verified) out.push(`engine-speed ${e.mode}: not verified`);
  return out;
}

// ---- markdown -----------------------------------------------------------------------------

function machineLine(m: MachineFacts): string {
  const commit = m.commit ? `${m.commit}${m.dirty ? ' (with uncommitted changes)' : ''}` : 'unknown';
  return `${m.cpuModel}, ${m.cores} cores, ${fmtBytes(m.totalMemoryBytes)} RAM, ${m.platform} ${m.kernel}, Node ${m.node}, commit ${commit}`;
}

function provenance(r: ResultEnvelope<ScenarioName, unknown>, head: ResultEnvelope<ScenarioName, unknown>): string {
  const same =
    r.machine.commit === head.machine.commit &&
    r.seed === head.seed &&
    r.quick === head.quick &&
    r.full === head.full &&
    r.date.slice(0, 10) === head.date.slice(0, 10);
  if (same) return '';
  return `_From another run: ${r.date.slice(0, 16).replace('T', ' ')} UTC, commit ${r.machine.commit ?? 'unknown'}, seed ${r.seed}${r.quick ? ', quick' : r.full ? ', full' : ''}._\n\n`;
}

function notes(r: { notes: string[] }): string {
  return r.notes.length ? `\n\n${r.notes.map((n) => `- ${n}`).join('\n')}` : '';
}

function pagingSection(p: PagingRateResult, h: string): string {
  const b = p.body;
  const cols = PAGING_COLUMNS.filter((c) => b.columns.includes(c));
  const table = (cell: (c: NonNullable<ReturnType<typeof findCell>>) => string) =>
    mdTable(
      ['vCPUs', ...cols],
      b.rows.map((v) => [
        String(v),
        ...cols.map((col) => {
          const c = b.cells.find((x) => x.vcpus === v && x.column === col);
          if (!c) return '-';
          if (c.error) return 'failed';
          return `${cell(c)}${c.oversubscribed ? '*' : ''}`;
        }),
      ]),
    );
  return [
    `${h} Paging rate (demand_paging_test analogue)`,
    `Each vCPU touches every 4 KiB page of its own ${b.mibPerVcpu} MiB slice once, no network: only the fault path is timed. ` +
      `Read it like the published demand_paging_test tables (the KVM_EXIT_MEMORY_FAULT v7 and KVM Userfault cover letters): the overall rate per column as vCPUs grow. ` +
      `Absolute numbers are not comparable with a 256-core x86 host; the shape and the kernel ratios below are. ` +
      `* = more threads than the ${b.cores} cores of this machine.`,
    `**Overall paging rate (pages/s)**\n\n${table((c) => fmtInt(c.pagesPerSec))}`,
    `**Per-vCPU paging rate (pages/s/vCPU)**\n\n${table((c) => fmtInt(c.perVcpuPagesPerSec))}`,
    `**Total guest time (ms)**\n\n${table((c) => fmtNum(c.guestMs, 1))}`,
    `**Fault latency p50 / p99 (us)**\n\n${table((c) => (c.column === 'none' ? '-' : `${fmtNum(c.faultLatencyUs.p50, 1)} / ${fmtNum(c.faultLatencyUs.p99, 1)}`))}${notes(p)}`,
  ].join('\n\n');
}

function floorsSection(f: FloorsResult, h: string): string {
  const fl = f.body.floors;
  const rt = mdTable(
    ['floor (round trip between two workers)', 'p50 us', 'p99 us', 'round trips/s'],
    (['atomicsBlocking', 'atomicsSpin', 'messagePort', 'messagePortPolled'] as const).map((m) => [
      m,
      fmtNum(fl[m].p50Us, 2),
      fmtNum(fl[m].p99Us, 2),
      fmtInt(fl[m].roundTripsPerSec),
    ]),
  );
  const ratios = mdTable(
    ['mode (1 vCPU)', 'sim us/fault', 'sim p50 us', 'floor used', 'floor us/fault (round trip + copy)', 'sim / floor'],
    f.body.ratios.map((x) => [x.column, fmtNum(x.simPerFaultUs, 2), fmtNum(x.simP50Us, 2), x.floor, fmtNum(x.floorPerFaultUs, 2), fmtRatio(x.ratio)]),
  );
  return [
    `${h} Runtime floors`,
    rt,
    `Page copy into a SharedArrayBuffer: ${fmtNum(fl.pageCopy.page4kNs, 0)} ns per 4 KiB, ${fmtNum(fl.pageCopy.page2mNs / 1000, 1)} us per 2 MiB ` +
      `(${fl.durationMs} ms per floor, spin ${fl.spinUs} us, ${fl.cpus} CPUs). Simulator numbers: ${f.body.simSource}.`,
    `${ratios}${notes(f)}`,
  ].join('\n\n');
}

function kernelSection(k: KernelResult, h: string): string {
  const b = k.body;
  if (b.skipped) return `${h} Kernel baseline (real userfaultfd)\n\nSkipped: ${b.skipReason}.`;
  const rates = mdTable(
    ['threads', ...KERNEL_COLUMNS.map((c) => `${c} pages/s (p50 us)`)],
    b.rows.map((t) => [
      String(t),
      ...KERNEL_COLUMNS.map((col) => {
        const c = b.cells.find((x) => x.threads === t && x.column === col);
        return c ? `${fmtInt(c.run.pagesPerSec)} (${fmtNum(c.run.faultLatencyUs.p50, 1)})` : '-';
      }),
    ]),
  );
  const ratios = mdTable(
    ['threads', 'exit / best kernel', 'exit-self / best kernel', 'uffd-1 / single/1', 'uffd-n / single/N', 'uffd-pervcpu / per-thread'],
    b.ratios.map((x) => [
      String(x.threads),
      `${fmtRatio(x.exitVsBest)}${x.bestKernel ? ` (${x.bestKernel})` : ''}`,
      fmtRatio(x.exitSelfVsBest ?? null),
      fmtRatio(x['uffd-1']),
      fmtRatio(x['uffd-n']),
      fmtRatio(x['uffd-pervcpu']),
    ]),
  );
  const cal = b.calibration;
  const calLine =
    cal.same || cal.other
      ? `Calibration, one thread, one real fault round trip: handler on the same CPU p50 ${fmtNum(cal.same?.faultLatencyUs.p50, 1)} us, ` +
        `on the other CPU p50 ${fmtNum(cal.other?.faultLatencyUs.p50, 1)} us; ordinary first-touch fault ${fmtNum(cal.same?.firstTouchUsPerPage ?? cal.other?.firstTouchUsPerPage, 1)} us.`
      : cal.skipReason
        ? `Calibration skipped: ${cal.skipReason}.`
        : '';
  return [
    `${h} Kernel baseline (real userfaultfd, native/uffd_paging.c)`,
    `The same experiment on real userfaultfd with UFFDIO_COPY, ${b.mibPerThread} MiB per thread. Simulator numbers: ${b.simSource}.`,
    rates,
    `**Simulator / kernel, overall paging rate**\n\n${ratios}`,
    `${calLine}${notes(k)}`,
  ].join('\n\n');
}

function scaleSection(s: ScaleResult, h: string): string {
  const b = s.body;
  const table = mdTable(
    ['guest', 'wall ms', 'migration ms', 'faults/s', 'peak RSS', 'RSS - guest', 'RSS per GiB of guest'],
    b.rows.map((r) =>
      r.skipped
        ? [fmtMiB(r.guestMiB), `skipped: ${r.skipped}`, '', '', '', '', '']
        : r.error
          ? [fmtMiB(r.guestMiB), `failed: ${r.error}`, '', '', '', '', '']
          : [
              fmtMiB(r.guestMiB),
              fmtInt(r.wallMs),
              fmtInt(r.migrationMs),
              fmtInt(r.faultsPerSec),
              fmtBytes(r.peakRssBytes),
              `${fmtInt(r.rssOverGuestBytes / MiB)} MiB`,
              fmtBytes(r.rssPerGuestGiBBytes),
            ],
    ),
  );
  const growth = b.growth
    .map((g) => `${fmtMiB(g.fromMiB)} -> ${fmtMiB(g.toMiB)}: wall x^${g.wallExponent.toFixed(2)}, RSS x^${g.rssExponent.toFixed(2)}`)
    .join('; ');
  const verdict =
    b.linear === null
      ? 'Fewer than two sizes measured: linearity not judged.'
      : b.linear
        ? `Cost grows at most linearly (every growth exponent <= ${LINEAR_TOLERANCE}): ${growth}.`
        : `Cost grows faster than linearly somewhere (a growth exponent > ${LINEAR_TOLERANCE}): ${growth}.`;
  return [
    `${h} Scale (${b.vcpus} vCPUs, default link, one fresh process per size)`,
    table,
    `Idle runtime RSS (a child that loaded the library and ran nothing): ${fmtBytes(b.idleRssBytes)}. ${verdict}${notes(s)}`,
  ].join('\n\n');
}

function networkSection(n: NetworkResult, h: string): string {
  const b = n.body;
  const table = mdTable(
    ['Gbit/s', 'migration ms', 'wire bound ms', 'migration / wire', 'link utilisation', 'runs', 'pages demand / pushed', 'fault p50 / p99 us'],
    b.rows.map((r) =>
      r.error
        ? [String(r.gbit), `failed: ${r.error}`, '', '', '', '', '', '']
        : [
            String(r.gbit),
            fmtNum(r.migrationMs, 1),
            fmtNum(r.wireMs, 1),
            fmtRatio(r.overWire),
            fmtPct(r.linkUtilisation),
            r.runUtilisations ? r.runUtilisations.map((u) => fmtPct(u)).join(', ') : '1',
            `${fmtInt(r.pagesDemand)} / ${fmtInt(r.pagesPushed)}`,
            `${fmtNum(r.faultLatencyUs.p50, 1)} / ${fmtNum(r.faultLatencyUs.p99, 1)}`,
          ],
    ),
  );
  return [`${h} Network (${fmtMiB(b.memoryMiB)} guest, ${b.vcpus} vCPUs, ${b.latencyUs} us latency)`, `${table}${notes(n)}`].join('\n\n');
}

function pipelineSection(p: PipelineResult, h: string): string {
  const b = p.body;
  const table = mdTable(
    ['pass', 'CPU us per page', 'wall us per page', 'source (derive onto the wire)', 'destination (off the wire, install)'],
    b.passes.map((x, i) => [String(i + 1), fmtNum(x.cpuUs, 3), fmtNum(x.perPageUs, 3), fmtNum(x.sourceUs, 3), fmtNum(x.destinationUs, 3)]),
  );
  return [
    `${h} Pipeline (host time per pushed 4 KiB page, both ends of the wire in one thread, ${fmtMiB(b.memoryMiB)} per pass)`,
    `${table}\n\nCPU time per page: median ${fmtNum(b.medianUs, 3)} us, best ${fmtNum(b.bestUs, 3)} us (wall: median ${fmtNum(b.wallMedianUs, 3)} us; source and destination split the wall time).${notes(p)}`,
  ].join('\n\n');
}

export function renderTargets(results: Results, h = '###'): string {
  const rows = computeTargets(results).map((t) => [
    String(t.issue ?? 3),
    t.target,
    t.measured,
    t.status === 'met' ? 'met' : t.status === 'not met' ? '**not met**' : 'not measured',
  ]);
  return `${h} Targets (issues 3, 11 and 21; computed from the numbers above, not asserted)\n\n${mdTable(['issue', 'target', 'measured', 'result'], rows, true)}`;
}

/** The whole summary; sections for the scenarios present, in runner order.
 * @param level markdown level of the title (sections one below): 2 on stdout, 3 inside the README.
 * @param title the title line's text. */
export function renderSummary(results: Results, level = 2, title = 'postcopy-sim benchmarks'): string {
  const h = '#'.repeat(level + 1);
  const all = present(results);
  if (all.length === 0) return '_No benchmark results._\n';
  // The header describes the newest result; older ones say where they came from.
  const head = all.reduce((a, b) => (b.date > a.date ? b : a));
  const mode = head.full ? 'full' : head.quick ? 'quick' : 'default';
  const parts: string[] = [
    `${'#'.repeat(level)} ${title}`,
    `${machineLine(head.machine)}. Seed ${head.seed}, ${mode} run, ${head.date.slice(0, 16).replace('T', ' ')} UTC. ` +
      `Generated from the JSON results of \`npm run bench\`, not typed.`,
  ];
  const section = (name: ScenarioName, render: () => string) => {
    const r = results[name] as ResultEnvelope<ScenarioName, unknown> | undefined;
    if (!r) return;
    const text = render();
    const cut = text.indexOf('\n\n'); // after the section's heading
    parts.push(cut < 0 ? text : `${text.slice(0, cut + 2)}${provenance(r, head)}${text.slice(cut + 2)}`);
  };
  section('paging-rate', () => pagingSection(results['paging-rate']!, h));
  section('floors', () => floorsSection(results.floors!, h));
  section('kernel', () => kernelSection(results.kernel!, h));
  section('pipeline', () => pipelineSection(results.pipeline!, h));
  section('scale', () => scaleSection(results.scale!, h));
  section('network', () => networkSection(results.network!, h));
  section('published', () => renderPublished(results.published!.body).replace(/^### /, `${h} `));
  section('soak', () => renderSoak(results.soak!.body).replace(/^### /, `${h} `));
  section('workloads', () => `${renderWorkloads(results.workloads!.body, h)}${notes(results.workloads!)}`);
  section('fault-records', () => renderFaultRecords(results['fault-records']!.body, h));
  section('front-door', () => renderFrontDoor(results['front-door']!.body, h));
  section('engine-speed', () => renderEngineSpeed(results['engine-speed']!, h));
  parts.push(renderBenchTime(results, h));
  parts.push(renderTargets(results, h));
  const failed = failures(results);
  if (failed.length) parts.push(`${h} Failed runs\n\n${failed.map((f) => `- ${f}`).join('\n')}`);
  return `${parts.join('\n\n')}\n`;
}

/**
 * fault-records: what an arch-neutral fault record costs, against one that carries the raw syndrome
 * (issue 14; the debate of the KVM_EXIT_MEMORY_FAULT v7 thread), per fault kind.
 *
 * What it measures: one guest that produces every kind at once (instruction fetches, its own 4-level
 * stage-1 table in guest memory, MTE-tagged regions on arm64, a confidential guest's conversions),
 * migrated over a 10 Gbit/s, 50 us link, once with each record. Pages move only on faults (strategy
 * demand, then a sweep): a background push would decide which pages are still missing when the
 * guest gets there, and here only the records' own effect should show. Per kind:
 * the records handed to userspace (exits), the round trips to the source they cost, the pages those
 * brought, and the vCPU time they blocked; the difference between the two records is what the
 * arch-neutral one causes. The same guest in uffd mode (not confidential: userfaultfd cannot register
 * guest_memfd) gives what a userfaultfd handler sees, and how many records lose their meaning there.
 *
 * Engines: the virtual engine (deterministic, modelled time: the numbers depend only on the seed and
 * the cost profile) at the default size, and the threaded engine on a small guest as a cross-check of
 * the counts on real threads (its times are this machine's).
 */
import { simulate, type OptionsInput, type RunResult } from '../../src/index.js';
import { FAULT_KIND_NAMES, type FaultKindName } from '../../src/model/arch/fault-kind.js';
import type { FaultKindCounts } from '../../src/model/arch/counters.js';
import { runSideBySide, runsAtOnce } from '../../src/side-by-side.js';
import { envelope, errorLine, fmtInt, fmtNum, mdTable, MiB, resolveBenchOptions, writeResult, type BenchOptions, type ResultEnvelope } from '../common.js';

export interface FaultRecordsOptions extends BenchOptions {
  /** Virtual-engine guest in MiB. @default 256; quick 64 */
  memoryMiB?: number;
  /** @default 4 */
  vcpus?: number;
  /** Guest accesses per vCPU. @default 5000; quick 2000 */
  accesses?: number;
  /** Threaded cross-check guest in MiB (0: skip it). @default 64; quick 32 */
  threadsMemoryMiB?: number;
  /** Accesses per vCPU of the threaded cross-check. @default as accesses; quick 500 */
  threadsAccesses?: number;
}

export interface FaultRecordsRow {
  engine: 'threads' | 'virtual';
  arch: 'x86' | 'arm64';
  mode: 'exit' | 'uffd';
  record: 'neutral' | 'syndrome';
  byKind: Record<FaultKindName, FaultKindCounts>;
  faults: number;
  faultLatencyUsP50: number;
  blocktimeMs: number;
  guestMs: number;
  verified: boolean;
  /** Threaded rows: D and the simulator's share of a fault measured in the run (null where not measured). */
  dilation?: { factor: number; share: number | null };
  error?: string;
}

export interface FaultRecordsBody {
  memoryMiB: number;
  threadsMemoryMiB: number;
  vcpus: number;
  accesses: number;
  /** Accesses per vCPU of the threaded rows (absent in results written before it: as accesses). */
  threadsAccesses?: number;
  /** The guest every row runs (options as the CLI takes them). */
  guest: OptionsInput;
  rows: FaultRecordsRow[];
}

export type FaultRecordsResult = ResultEnvelope<'fault-records', FaultRecordsBody>;

/** The guest that produces every fault kind. */
export function faultRecordsGuest(arch: 'x86' | 'arm64', mode: 'exit' | 'uffd', accesses: number): OptionsInput {
  return {
    arch,
    mode,
    workload: 'random',
    writeRatio: 0.3,
    execRatio: 0.2,
    pageTables: true,
    strategy: 'demand',
    accesses,
    bandwidth: '10Gbit',
    latency: '50us',
    ...(arch === 'arm64' ? { mteFraction: 0.5 } : {}),
    // userfaultfd cannot register guest_memfd: a confidential guest runs in exit mode only.
    ...(mode === 'exit' ? { confidential: true, sharedFraction: 0.125, convertRatio: 0.002 } : {}),
  };
}

async function runRow(
  engine: 'threads' | 'virtual',
  arch: 'x86' | 'arm64',
  mode: 'exit' | 'uffd',
  record: 'neutral' | 'syndrome',
  memoryMiB: number,
  vcpus: number,
  accesses: number,
  seed: number,
): Promise<FaultRecordsRow> {
  const base = { engine, arch, mode, record };
  try {
    const r: RunResult = await simulate({ ...faultRecordsGuest(arch, mode, accesses), engine, vcpus, memory: memoryMiB * MiB, seed, faultRecord: record });
    return {
      ...base,
      byKind: r.faultRecords.byKind,
      faults: r.faults,
      faultLatencyUsP50: r.faultLatencyUs.p50,
      blocktimeMs: r.blocktimeMs,
      guestMs: r.guestMs,
      verified: r.verified,
      ...(engine === 'threads' ? { dilation: { factor: r.dilation.factor, share: r.dilation.share } } : {}),
      ...(r.verified ? {} : { error: `not verified: ${r.verifyErrors[0] ?? 'no reason given'}` }),
    };
  } catch (e) {
    const byKind = Object.fromEntries(FAULT_KIND_NAMES.map((k) => [k, noCounts()])) as Record<FaultKindName, FaultKindCounts>;
    return { ...base, byKind, faults: 0, faultLatencyUsP50: 0, blocktimeMs: 0, guestMs: 0, verified: false, error: errorLine(e) };
  }
}

export async function runFaultRecords(opts: FaultRecordsOptions = {}): Promise<FaultRecordsResult> {
  const o = resolveBenchOptions(opts);
  const t0 = performance.now();
  const memoryMiB = opts.memoryMiB ?? (o.quick ? 64 : 256);
  const threadsMemoryMiB = opts.threadsMemoryMiB ?? (o.quick ? 32 : 64);
  const vcpus = opts.vcpus ?? 4;
  const accesses = opts.accesses ?? (o.quick ? 2000 : 5000);
  // Quick: the threaded rows faulted 4,000 times each at ~190 us modelled under D ~100 (about 40 s
  // of wall per row in the quick bench); 500 accesses per vCPU keep every kind in the cross-check.
  const threadsAccesses = opts.threadsAccesses ?? (o.quick ? 500 : accesses);
  type Planned = [engine: 'threads' | 'virtual', arch: 'x86' | 'arm64', mode: 'exit' | 'uffd', record: 'neutral' | 'syndrome'];
  const plan: Planned[] = [];
  for (const arch of ['arm64', 'x86'] as const) {
    plan.push(['virtual', arch, 'exit', 'neutral'], ['virtual', arch, 'exit', 'syndrome'], ['virtual', arch, 'uffd', 'neutral']);
  }
  const threaded: Planned[] =
    threadsMemoryMiB > 0
      ? [
          ['threads', 'arm64', 'exit', 'neutral'],
          ['threads', 'arm64', 'exit', 'syndrome'],
        ]
      : [];
  const one = async ([engine, arch, mode, record]: Planned) => {
    const row =
      engine === 'virtual'
        ? await runRow(engine, arch, mode, record, memoryMiB, vcpus, accesses, o.seed)
        : await runRow(engine, arch, mode, record, threadsMemoryMiB, 2, threadsAccesses, o.seed);
    o.log(`fault-records ${engine} ${arch} ${mode} ${record}: ${row.error ?? `${fmtInt(row.faults)} faults, p50 ${fmtNum(row.faultLatencyUsP50, 0)} us`}`);
    return row;
  };
  const rows: FaultRecordsRow[] = [];
  for (const p of plan) rows.push(await one(p)); // the virtual engine is CPU-bound: one after another
  // The threaded rows are dilated and sleep most of their wall time: side by side (src/side-by-side.ts),
  // each row's simulator share measured under the other's load.
  rows.push(...(await runSideBySide(threaded.length, runsAtOnce(), (i) => one(threaded[i]!))));
  const notes = [
    'records = KVM_RUN exits (uffd mode: uffd messages, plus the KVM exits of kinds that never reach a uffd); round trips = records resolved by pages from the source',
    'syndrome record: a stage-1 walk is one record and one round trip (the source walks its copy of the table and sends every page the walk needs); an MTE tag fault is one exit instead of a blind re-entry and a second one',
  ];
  const guest = faultRecordsGuest('arm64', 'exit', accesses);
  const result = envelope('fault-records', o, t0, notes, { memoryMiB, threadsMemoryMiB, vcpus, accesses, threadsAccesses, guest, rows });
  writeResult(o.outDir, result);
  return result;
}

/** The threaded rows' dilation and simulator share, neutral / syndrome ('' for the virtual engine). */
function shareText(n: FaultRecordsRow, s: FaultRecordsRow): string {
  if (!n.dilation || !s.dilation) return '';
  const pct = (x: number | null) => (x === null ? '-' : `${fmtNum(x * 100, 1)}%`);
  return `; D ${fmtNum(n.dilation.factor, 0)} / ${fmtNum(s.dilation.factor, 0)}, simulator share of a fault ${pct(n.dilation.share)} / ${pct(s.dilation.share)}`;
}

/** A fault kind's counters, all zero. */
function noCounts(): FaultKindCounts {
  return { records: 0, roundTrips: 0, pagesFetched: 0, localResolved: 0, blockedMs: 0, avoidableRecords: 0, avoidableRoundTrips: 0, uffdLost: 0 };
}

function sum(r: FaultRecordsRow, kinds: readonly FaultKindName[]): FaultKindCounts {
  const t = noCounts();
  for (const k of kinds) for (const f of Object.keys(t) as Array<keyof FaultKindCounts>) t[f] += r.byKind[k][f];
  return t;
}

/** The markdown section: per engine and arch, per kind, neutral against syndrome, and what uffd loses. */
export function renderFaultRecords(b: FaultRecordsBody, h = '###'): string {
  const parts = [
    `${h} Fault records: arch-neutral against the raw syndrome, per fault kind\n\n` +
      `One guest with every kind (random accesses, ${b.accesses} per vCPU, 30% writes, 20% of reads instruction fetches, its own 4-level page table, ` +
      `half its memory MTE-tagged on arm64, confidential with 0.2% of accesses converting), pages moved only on faults over 10 Gbit/s and 50 us. ` +
      `n = the arch-neutral record (v7 flags), s = the record with the raw syndrome. A neutral run counts, for a walk, the walk records after an ` +
      `access's first and the data fault that follows (a syndrome record resolves the whole walk in one round trip), and for MTE the blind re-entry.`,
  ];
  for (const engine of ['virtual', 'threads'] as const) {
    for (const arch of ['arm64', 'x86'] as const) {
      const find = (mode: string, record: string) => b.rows.find((r) => r.engine === engine && r.arch === arch && r.mode === mode && r.record === record);
      const n = find('exit', 'neutral'),
        s = find('exit', 'syndrome'),
        u = find('uffd', 'neutral');
      if (!n || !s) continue;
      const size =
        engine === 'virtual'
          ? `${b.memoryMiB} MiB, ${b.vcpus} vCPUs`
          : `${b.threadsMemoryMiB} MiB, 2 vCPUs, ${b.threadsAccesses ?? b.accesses} accesses per vCPU`;
      const kinds = FAULT_KIND_NAMES.filter((k) => n.byKind[k].records + s.byKind[k].records + (u?.byKind[k].records ?? 0) > 0);
      const line = (name: string, a: FaultKindCounts, c: FaultKindCounts, x: FaultKindCounts | undefined) => [
        name,
        `${fmtInt(a.records)} / ${fmtInt(c.records)}`,
        fmtInt(a.records - c.records),
        `${fmtInt(a.roundTrips)} / ${fmtInt(c.roundTrips)}`,
        fmtInt(a.roundTrips - c.roundTrips),
        `${fmtNum(a.blockedMs, 1)} / ${fmtNum(c.blockedMs, 1)}`,
        `${fmtInt(a.avoidableRecords)} / ${fmtInt(a.avoidableRoundTrips)}`,
        x ? `${fmtInt(x.records)} (${fmtInt(x.uffdLost)} lost)` : '-',
      ];
      const rows = kinds.map((k) => line(k, n.byKind[k], s.byKind[k], u?.byKind[k]));
      rows.push(line('**all**', sum(n, kinds), sum(s, kinds), u ? sum(u, kinds) : undefined));
      const bad = [n, s, u].filter((r) => r?.error).map((r) => `${r!.mode} ${r!.record}: ${r!.error}`);
      parts.push(
        `**${engine} engine, ${arch}** (${size}; fault latency p50 ${fmtNum(n.faultLatencyUsP50, 0)} / ${fmtNum(s.faultLatencyUsP50, 0)} us, ` +
          `blocktime ${fmtNum(n.blocktimeMs, 1)} / ${fmtNum(s.blocktimeMs, 1)} ms, neutral / syndrome${shareText(n, s)})${bad.length ? `; FAILED ${bad.join('; ')}` : ''}\n\n` +
          mdTable(
            [
              'kind',
              'records n / s',
              'extra records',
              'round trips n / s',
              'extra round trips',
              'blocked ms n / s',
              'neutral run: records / round trips a syndrome would avoid',
              'uffd mode: records (meaning lost)',
            ],
            rows,
          ),
      );
    }
  }
  return parts.join('\n\n');
}

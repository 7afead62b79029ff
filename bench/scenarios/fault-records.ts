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
  error?: string;
}

export interface FaultRecordsBody {
  memoryMiB: number;
  threadsMemoryMiB: number;
  vcpus: number;
  accesses: number;
  /** The guest every row runs (options as the CLI takes them). */
  guest: OptionsInput;
  rows: FaultRecordsRow[];
}

export type FaultRecordsResult = ResultEnvelope<'fault-records', FaultRecordsBody>;

/** The guest that produces every fault kind. */
export function faultRecordsGuest(arch: 'x86' | 'arm64', mode: 'exit' | 'uffd', accesses: number): OptionsInput {
  return {
    arch, mode, workload: 'random', writeRatio: 0.3, execRatio: 0.2, pageTables: true, strategy: 'demand', accesses, bandwidth: '10Gbit', latency: '50us',
    ...(arch === 'arm64' ? { mteFraction: 0.5 } : {}),
    // userfaultfd cannot register guest_memfd: a confidential guest runs in exit mode only.
    ...(mode === 'exit' ? { confidential: true, sharedFraction: 0.125, convertRatio: 0.002 } : {}),
  };
}

async function runRow(engine: 'threads' | 'virtual', arch: 'x86' | 'arm64', mode: 'exit' | 'uffd', record: 'neutral' | 'syndrome',
  memoryMiB: number, vcpus: number, accesses: number, seed: number): Promise<FaultRecordsRow> {
  const base = { engine, arch, mode, record };
  try {
    const r: RunResult = await simulate({ ...faultRecordsGuest(arch, mode, accesses), engine, vcpus, memory: memoryMiB * MiB, seed, faultRecord: record });
    return {
      ...base, byKind: r.faultRecords.byKind, faults: r.faults, faultLatencyUsP50: r.faultLatencyUs.p50, blocktimeMs: r.blocktimeMs, guestMs: r.guestMs,
      verified: r.verified, ...(r.verified ? {} : { error: `not verified: ${r.verifyErrors[0] ?? 'no reason given'}` }),
    };
  } catch (e) {
    const zero: FaultKindCounts = { records: 0, roundTrips: 0, pagesFetched: 0, localResolved: 0, blockedMs: 0, avoidableRecords: 0, avoidableRoundTrips: 0, uffdLost: 0 };
    const byKind = Object.fromEntries(FAULT_KIND_NAMES.map((k) => [k, zero])) as Record<FaultKindName, FaultKindCounts>;
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
  const rows: FaultRecordsRow[] = [];
  const plan: Array<[engine: 'threads' | 'virtual', arch: 'x86' | 'arm64', mode: 'exit' | 'uffd', record: 'neutral' | 'syndrome']> = [];
  for (const arch of ['arm64', 'x86'] as const) {
    plan.push(['virtual', arch, 'exit', 'neutral'], ['virtual', arch, 'exit', 'syndrome'], ['virtual', arch, 'uffd', 'neutral']);
  }
  if (threadsMemoryMiB > 0) plan.push(['threads', 'arm64', 'exit', 'neutral'], ['threads', 'arm64', 'exit', 'syndrome']);
  for (const [engine, arch, mode, record] of plan) {
    const row = await runRow(engine, arch, mode, record, engine === 'virtual' ? memoryMiB : threadsMemoryMiB, engine === 'virtual' ? vcpus : 2, accesses, o.seed);
    o.log(`fault-records ${engine} ${arch} ${mode} ${record}: ${row.error ?? `${fmtInt(row.faults)} faults, p50 ${fmtNum(row.faultLatencyUsP50, 0)} us`}`);
    rows.push(row);
  }
  const notes = [
    'records = KVM_RUN exits (uffd mode: uffd messages, plus the KVM exits of kinds that never reach a uffd); round trips = records resolved by pages from the source',
    'syndrome record: a stage-1 walk is one record and one round trip (the source walks its copy of the table and sends every page the walk needs); an MTE tag fault is one exit instead of a blind re-entry and a second one',
  ];
  const guest = faultRecordsGuest('arm64', 'exit', accesses);
  const result = envelope('fault-records', o, t0, notes, { memoryMiB, threadsMemoryMiB, vcpus, accesses, guest, rows });
  writeResult(o.outDir, result);
  return result;
}

function sum(r: FaultRecordsRow, kinds: readonly FaultKindName[]): FaultKindCounts {
  const t: FaultKindCounts = { records: 0, roundTrips: 0, pagesFetched: 0, localResolved: 0, blockedMs: 0, avoidableRecords: 0, avoidableRoundTrips: 0, uffdLost: 0 };
  for (const k of kinds) for (const f of Object.keys(t) as Array<keyof FaultKindCounts>) t[f] += r.byKind[k][f];
  return t;
}

/** The markdown section: per engine and arch, per kind, neutral against syndrome, and what uffd loses. */
export function renderFaultRecords(b: FaultRecordsBody, h = '###'): string {
  const parts = [`${h} Fault records: arch-neutral against the raw syndrome, per fault kind\n\n` +
    `One guest with every kind (random accesses, ${b.accesses} per vCPU, 30% writes, 20% of reads instruction fetches, its own 4-level page table, ` +
    `half its memory MTE-tagged on arm64, confidential with 0.2% of accesses converting), pages moved only on faults over 10 Gbit/s and 50 us. ` +
    `n = the arch-neutral record (v7 flags), s = the record with the raw syndrome. A neutral run counts, for a walk, the walk records after an ` +
    `access's first and the data fault that follows (a syndrome record resolves the whole walk in one round trip), and for MTE the blind re-entry.`];
  for (const engine of ['virtual', 'threads'] as const) {
    for (const arch of ['arm64', 'x86'] as const) {
      const find = (mode: string, record: string) => b.rows.find((r) => r.engine === engine && r.arch === arch && r.mode === mode && r.record === record);
      const n = find('exit', 'neutral'), s = find('exit', 'syndrome'), u = find('uffd', 'neutral');
      if (!n || !s) continue;
      const size = engine === 'virtual' ? `${b.memoryMiB} MiB, ${b.vcpus} vCPUs` : `${b.threadsMemoryMiB} MiB, 2 vCPUs`;
      const kinds = FAULT_KIND_NAMES.filter((k) => n.byKind[k].records + s.byKind[k].records + (u?.byKind[k].records ?? 0) > 0);
      const line = (name: string, a: FaultKindCounts, c: FaultKindCounts, x: FaultKindCounts | undefined) => [name,
        `${fmtInt(a.records)} / ${fmtInt(c.records)}`, fmtInt(a.records - c.records), `${fmtInt(a.roundTrips)} / ${fmtInt(c.roundTrips)}`,
        fmtInt(a.roundTrips - c.roundTrips), `${fmtNum(a.blockedMs, 1)} / ${fmtNum(c.blockedMs, 1)}`, `${fmtInt(a.avoidableRecords)} / ${fmtInt(a.avoidableRoundTrips)}`,
        x ? `${fmtInt(x.records)} (${fmtInt(x.uffdLost)} lost)` : '-'];
      const rows = kinds.map((k) => line(k, n.byKind[k], s.byKind[k], u?.byKind[k]));
      rows.push(line('**all**', sum(n, kinds), sum(s, kinds), u ? sum(u, kinds) : undefined));
      const bad = [n, s, u].filter((r) => r && r.error).map((r) => `${r!.mode} ${r!.record}: ${r!.error}`);
      parts.push(`**${engine} engine, ${arch}** (${size}; fault latency p50 ${fmtNum(n.faultLatencyUsP50, 0)} / ${fmtNum(s.faultLatencyUsP50, 0)} us, ` +
        `blocktime ${fmtNum(n.blocktimeMs, 1)} / ${fmtNum(s.blocktimeMs, 1)} ms, neutral / syndrome)${bad.length ? `; FAILED ${bad.join('; ')}` : ''}\n\n` +
        mdTable(['kind', 'records n / s', 'extra records', 'round trips n / s', 'extra round trips', 'blocked ms n / s',
          'neutral run: records / round trips a syndrome would avoid', 'uffd mode: records (meaning lost)'], rows));
    }
  }
  return parts.join('\n\n');
}

/**
 * network: does the link model use the bandwidth it simulates?
 *
 * What it measures: one migration of a 1 GiB guest (quick: 256 MiB) with 4 vCPUs and the default
 * workload and fault path, at 1, 10, 25 and 100 Gbit/s with 50 us latency, undilated (time dilation
 * 1): whether the pipeline itself keeps a real-time link full. Per bandwidth: the
 * migration time against the wire-time lower bound (bytes sent to the destination * 8 / bandwidth:
 * no migration of these bytes can be faster), their ratio, and result.linkUtilisation (wire time /
 * migration time). A link model that wastes bandwidth shows up as a ratio well above 1.
 *
 * Each bandwidth runs `runs` times, in rounds (every bandwidth once, then again), so that a change
 * in the machine's load falls on all of them alike; a row is the run with the median utilisation,
 * and keeps every run's utilisation: undilated, a run shares the host's two cores with whatever
 * else runs, and single runs of one sitting spread by several points.
 *
 * How it maps to the kernel experiment: demand_paging_test has no network (its -d delay stands in
 * for one); this is the part of a postcopy migration the selftest leaves out, measured the way
 * QEMU reports postcopy (migration time, transferred bytes, pages per second).
 */
import { simulate, type OptionsInput } from '../../src/index.js';
import { envelope, errorLine, MiB, resolveBenchOptions, writeResult, type BenchOptions, type ResultEnvelope } from '../common.js';

export interface NetworkOptions extends BenchOptions {
  /** Guest size in MiB. @default 1024; quick 256 */
  memoryMiB?: number;
  /** @default [1, 10, 25, 100] */
  bandwidthsGbit?: number[];
  /** @default 50 */
  latencyUs?: number;
  /** @default 4 */
  vcpus?: number;
  /** Runs per bandwidth. @default 3; quick 1 */
  runs?: number;
}

export interface NetworkRow {
  gbit: number;
  migrationMs: number;
  /** bytesToDest * 8 / bandwidth, in ms. */
  wireMs: number;
  /** migrationMs / wireMs (1 = the link never idled). */
  overWire: number | null;
  linkUtilisation: number | null;
  bytesToDest: number;
  pagesDemand: number;
  pagesPushed: number;
  faults: number;
  faultLatencyUs: { p50: number; p99: number };
  wallMs: number;
  verified: boolean;
  /** every run's link utilisation, in run order (the row is the median one's) */
  runUtilisations?: Array<number | null>;
  error?: string;
}

export interface NetworkBody {
  memoryMiB: number;
  vcpus: number;
  latencyUs: number;
  rows: NetworkRow[];
}

export type NetworkResult = ResultEnvelope<'network', NetworkBody>;

export function networkOptions(memoryMiB: number, gbit: number, latencyUs: number, vcpus: number, seed: number): OptionsInput {
  return { vcpus, memory: memoryMiB * MiB, bandwidth: `${gbit}Gbit`, latency: `${latencyUs}us`, network: 'link', seed, timeDilation: 1 };
}

export async function runNetwork(opts: NetworkOptions = {}): Promise<NetworkResult> {
  const o = resolveBenchOptions(opts);
  const t0 = performance.now();
  const memoryMiB = opts.memoryMiB ?? (o.quick ? 256 : 1024);
  const bandwidths = opts.bandwidthsGbit ?? [1, 10, 25, 100];
  const latencyUs = opts.latencyUs ?? 50;
  const vcpus = opts.vcpus ?? 4;
  const runs = opts.runs ?? (o.quick ? 1 : 3);
  const byGbit: NetworkRow[][] = bandwidths.map(() => []);
  for (let round = 0; round < runs; round++)
    for (let i = 0; i < bandwidths.length; i++) {
      const row = await runOne(memoryMiB, bandwidths[i]!, latencyUs, vcpus, o.seed);
      o.log(
        row.error
          ? `network ${row.gbit} Gbit/s: FAILED ${row.error}`
          : `network ${row.gbit} Gbit/s, run ${round + 1} of ${runs}: migration ${row.migrationMs} ms, wire bound ${row.wireMs.toFixed(1)} ms, utilisation ${row.linkUtilisation}`,
      );
      byGbit[i]!.push(row);
    }
  const rows = byGbit.map(medianRow);
  const notes = ['wire bound = bytes sent to the destination * 8 / bandwidth; utilisation = wire time / migration time'];
  if (runs > 1)
    notes.push(`each row: the median of ${runs} runs by link utilisation, run in rounds (every bandwidth once per round); runs: each run's utilisation`);
  const result = envelope('network', o, t0, notes, { memoryMiB, vcpus, latencyUs, rows });
  writeResult(o.outDir, result);
  return result;
}

/** A failed run sorts below every measured one, so a row is a failure only when most runs failed. */
export function medianRow(runs: NetworkRow[]): NetworkRow {
  const sorted = [...runs].sort((a, b) => (a.linkUtilisation ?? -1) - (b.linkUtilisation ?? -1));
  const row = sorted[sorted.length >> 1]!;
  return runs.length > 1 ? { ...row, runUtilisations: runs.map((r) => r.linkUtilisation) } : row;
}

async function runOne(memoryMiB: number, gbit: number, latencyUs: number, vcpus: number, seed: number): Promise<NetworkRow> {
  try {
    const r = await simulate(networkOptions(memoryMiB, gbit, latencyUs, vcpus, seed));
    const bps = r.bandwidthBps ?? gbit * 1e9;
    const wireMs = (r.bytesToDest * 8 * 1000) / bps;
    return {
      gbit,
      migrationMs: r.migrationMs,
      wireMs,
      overWire: wireMs > 0 ? r.migrationMs / wireMs : null,
      linkUtilisation: r.linkUtilisation,
      bytesToDest: r.bytesToDest,
      pagesDemand: r.pagesDemand,
      pagesPushed: r.pagesPushed,
      faults: r.faults,
      faultLatencyUs: { p50: r.faultLatencyUs.p50, p99: r.faultLatencyUs.p99 },
      wallMs: r.wallMs,
      verified: r.verified,
      ...(r.verified ? {} : { error: `not verified: ${r.verifyErrors[0] ?? 'no reason given'}` }),
    };
  } catch (e) {
    return failedRow(gbit, errorLine(e));
  }
}

/** The row of a run that failed with `error`: nothing measured. */
export function failedRow(gbit: number, error: string): NetworkRow {
  return {
    gbit,
    migrationMs: 0,
    wireMs: 0,
    overWire: null,
    linkUtilisation: null,
    bytesToDest: 0,
    pagesDemand: 0,
    pagesPushed: 0,
    faults: 0,
    faultLatencyUs: { p50: 0, p99: 0 },
    wallMs: 0,
    verified: false,
    error,
  };
}

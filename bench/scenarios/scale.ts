/**
 * scale: does the cost of one migration grow linearly with the guest, and does memory stay near
 * the guest size?
 *
 * What it measures: one migration with 4 vCPUs and the default link (10 Gbit/s, 50 us, zipf
 * workload until the migration completes), undilated (memory and cost, not modelled latency, are
 * measured here), at guest sizes 256 MiB, 1 GiB, 4 GiB and 16 GiB (with --full also 64 GiB where the
 * host has the memory; quick: 256 MiB and 1 GiB). Every run must verify. Each size runs in a fresh child process
 * (bench/scale-child.ts), because result.peakRssBytes is the process's maximum RSS so far: in one
 * process every size would report the largest before it. Even a fresh child inherits that figure
 * from its parent on Linux, so the child reports its own VmHWM as the peak (and result.peakRssBytes
 * beside it). A child that only loads the runtime gives the RSS floor. Reported per size: wall time, migration time, faults/s, peak RSS, RSS above the
 * guest, RSS per GiB of guest; then the growth exponent between consecutive sizes
 * (log(cost2/cost1) / log(size2/size1): 1 is linear, below 1 means a fixed cost is being amortised).
 *
 * How it maps to the kernel experiment: demand_paging_test's guest memory is the -b slice times
 * the vCPUs, backed by the host like any anonymous memory; here the destination's guest memory is
 * SharedArrayBuffers and the source image is derived from the seed, not stored, so RSS should be
 * the guest plus a constant.
 */
import { spawn } from 'node:child_process';
import { totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { builtUrl } from '../../src/paths.js';
import type { OptionsInput } from '../../src/index.js';
import type { ScaleChildReport } from '../scale-child.js';
import { envelope, errorLine, fmtMiB, GiB, MiB, resolveBenchOptions, writeResult, type BenchOptions, type ResultEnvelope } from '../common.js';

export interface ScaleOptions extends BenchOptions {
  /** Guest sizes in MiB. @default [256, 1024, 4096, 16384] (+65536 with full); quick [256, 1024] */
  sizesMiB?: number[];
  /** @default 4 */
  vcpus?: number;
  /** Per child, before it is killed. @default 15 minutes */
  timeoutMs?: number;
}

export interface ScaleRow {
  guestMiB: number;
  guestBytes: number;
  wallMs: number;
  migrationMs: number;
  faultsPerSec: number;
  faults: number;
  /** This run's own peak RSS (VmHWM on Linux; see bench/scale-child.ts). */
  peakRssBytes: number;
  peakRssSource: 'VmHWM' | 'getrusage' | null;
  /** result.peakRssBytes as the simulator reported it in the child (getrusage maxRSS). */
  resultPeakRssBytes: number;
  /** peakRssBytes - guestBytes. */
  rssOverGuestBytes: number;
  /** peakRssBytes per GiB of guest. */
  rssPerGuestGiBBytes: number;
  linkUtilisation: number | null;
  verified: boolean;
  error?: string;
  /** Not run (e.g. not enough memory on this machine). */
  skipped?: string;
}

export interface GrowthStep {
  fromMiB: number;
  toMiB: number;
  /** Growth exponent of the wall time (1 = linear). */
  wallExponent: number;
  /** Growth exponent of the peak RSS (1 = linear). */
  rssExponent: number;
}

export interface ScaleBody {
  vcpus: number;
  /** RSS of a child that only loaded the runtime (no guest). */
  idleRssBytes: number | null;
  rows: ScaleRow[];
  growth: GrowthStep[];
  /** Every growth exponent <= LINEAR_TOLERANCE: the cost grows at most linearly. null: fewer than two sizes. */
  linear: boolean | null;
}

export type ScaleResult = ResultEnvelope<'scale', ScaleBody>;

/** A growth exponent up to this counts as linear (noise on a shared machine is easily 10%). */
export const LINEAR_TOLERANCE = 1.15;

/** The child always runs from the build, as the workers do (src/paths.ts). */
const CHILD = fileURLToPath(builtUrl('bench/scale-child.js'));

function runChild(arg: string, timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, arg], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      let parsed: Record<string, unknown> | null = null;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        /* reported below */
      }
      if (parsed && typeof parsed.error === 'string') reject(new Error(parsed.error));
      else if (parsed && code === 0) resolve(parsed);
      else {
        const why = signal ? `killed by ${signal}${signal === 'SIGKILL' ? ` (timeout ${timeoutMs} ms?)` : ''}` : `exit ${code}`;
        reject(new Error(`scale child ${why}: ${err.trim().split('\n').pop() ?? 'no output'}`));
      }
    });
  });
}

export function scaleOptions(guestMiB: number, vcpus: number, seed: number): OptionsInput {
  return { vcpus, memory: guestMiB * MiB, seed, timeDilation: 1 };
}

export async function runScale(opts: ScaleOptions = {}): Promise<ScaleResult> {
  const o = resolveBenchOptions(opts);
  const t0 = performance.now();
  const sizes = opts.sizesMiB ?? (o.quick ? [256, 1024] : o.full ? [256, 1024, 4096, 16384, 65536] : [256, 1024, 4096, 16384]);
  const vcpus = opts.vcpus ?? 4;
  const timeoutMs = opts.timeoutMs ?? 15 * 60_000;
  const notes: string[] = [];
  let idleRssBytes: number | null = null;
  try {
    idleRssBytes = Number((await runChild('--idle', 60_000)).peakRssBytes);
    o.log(`scale: idle runtime RSS ${Math.round(idleRssBytes / MiB)} MiB`);
  } catch (e) {
    notes.push(`idle child failed: ${errorLine(e)}`);
  }
  const rows: ScaleRow[] = [];
  for (const guestMiB of sizes) {
    const guestBytes = guestMiB * MiB;
    const empty = {
      guestMiB,
      guestBytes,
      wallMs: 0,
      migrationMs: 0,
      faultsPerSec: 0,
      faults: 0,
      peakRssBytes: 0,
      peakRssSource: null,
      resultPeakRssBytes: 0,
      rssOverGuestBytes: 0,
      rssPerGuestGiBBytes: 0,
      linkUtilisation: null,
      verified: false,
    };
    // The guest must fit with room to spare, or the run measures swapping (or the OOM killer).
    if (guestBytes + GiB > totalmem()) {
      const why = `needs ${fmtMiB(guestMiB)} + 1 GiB, this machine has ${(totalmem() / GiB).toFixed(1)} GiB`;
      o.log(`scale ${fmtMiB(guestMiB)}: skipped, ${why}`);
      rows.push({ ...empty, skipped: why });
      continue;
    }
    try {
      const r = (await runChild(JSON.stringify(scaleOptions(guestMiB, vcpus, o.seed)), timeoutMs)) as unknown as ScaleChildReport;
      const row: ScaleRow = {
        guestMiB,
        guestBytes,
        wallMs: r.wallMs,
        migrationMs: r.migrationMs,
        faultsPerSec: r.faultsPerSec,
        faults: r.faults,
        peakRssBytes: r.peakRssBytes,
        peakRssSource: r.peakRssSource,
        resultPeakRssBytes: r.resultPeakRssBytes,
        rssOverGuestBytes: r.peakRssBytes - guestBytes,
        rssPerGuestGiBBytes: r.peakRssBytes / (guestBytes / GiB),
        linkUtilisation: r.linkUtilisation,
        verified: r.verified,
        ...(r.verified ? {} : { error: `not verified: ${r.verifyErrors[0] ?? 'no reason given'}` }),
      };
      o.log(`scale ${fmtMiB(guestMiB)}: wall ${row.wallMs} ms, migration ${row.migrationMs} ms, peak RSS ${Math.round(row.peakRssBytes / MiB)} MiB`);
      rows.push(row);
    } catch (e) {
      o.log(`scale ${fmtMiB(guestMiB)}: FAILED ${errorLine(e)}`);
      rows.push({ ...empty, error: errorLine(e) });
    }
  }
  const ok = rows.filter((r) => !r.error && !r.skipped);
  const growth: GrowthStep[] = [];
  for (let i = 1; i < ok.length; i++) {
    const a = ok[i - 1]!,
      b = ok[i]!;
    const size = Math.log(b.guestBytes / a.guestBytes);
    growth.push({
      fromMiB: a.guestMiB,
      toMiB: b.guestMiB,
      wallExponent: Math.log(b.wallMs / a.wallMs) / size,
      rssExponent: Math.log(b.peakRssBytes / a.peakRssBytes) / size,
    });
  }
  const linear = growth.length === 0 ? null : growth.every((g) => g.wallExponent <= LINEAR_TOLERANCE && g.rssExponent <= LINEAR_TOLERANCE);
  notes.push(
    "each size ran in a fresh child process; peak RSS is its VmHWM (getrusage maxRSS, which result.peakRssBytes uses, inherits the parent's peak across fork + exec on Linux)",
  );
  const inflated = rows.filter((r) => r.peakRssSource === 'VmHWM' && r.resultPeakRssBytes > r.peakRssBytes * 1.05);
  if (inflated.length) {
    notes.push(
      `result.peakRssBytes overstated the run's own peak at ${inflated.map((r) => `${fmtMiB(r.guestMiB)} (${Math.round(r.resultPeakRssBytes / MiB)} vs ${Math.round(r.peakRssBytes / MiB)} MiB)`).join(', ')}`,
    );
  }
  notes.push(`growth exponent = log(cost ratio) / log(size ratio) between consecutive sizes; <= ${LINEAR_TOLERANCE} counts as linear`);
  const result = envelope('scale', o, t0, notes, { vcpus, idleRssBytes, rows, growth, linear });
  writeResult(o.outDir, result);
  return result;
}

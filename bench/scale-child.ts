/**
 * The child process of the scale scenario: one migration per process, so that the peak RSS it
 * reports (the process's maximum resident set so far) belongs to this run alone.
 *
 *   node dist/bench/scale-child.js '<simulate options as JSON>'   -> one JSON line: ScaleChildReport
 *   node dist/bench/scale-child.js --idle                         -> the RSS of the loaded runtime
 *
 * stdout carries only that line; a failure is reported as `{ "error": "..." }` with exit code 1.
 *
 * Which peak: result.peakRssBytes is getrusage's ru_maxrss, and on Linux a process inherits that
 * figure across fork + exec: a child spawned by a benchmark process that already holds 400 MiB
 * starts with a "peak" of 400 MiB whatever it does (measured: a parent holding 500 MiB gave an idle
 * child 504 MiB). VmHWM in /proc/self/status is the high-water mark of this process's own address
 * space, fresh at exec and kept across munmap, so it is the per-run peak; getrusage is the
 * fallback where /proc is missing, and both are reported.
 */
import { readFileSync } from 'node:fs';
import { simulate, type OptionsInput } from '../src/index.js';

export interface ScaleChildReport {
  wallMs: number;
  migrationMs: number;
  guestMs: number;
  faults: number;
  faultsPerSec: number;
  pages: number;
  memoryBytes: number;
  /** VmHWM where available, else result.peakRssBytes. */
  peakRssBytes: number;
  peakRssSource: 'VmHWM' | 'getrusage';
  /** result.peakRssBytes as the simulator reports it (getrusage maxRSS, inherited across exec). */
  resultPeakRssBytes: number;
  bytesToDest: number;
  linkUtilisation: number | null;
  verified: boolean;
  verifyErrors: string[];
}

/** This address space's peak resident set (Linux), or null. */
function vmHwmBytes(): number | null {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

function peak(fallbackBytes: number): { peakRssBytes: number; peakRssSource: 'VmHWM' | 'getrusage' } {
  const hwm = vmHwmBytes();
  return hwm === null ? { peakRssBytes: fallbackBytes, peakRssSource: 'getrusage' } : { peakRssBytes: hwm, peakRssSource: 'VmHWM' };
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  if (arg === '--idle') {
    const rusage = process.resourceUsage().maxRSS * 1024;
    process.stdout.write(`${JSON.stringify({ ...peak(rusage), resultPeakRssBytes: rusage })}\n`);
    return;
  }
  const r = await simulate(JSON.parse(arg ?? '{}') as OptionsInput);
  const report: ScaleChildReport = {
    wallMs: r.wallMs,
    migrationMs: r.migrationMs,
    guestMs: r.guestMs,
    faults: r.faults,
    faultsPerSec: r.faultsPerSec,
    pages: r.pages,
    memoryBytes: r.memoryBytes,
    ...peak(r.peakRssBytes),
    resultPeakRssBytes: r.peakRssBytes,
    bytesToDest: r.bytesToDest,
    linkUtilisation: r.linkUtilisation,
    verified: r.verified,
    verifyErrors: r.verifyErrors.slice(0, 3),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((e: unknown) => {
  process.stdout.write(`${JSON.stringify({ error: (e instanceof Error ? e.message : String(e)).split('\n')[0] })}\n`);
  process.exitCode = 1;
});

/**
 * Peak resident memory of this process, and keeping it per run. On Linux, VmHWM: getrusage's
 * ru_maxrss survives execve, so a child started by a large parent would report the parent's peak;
 * VmHWM can be restarted (clear_refs), so a run in a process that ran others reports its own peak.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { freemem } from 'node:os';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

export function peakRssBytes(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    /* not Linux */
  }
  return process.resourceUsage().maxRSS * 1024;
}

let gcFn: (() => void) | null | undefined;
/** The V8 collector, exposed at run time (--expose-gc after start, through a fresh context); null if refused. */
function collector(): (() => void) | null {
  if (gcFn === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    } catch {
      gcFn = null;
    }
  }
  return gcFn;
}

/** Bytes of guest memory and per-page tables that runs in this process allocated since the last collection. */
let unreclaimedBytes = 0;

/** A run says what it allocated (guest memory, per-page tables): the next run's collection is judged on it. */
export function noteRunAllocation(bytes: number): void {
  unreclaimedBytes += bytes;
}

/**
 * Below this much left by earlier runs, a run does not force a collection. Two full collections
 * (what freeEarlierRuns does) measured 55 ms here on a 10 MB heap (`node --trace-gc`: Mark-Compact
 * 27 + 28 ms) and run V8's helper threads on every core: a sweep of 16 MiB virtual cells (about
 * 110 ms each) spent a third of its CPU in them, and two pool workers could not get 2x over one.
 * What less than this leaves is ordinary garbage that V8 collects on its own as the next run
 * allocates; a run's peak RSS can then include up to this much of it (docs/results.md says so).
 */
export const COLLECT_ABOVE_BYTES = 64 * 1024 ** 2;

/**
 * Before a run: collect what earlier runs left (their guest memory is SharedArrayBuffers that V8
 * frees only when it collects them, so `compare` grew by a guest per run), then restart the peak
 * RSS (VmHWM) from the current RSS, so peakRssBytes() at the end is this run's own.
 */
export function freeEarlierRuns(): void {
  const gc = collector();
  if (gc) {
    gc();
    gc();
    unreclaimedBytes = 0;
  } // a second pass frees what the first one's finalisers released
  restartPeak();
}

/** freeEarlierRuns when earlier runs left at least COLLECT_ABOVE_BYTES; else only restarts the peak. */
export function freeLargeEarlierRuns(): void {
  if (unreclaimedBytes >= COLLECT_ABOVE_BYTES) freeEarlierRuns();
  else restartPeak();
}

function restartPeak(): void {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    /* not Linux, or not permitted: the peak stays process-wide */
  }
}

/** Memory the host can still give this process (MemAvailable), in bytes. */
export function availableMemoryBytes(): number {
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    /* not Linux */
  }
  return freemem();
}

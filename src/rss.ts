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
  } // a second pass frees what the first one's finalisers released
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

/**
 * Peak resident memory of this process. On Linux, VmHWM: getrusage's ru_maxrss survives execve, so a
 * child started by a large parent would report the parent's peak.
 */
import { readFileSync } from 'node:fs';

export function peakRssBytes(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch { /* not Linux */ }
  return process.resourceUsage().maxRSS * 1024;
}

/**
 * `mkdir -p` that always ends. Node's mkdirSync(dir, { recursive: true }) spins forever (100% CPU,
 * deaf to Ctrl-C and SIGTERM, since it never returns to the event loop) when a parent exists but
 * cannot hold children, e.g. /proc/nope: mkdir of the child says ENOENT, of the parent EEXIST, and it
 * retries (node v20; the same loop bun fixed in oven-sh/bun#36162). This walks up to the first
 * directory that exists and creates each one below it once, so such a path fails with ENOENT.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** Creates `dir` and its missing parents; throws the first mkdir error (ENOENT, EACCES, ENOTDIR, ...). */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) {
    missing.push(d);
    if (dirname(d) === d) break; // a root that does not exist: let mkdir say why
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; // made meanwhile: fine
    }
  }
}

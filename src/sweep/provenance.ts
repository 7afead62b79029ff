/**
 * What every result line says about where it came from: the tool (package version, git commit of
 * the checkout) and the host (machine facts, like the bench envelope's). Computed once per process.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, hostname, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../paths.js';
import type { Host, SweepRecord } from './schema.js';

export { packageRoot };

/** The built CLI entry (what the Slurm script runs). */
export function cliPath(): string {
  return join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
}

let tool: SweepRecord['tool'] | undefined;

export function toolFacts(): SweepRecord['tool'] {
  if (tool) return tool;
  const root = packageRoot();
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const git = (...args: string[]): string | null => {
    try {
      return execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
    } catch {
      return null;
    }
  };
  const commit = git('rev-parse', 'HEAD');
  // Tracked files only: dist/ and results written into the checkout do not make it dirty.
  const status = commit === null ? null : git('status', '--porcelain', '--untracked-files=no');
  tool = { name: 'postcopy-sim', version, commit, dirty: status === null ? null : status.length > 0 };
  return tool;
}

let host: Host | undefined;

export function hostFacts(): Host {
  host ??= {
    hostname: hostname(),
    platform: process.platform,
    arch: process.arch,
    kernel: release(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cpus: cpus().length,
    availableParallelism: availableParallelism(),
    memoryBytes: totalmem(),
    node: process.version,
  };
  return host;
}

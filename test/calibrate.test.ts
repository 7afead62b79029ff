// Goal: `postcopy-sim calibrate` works on a fresh clone: it builds the C benchmarks itself, measures,
// and writes a valid cost profile to stdout or to the file named; it never silently overwrites a
// shipped profile.
// Method: the real CLI, short runs (--quick, 64 pages per vCPU); the profile is read back through
// the same schema `--costs FILE` uses, and a run uses it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulate } from '../src/index.js';
import { parseCostProfile } from '../src/virtual/costs.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'src', 'cli', 'main.js');
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, 'calibrate', ...args], { encoding: 'utf8', timeout: 300_000 });

describe('calibrate', () => {
  it('writes a valid profile to stdout, and a run takes it with --costs', async () => {
    const r = cli('--quick', '--pages', '64');
    expect(r.status, r.stderr).toBe(0);
    const profile = parseCostProfile(JSON.parse(r.stdout), 'stdout');
    expect(profile.name).toBe('this-host');
    expect(['kernel', 'threads']).toContain(profile.basis);
    if (profile.basis === 'threads') expect(JSON.stringify(profile.measured)).toMatch(/skipped/); // said why the kernel part is missing
    const dir = mkdtempSync(join(tmpdir(), 'pcs-cal-'));
    const f = join(dir, 'p.json');
    expect(cli('--quick', '--pages', '64', '--name', 'mine', '-o', f).status).toBe(0);
    expect(parseCostProfile(JSON.parse(readFileSync(f, 'utf8')), f).name).toBe('mine');
    const run = await simulate({ engine: 'virtual', costs: f, vcpus: 2, memory: '1MiB', accesses: 100, mode: 'uffd' });
    expect(run.verified).toBe(true);
    expect(run.engineInfo.profile).toBe('mine');
  });

  it('refuses to overwrite a shipped profile without --replace-shipped: one line, exit 2', () => {
    const r = cli('--quick', '-o', join('src', 'virtual', 'profiles', 'this-host.json'));
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--out: .*shipped profile.*--replace-shipped/);
  });
});

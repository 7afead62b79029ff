// Goal: a sweep runs on a real Slurm cluster as a job array, and the merged results are the same
// bytes as a local run of the same sweep (apart from the wall-clock and host fields).
// Method: start a one-node cluster (munge, slurmctld, slurmd as ../shared/slurm.md shows, but with
// its config, state, ports and PID files in a scratch directory, so nothing in /etc is touched);
// `sweep FILE --slurm --submit` a 12-cell virtual sweep as 4 array tasks plus the merge job; wait
// for both; merge the shards again ourselves; compare with a local run. The daemons this test
// started are stopped by their PIDs. Skipped, with the reason printed, where slurmctld is not
// installed or the test does not run as root (slurmd must, to start jobs).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, readRecords, scratch, stableLines, TINY, writeSweep } from './sweep-helpers.js';
import { needs } from './helpers/tools.js';

const which = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const skipReason =
  !which('slurmctld') || !which('slurmd') || !which('sbatch')
    ? 'slurmctld/slurmd/sbatch are not installed (apt-get install slurm-wlm munge)'
    : !which('munged')
      ? 'munged is not installed (apt-get install munge)'
      : process.getuid?.() !== 0
        ? 'not running as root (slurmd must be root to start jobs)'
        : null;
if (skipReason) console.log(`sweep-slurm.test.ts skipped: ${skipReason}`);

/** Alive and not a zombie (a daemon we stopped may linger as a zombie when no init reaps it). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function waitFor<T>(what: string, ms: number, f: () => T | null | undefined | false): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) => spawnSync(cmd, args, { encoding: 'utf8', env, timeout: 30_000 });

describe.skipIf(skipReason !== null)(needs('slurm', 'a sweep as a Slurm job array'), () => {
  const dir = scratch('sweep-slurm');
  const conf = join(dir, 'slurm.conf');
  const env = { ...process.env, SLURM_CONF: conf };
  const started: Array<{ name: string; pid: number }> = [];
  const t0 = Date.now();
  let upMs = 0;

  beforeAll(async () => {
    // munge: reuse a running daemon, else start one as the munge user.
    if (run('sh', ['-c', 'munge -n | unmunge']).status !== 0) {
      mkdirSync('/run/munge', { recursive: true });
      run('chown', ['munge:munge', '/run/munge']);
      const pidFile = '/run/munge/munged.pid';
      const r = run('runuser', ['-u', 'munge', '--', '/usr/sbin/munged', '--force', `--pid-file=${pidFile}`]);
      expect(r.status, `munged: ${r.stderr}`).toBe(0);
      started.push({ name: 'munged', pid: Number(readFileSync(pidFile, 'utf8').trim()) });
    }
    // Ports of our own, so a cluster already on this machine (or a stale one) is left alone.
    const port = 20000 + (process.pid % 20000);
    const h = hostname().split('.')[0]!;
    for (const d of ['state', 'spool', 'log']) mkdirSync(join(dir, d));
    writeFileSync(
      conf,
      [
        'ClusterName=pcstest',
        `SlurmctldHost=${h}`,
        `SlurmctldPort=${port}`,
        `SlurmdPort=${port + 1}`,
        'SlurmUser=root',
        'AuthType=auth/munge',
        'ProctrackType=proctrack/linuxproc',
        'TaskPlugin=task/none',
        'SelectType=select/cons_tres',
        'SelectTypeParameters=CR_Core',
        `StateSaveLocation=${dir}/state`,
        `SlurmdSpoolDir=${dir}/spool`,
        `SlurmctldPidFile=${dir}/slurmctld.pid`,
        `SlurmdPidFile=${dir}/slurmd.pid`,
        `SlurmctldLogFile=${dir}/log/slurmctld.log`,
        `SlurmdLogFile=${dir}/log/slurmd.log`,
        'ReturnToService=2',
        'MinJobAge=600',
        `NodeName=${h} CPUs=${spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()} RealMemory=1000 State=UNKNOWN`,
        'PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP',
        '',
      ].join('\n'),
    );
    for (const daemon of ['slurmctld', 'slurmd'] as const) {
      const r = run(daemon, ['-f', conf], env);
      expect(r.status, `${daemon}: ${r.stderr}`).toBe(0);
      const pidFile = join(dir, `${daemon}.pid`);
      const pid = await waitFor(`${daemon}'s PID file`, 10_000, () => existsSync(pidFile) && Number(readFileSync(pidFile, 'utf8').trim()));
      started.push({ name: daemon, pid });
    }
    await waitFor('the node to be idle (sinfo)', 30_000, () => run('sinfo', ['-h', '-o', '%t'], env).stdout.trim() === 'idle');
    upMs = Date.now() - t0;
  });

  afterAll(async () => {
    // Stop what this test started, by PID, newest first.
    for (const { pid } of [...started].reverse()) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
    for (const { name, pid } of started) await waitFor(`${name} (PID ${pid}) to stop`, 15_000, () => !alive(pid));
    console.log(`sweep-slurm.test.ts: cluster up in ${(upMs / 1000).toFixed(1)} s; whole test ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  it('runs the array and the merge job; the merged results equal a local run', async () => {
    const spec = { name: 'cluster', base: TINY, axes: { grid: { mode: ['exit', 'uffd'], vcpus: [1, 2] } }, seeds: 3 };
    const file = writeSweep(dir, 'cluster', spec);
    const out = join(dir, 'results', 'cluster.jsonl');
    const submitted = Date.now();
    const sub = cli(['sweep', file, '--slurm', '--submit', '--shards', '4', '-o', out], { cwd: dir, env: { SLURM_CONF: conf } });
    expect(sub.code, sub.stderr).toBe(0);
    const [arrayJob, mergeJob] = sub.stdout.trim().split(' ');
    expect(arrayJob).toMatch(/^\d+$/);
    expect(mergeJob).toMatch(/^\d+$/);

    const state = (job: string) => /JobState=(\w+)/.exec(run('scontrol', ['show', 'job', job], env).stdout)?.[1];
    const final = await waitFor('the merge job to end', 120_000, () => {
      const s = state(mergeJob!);
      return s && !['PENDING', 'RUNNING', 'CONFIGURING', 'COMPLETING'].includes(s) ? s : null;
    });
    const arrayStates = [...run('scontrol', ['show', 'job', arrayJob!], env).stdout.matchAll(/JobState=(\w+)/g)].map((m) => m[1]);
    const logs = () =>
      [0, 1, 2, 3]
        .map((k) => {
          try {
            return readFileSync(join(dir, 'results', `cluster.shard-${k}.log`), 'utf8');
          } catch {
            return `(no log ${k})`;
          }
        })
        .join('\n');
    expect(arrayStates, logs()).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED']);
    expect(final, readFileSync(join(dir, 'results', 'cluster.merge.log'), 'utf8')).toBe('COMPLETED');
    console.log(`sweep-slurm.test.ts: 12 cells in 4 array tasks + merge, submitted to merged in ${((Date.now() - submitted) / 1000).toFixed(1)} s`);

    // Each task took its shard from Slurm and wrote its own file.
    const shards = [0, 1, 2, 3].map((k) => join(dir, 'results', `cluster.shard-${k}.jsonl`));
    shards.forEach((f, k) => {
      expect(readRecords(f).every((r) => r.run.shard === `${k}/4`)).toBe(true);
    });
    expect(readFileSync(join(dir, 'results', 'cluster.shard-1.log'), 'utf8')).toMatch(/shard 1\/4 \(SLURM_ARRAY_TASK_ID\/SLURM_ARRAY_TASK_COUNT\): 3 cells/);

    // Merge the shards here too: the same bytes as the merge job's.
    const again = join(dir, 'merged-here.jsonl');
    const m = cli(['sweep', 'merge', again, ...shards]);
    expect(m.code, m.stderr).toBe(0);
    expect(readFileSync(again).equals(readFileSync(out))).toBe(true);

    const local = join(dir, 'local.jsonl');
    const l = cli(['sweep', file, '-o', local], { cwd: dir });
    expect(l.code, l.stderr).toBe(0);
    const merged = readRecords(out);
    expect(merged.map((r) => r.cell.index)).toEqual([...Array(12).keys()]);
    expect(stableLines(merged)).toEqual(stableLines(readRecords(local)));
  });
});

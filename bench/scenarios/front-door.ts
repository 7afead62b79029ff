/**
 * front-door: the commands a new user types first, each timed as a whole process (start-up,
 * probes, runs, verification, output), several times, median and spread, against the targets of
 * issue 21. Each command runs with --json so the result says what the wall time bought: whether
 * every run verified and the largest simulator share among its runs (a fast run whose share is
 * far over 5% is fast, not honest, and the table says so beside the time).
 *
 *   start          `postcopy-sim start` on defaults                                  <= 15 s
 *   compare        `postcopy-sim compare` on defaults                                <= 20 s
 *   trace-compare  threaded compare of linear and prepaging on a shipped trace      <= 30 s
 *   virtual-256    one virtual-engine run at 256 vCPUs (issue 21's exit-mode line)  reported
 *
 * Quick: one run of start and virtual-256 (the other two would take most of --quick's two minutes).
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { envelope, repoRoot, resolveBenchOptions, writeResult, type BenchOptions, type ResultEnvelope } from '../common.js';

export interface FrontDoorCommand {
  id: 'start' | 'compare' | 'trace-compare' | 'virtual-256';
  args: string[];
  /** The wall-time target in seconds, or null when only reported. */
  targetS: number | null;
}

export const FRONT_DOOR_COMMANDS: FrontDoorCommand[] = [
  { id: 'start', args: ['start'], targetS: 15 },
  { id: 'compare', args: ['compare'], targetS: 20 },
  {
    id: 'trace-compare',
    args: ['compare', '--workload', 'trace', '--trace', 'examples/traces/sqlite.trace.gz', '--strategies', 'linear,prepaging'],
    targetS: 30,
  },
  {
    id: 'virtual-256',
    args: [
      'run',
      '--engine',
      'virtual',
      '--vcpus',
      '256',
      '--cores',
      '256',
      '--memory',
      '1GiB',
      '--partition',
      '--workload',
      'sequential',
      '--accesses',
      '1024',
      '--write-ratio',
      '0',
      '--network',
      'none',
      '--mode',
      'exit',
      '--exit-resolver',
      'vcpu',
    ],
    targetS: null,
  },
];

export interface FrontDoorRow {
  id: FrontDoorCommand['id'];
  command: string;
  targetS: number | null;
  /** Wall seconds of each run, in order. */
  wallS: number[];
  medianS: number;
  minS: number;
  maxS: number;
  /** Every run of every repetition verified and exited 0. */
  verified: boolean;
  /** The largest simulator share of a fault among the command's runs (last repetition); 0 for the virtual engine. */
  maxShare: number | null;
  /** Simulated faults of the run (virtual-256) per wall second of the whole process, median repetition. */
  faultsPerWallS: number | null;
  status: 'met' | 'not met' | 'reported';
}

export interface FrontDoorBody {
  runs: number;
  rows: FrontDoorRow[];
  /** The host's 1-minute load average before and after (other work on the cores moves every wall time). */
  loadAverage?: { before: number; after: number };
}
export type FrontDoorResult = ResultEnvelope<'front-door', FrontDoorBody>;

export interface FrontDoorOptions extends BenchOptions {
  /** Repetitions per command. @default 3; quick 1 */
  runs?: number;
  /** Which commands. @default all; quick start and virtual-256 */
  only?: Array<FrontDoorCommand['id']>;
  /** The command list itself (tests give tiny ones). @default FRONT_DOOR_COMMANDS */
  commands?: FrontDoorCommand[];
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

interface Shaped {
  verified: boolean;
  engine: string;
  faults: number;
  dilation: { share: number | null; predictedShare: number | null };
}

export async function runFrontDoor(opts: FrontDoorOptions = {}): Promise<FrontDoorResult> {
  const o = resolveBenchOptions(opts);
  const t0 = performance.now();
  const runs = opts.runs ?? (o.quick ? 1 : 3);
  const only = opts.only ?? (o.quick ? ['start', 'virtual-256'] : FRONT_DOOR_COMMANDS.map((c) => c.id));
  const cli = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
  const loadBefore = loadavg()[0]!;
  const rows: FrontDoorRow[] = [];
  for (const c of (opts.commands ?? FRONT_DOOR_COMMANDS).filter((x) => opts.commands !== undefined || only.includes(x.id))) {
    const wallS: number[] = [];
    let verified = true;
    let last: Shaped[] = [];
    const faultsPerWallS: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      const p = spawnSync(process.execPath, [cli, ...c.args, '--seed', String(o.seed), '--json'], { cwd: repoRoot(), encoding: 'utf8', maxBuffer: 1 << 28 });
      const s = (performance.now() - start) / 1000;
      wallS.push(Math.round(s * 100) / 100);
      let parsed: Shaped[] = [];
      try {
        const j = JSON.parse(p.stdout) as Shaped | Shaped[];
        parsed = Array.isArray(j) ? j : [j];
      } catch {
        verified = false;
      }
      verified &&= p.status === 0 && parsed.length > 0 && parsed.every((r) => r.verified);
      last = parsed;
      if (c.id === 'virtual-256' && parsed[0]) faultsPerWallS.push(parsed[0].faults / s);
      o.log(`front-door: ${c.id} run ${i + 1}/${runs}: ${s.toFixed(1)} s${p.status === 0 ? '' : ` (exit ${p.status}: ${p.stderr.trim().split('\n').at(-1)})`}`);
    }
    const shares = last.map((r) => (r.engine === 'virtual' ? 0 : (r.dilation.share ?? r.dilation.predictedShare))).filter((x): x is number => x !== null);
    const med = median(wallS);
    rows.push({
      id: c.id,
      command: `postcopy-sim ${c.args.join(' ')}`,
      targetS: c.targetS,
      wallS,
      medianS: med,
      minS: Math.min(...wallS),
      maxS: Math.max(...wallS),
      verified,
      maxShare: shares.length ? Math.max(...shares) : null,
      faultsPerWallS: faultsPerWallS.length ? Math.round(median(faultsPerWallS)) : null,
      status: c.targetS === null ? 'reported' : verified && med <= c.targetS ? 'met' : 'not met', // fast but wrong is not met
    });
  }
  const result = envelope(
    'front-door',
    o,
    t0,
    [`each command a whole process (node dist/src/cli/main.js ... --json), ${runs} run${runs > 1 ? 's' : ''}, one after another`],
    { runs, rows, loadAverage: { before: round2(loadBefore), after: round2(loadavg()[0]!) } },
  );
  writeResult(o.outDir, result);
  return result;
}

/** The markdown section: one row per command, its wall time against its target, and what the time bought. */
export function renderFrontDoor(b: FrontDoorBody, h: string): string {
  const fmt = (x: number) => x.toFixed(1);
  const lines = [
    `${h} Front door: whole commands, wall time`,
    '',
    `| command | target | median s | min-max s | runs | verified | largest simulator share | status |`,
    '| --- | --: | --: | --: | --: | --- | --: | --- |',
    ...b.rows.map(
      (r) =>
        `| \`${r.command.replace(/^postcopy-sim /, '')}\` | ${r.targetS === null ? '-' : `<= ${r.targetS} s`} | ${fmt(r.medianS)} | ${fmt(r.minS)}-${fmt(r.maxS)} | ${r.wallS.length} | ` +
        `${r.verified ? 'yes' : 'NO'} | ${r.maxShare === null ? '-' : `${(r.maxShare * 100).toFixed(1)}%`} | ${r.status}${r.faultsPerWallS !== null ? ` (${r.faultsPerWallS.toLocaleString('en-US')} faults per wall second)` : ''} |`,
    ),
  ];
  if (b.loadAverage) lines.push('', `Load average of the host (1 min): ${b.loadAverage.before} before, ${b.loadAverage.after} after.`);
  return lines.join('\n');
}

#!/usr/bin/env node
/**
 * The benchmark runner: `npm run bench [-- [--quick | --full] [--seed N] [--out DIR] [scenario...]]`.
 *
 * Runs the scenarios of bench/scenarios/ in order (paging-rate, floors, kernel, pipeline, scale, network,
 * published, soak, workloads, fault-records, front-door, engine-speed; or
 * only the ones named), each writing `<out>/<name>.json`, and prints the markdown summary of this
 * run on stdout. Progress goes to stderr, so `npm run bench > summary.md` keeps only the summary.
 * Later scenarios reuse the paging-rate grid of the same run (floors and kernel compare against
 * it); run alone, they measure the simulator rows they need themselves.
 *
 * Exit codes: 0 done (targets are reported, never enforced); 1 a run failed or did not verify;
 * 2 bad command line (one line on stderr).
 */
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { quickTimeOf, writeQuickTime } from './bench-time.js';
import { envelope, errorLine, machineFacts, repoRoot, resolveBenchOptions, SCENARIOS, writeResult, type BenchOptions, type ScenarioName } from './common.js';
import { benchProgress, type BenchProgress } from './progress.js';
import { failures, loadResults, renderSummary, type Results } from './report.js';
import { runFloors } from './scenarios/floors.js';
import { runKernel } from './scenarios/kernel.js';
import { runPublished } from './scenarios/published.js';
import { runSoak } from './scenarios/soak.js';
import { runFaultRecords } from './scenarios/fault-records.js';
import { runNetwork } from './scenarios/network.js';
import { runPagingRate } from './scenarios/paging-rate.js';
import { runScale } from './scenarios/scale.js';
import { runPipeline } from './scenarios/pipeline.js';
import { runWorkloads } from './scenarios/workloads.js';
import { runFrontDoor } from './scenarios/front-door.js';
import { runEngineSpeed } from './scenarios/engine-speed.js';

const USAGE = `usage: npm run bench -- [--quick | --full] [--seed N] [--out DIR] [scenario...]

Scenarios (default: all, in this order):
  paging-rate  demand_paging_test analogue: none / exit / uffd-1 / uffd-n / uffd-pervcpu x 1..16 vCPUs
  floors       Atomics and MessagePort round trips and the page copy, against the 1-vCPU fault cost
  kernel       the same experiment on real userfaultfd (native/uffd_paging.c), sim/kernel ratios
  pipeline     host time per pushed 4 KiB page: derive, wire, install (the real code, one thread)
  scale        one undilated migration at 256 MiB, 1, 4 and 16 GiB, verified; peak RSS per run
  network      1 GiB guest at 1/10/25/100 Gbit/s, undilated: link utilisation, migration vs wire time
  published    the virtual-time engine against the published KVM tables (both cost profiles, sensitivity)
  soak         seeded injection plans in both engines, long runs with RSS sampled
  workloads    prepaging vs linear on the regions workload and the recorded traces, with their locality
  fault-records  arch-neutral vs syndrome-carrying fault records, per fault kind (x86, arm64)
  front-door   start, compare, a threaded trace compare and a 256-vCPU virtual run, each a whole
               process, 3 runs (quick: start and the virtual run, once): wall time vs the targets
  engine-speed the virtual engine's simulated faults per host second at 256 vCPUs, exit and uffd modes

Options:
  --quick      small sizes, fewer rows, aimed at two minutes (target bench-quick); results go to bench/results/quick/
               (git-ignored) unless --out says, never over the committed full results; a run of
               every scenario also writes its times to bench/results/quick-time.json (or to --out)
  --full       adds a 64 GiB scale row (where the host has the memory)
  --seed N     seed of every simulated run (default 1)
  --out DIR    where <scenario>.json is written (default bench/results, bench/results/quick with --quick)
  -h, --help   this text`;

export interface RunnerArgs {
  scenarios: ScenarioName[];
  options: BenchOptions;
  help: boolean;
}

const FLAGS = {
  quick: { type: 'boolean', default: false },
  full: { type: 'boolean', default: false },
  seed: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function parseStrict(argv: string[]) {
  try {
    return parseArgs({ args: argv, strict: true, allowPositionals: true, options: FLAGS });
  } catch (e) {
    // node:util's message for an unknown flag runs on with advice; keep the one fact.
    const unknown = /Unknown option '([^']+)'/.exec(errorLine(e));
    throw new Error(unknown ? `unknown option ${unknown[1]}` : errorLine(e));
  }
}

/** Parses argv (strict); throws an Error whose message is the one line to print. */
export function parseRunnerArgs(argv: string[]): RunnerArgs {
  const { values, positionals } = parseStrict(argv);
  if (values.quick && values.full) throw new Error('--quick and --full exclude each other');
  let seed: number | undefined;
  if (values.seed !== undefined) {
    seed = Number(values.seed);
    if (!/^\d+$/.test(values.seed) || !Number.isSafeInteger(seed) || seed > 0xffffffff) {
      throw new Error(`--seed must be an integer from 0 to 4294967295, got "${values.seed}"`);
    }
  }
  for (const p of positionals) {
    if (!(SCENARIOS as readonly string[]).includes(p)) throw new Error(`unknown scenario "${p}" (one of: ${SCENARIOS.join(', ')})`);
  }
  const named = new Set(positionals);
  return {
    scenarios: named.size ? SCENARIOS.filter((s) => named.has(s)) : [...SCENARIOS],
    options: { quick: values.quick, full: values.full, ...(seed !== undefined ? { seed } : {}), ...(values.out ? { outDir: values.out } : {}) },
    help: values.help,
  };
}

/**
 * Each scenario's wall time in the previous run of the same kind (quick, full or default) whose
 * results are in `outDir`, or null: what the progress ETA is computed from.
 */
export function previousDurations(scenarios: readonly ScenarioName[], outDir: string, o: { quick: boolean; full: boolean }): Array<number | null> {
  let previous: Results = {};
  try {
    previous = loadResults(outDir);
  } catch {
    /* an unreadable old result only costs the ETA */
  }
  return scenarios.map((name) => {
    const r = previous[name];
    return r && r.quick === o.quick && r.full === o.full && Number.isFinite(r.durationMs) ? r.durationMs : null;
  });
}

/** Runs the scenarios; returns what they produced and the scenarios that threw. */
export async function runBench(scenarios: ScenarioName[], options: BenchOptions, progress?: BenchProgress): Promise<{ results: Results; errors: string[] }> {
  const o = resolveBenchOptions(options);
  const results: Results = {};
  const errors: string[] = [];
  for (const name of scenarios) {
    const t0 = performance.now();
    progress?.scenarioStart(name);
    o.log(`${name}: start`);
    try {
      switch (name) {
        case 'paging-rate':
          results['paging-rate'] = await runPagingRate(o);
          break;
        case 'floors':
          results.floors = await runFloors({ ...o, ...(results['paging-rate'] ? { pagingRate: results['paging-rate'].body } : {}) });
          break;
        case 'kernel':
          results.kernel = await runKernel({ ...o, ...(results['paging-rate'] ? { pagingRate: results['paging-rate'].body } : {}) });
          break;
        case 'pipeline':
          results.pipeline = await runPipeline(o);
          break;
        case 'scale':
          results.scale = await runScale(o);
          break;
        case 'network':
          results.network = await runNetwork(o);
          break;
        case 'soak': {
          const { body, summary } = await runSoak(o);
          const env = envelope('soak', o, t0, [], body);
          writeResult(o.outDir, env);
          results.soak = { ...env, summary };
          break;
        }
        case 'workloads':
          results.workloads = await runWorkloads(o);
          break;
        case 'fault-records':
          results['fault-records'] = await runFaultRecords(o);
          break;
        case 'front-door':
          results['front-door'] = await runFrontDoor(o);
          break;
        case 'engine-speed':
          results['engine-speed'] = await runEngineSpeed(o);
          break;
        case 'published': {
          const { body, summary } = await runPublished(o);
          const env = envelope('published', o, t0, [], body);
          writeResult(o.outDir, env);
          results.published = { ...env, summary };
          break;
        }
      }
      if (progress) progress.scenarioDone(name, false);
      else o.log(`${name}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } catch (e) {
      errors.push(`${name}: ${errorLine(e)}`);
      o.log(`${name}: FAILED ${errorLine(e)}`);
      progress?.scenarioDone(name, true);
    }
  }
  return { results, errors };
}

async function main(): Promise<number> {
  let args: RunnerArgs;
  try {
    args = parseRunnerArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`bench: ${errorLine(e)} (see --help)\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const m = machineFacts();
  const resolved = resolveBenchOptions(args.options);
  const progress = benchProgress({
    names: args.scenarios,
    expectedMs: previousDurations(args.scenarios, resolved.outDir, resolved),
    tty: process.stderr.isTTY === true,
    write: (line) => process.stderr.write(`${line}\n`),
  });
  const o = { ...resolved, log: (line: string) => progress.log(`[bench] ${line}`) };
  o.log(
    `${m.cpuModel}, ${m.cores} cores, Node ${m.node}, commit ${m.commit ?? 'unknown'}; seed ${o.seed}` +
      `${o.quick ? ', quick' : o.full ? ', full' : ''}; results in ${o.outDir}`,
  );
  const t0 = performance.now();
  let outcome: Awaited<ReturnType<typeof runBench>>;
  try {
    outcome = await runBench(args.scenarios, { ...args.options, log: o.log }, progress);
  } finally {
    progress.stop();
  }
  const { results, errors } = outcome;
  // A quick run of every scenario leaves its times beside the committed results (bench-time.ts).
  const quickTime = o.quick ? quickTimeOf(results) : null;
  if (quickTime) writeQuickTime(args.options.outDir ?? join(repoRoot(), 'bench', 'results'), quickTime);
  const failed = [...errors, ...failures(results)];
  o.log(`all done in ${((performance.now() - t0) / 1000).toFixed(1)} s${failed.length ? `; ${failed.length} failed` : ''}`);
  for (const f of failed) process.stderr.write(`bench: FAILED ${f}\n`);
  await new Promise<void>((resolve) => process.stdout.write(renderSummary(results), () => resolve()));
  return failed.length ? 1 : 0;
}

// Only as the entry point: the test imports parseRunnerArgs and runBench.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`bench: ${errorLine(e)}\n`);
      process.exit(1);
    },
  );
}

#!/usr/bin/env node
/**
 * postcopy-sim command line. stdout carries results (a table, or exactly one JSON value with
 * --json); progress and logs go to stderr. Bad input: one line on stderr, exit code 2.
 */
import { readFileSync } from 'node:fs';
import { sourcePath } from '../paths.js';
import { simulate } from '../simulate.js';
import { clip, SimError, signalExitCode } from '../errors.js';
import { formatSummary } from './format.js';
import { formatCompare } from './compare-table.js';
import { compare, parseStrategyList } from '../compare.js';
import { checkFlagsApply, parseCommand } from './args.js';
import { flagHelp } from './option-flags.js';
import { progressHooks, stopAllBars, type Progress } from './progress.js';
import { resolveOptions, type OptionsInput } from '../options.js';
import { runsAtOnce, runSideBySide, sleepBound } from '../side-by-side.js';
import type { RunResult } from '../model/result.js';

const USAGE = `usage: postcopy-sim <command> [options]

Commands:
  run       one migration; prints a summary table, or one JSON object with --json
  start     the built-in default scenario in both fault modes, side by side
  compare   one workload under several strategies (--strategies a,b,... default all), one table
  sweep     a sweep file (axes over any option, seeds) -> JSON Lines, in parallel, resumable, shardable
  report    saved results (run/start/compare --json, bench/results/*.json) -> one offline HTML file with plots
  demo      a local web page that shows a migration live (http://127.0.0.1:8080/ by default)
  calibrate measures this host's costs for --engine virtual and writes a cost profile
  trace     record a real program's page faults as a trace (trace record -- CMD), import perf script
            text, or measure a trace's locality (trace stats FILE); see: postcopy-sim trace help
  help      this text; help COMMAND (or COMMAND --help): that command's own flags
  --version, -V  the package version

Exit codes:
  0    ok (run/start/compare: every run verified)
  1    a run failed (a SimError: a page never arrived, a worker died, ...) or did not verify
  2    bad input: one line, postcopy-sim: error: FIELD: why
  70   internal error (a bug: the stack trace is printed)
  130  interrupted (Ctrl-C): results of the unfinished command are discarded
  143  stopped by SIGTERM: the same as Ctrl-C

Run \`postcopy-sim help run\` for the options of run, start and compare.`;

const COMMAND_HELP: Record<'run' | 'start' | 'compare', string> = {
  run: `usage: postcopy-sim run [options]\n  one migration; prints a summary table, or one JSON object with --json\n\n${flagHelp()}`,
  start: `usage: postcopy-sim start [options]\n  runs the scenario in exit and uffd mode and prints them side by side (--mode is set per run;\n  uffd-only flags such as --handlers apply to its uffd run)\n\n${flagHelp(['--mode'])}`,
  compare: `usage: postcopy-sim compare [--strategies a,b,...] [--full] [options]
  one workload under several strategies plus a no-migration baseline: one table with the strategies
  as columns and the rows that decide, then one line per strategy against the first (the baseline)
  --strategies LIST    the strategies to run, comma-separated (default all); --strategy is rejected:
                       compare sets it per run. Without --accesses, demand is skipped (with a note):
                       with no push, its migration would only end when the guest does
  --full               every row of the summary table, not only the deciding ones
  Dilated threaded runs sleep most of their wall time: one per core runs at once, each reporting
  the simulator share it measured under that load.

${flagHelp(['--strategy'])}`,
};

function version(): string {
  const pkg = JSON.parse(readFileSync(sourcePath('package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** What Ctrl-C throws away, for its one-line message; each command sets it as it goes. */
let discarding = 'nothing was written';

async function runOne(options: OptionsInput, showProgress: boolean, label: string, bar = true): Promise<RunResult> {
  const resolved = resolveOptions(options);
  const { hooks, stop } = progressHooks(showProgress, label, process.stderr, bar);
  try {
    return await simulate(resolved, hooks);
  } finally {
    stop();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    case 'help':
      if (rest[0] === undefined) {
        process.stdout.write(`${USAGE}\n`);
        return 0;
      }
      if (rest[0] === 'help') {
        process.stdout.write(`${USAGE}\n`);
        return 0;
      }
      return main([rest[0], '--help']);
    case '--version':
    case '-V':
    case 'version':
      process.stdout.write(`${version()}\n`);
      return 0;
    case 'run': {
      const cmd = parseCommand(rest);
      if (cmd.help) {
        process.stdout.write(`${COMMAND_HELP.run}\n`);
        return 0;
      }
      if (cmd.positionals.length) throw new SimError('BAD_INPUT', `run: unexpected argument "${cmd.positionals[0]}"`);
      checkFlagsApply(cmd, 'run');
      discarding = 'the migrating run in progress was discarded; nothing was written';
      const r = await runOne(cmd.options, !cmd.json, 'migrating');
      process.stdout.write(cmd.json ? `${JSON.stringify(r)}\n` : `${formatSummary([r], undefined, tableContext(cmd.options))}\n`);
      return r.verified ? 0 : 1;
    }
    case 'start': {
      const cmd = parseCommand(rest);
      if (cmd.help) {
        process.stdout.write(`${COMMAND_HELP.start}\n`);
        return 0;
      }
      if (cmd.positionals.length) throw new SimError('BAD_INPUT', `start: unexpected argument "${cmd.positionals[0]}"`);
      checkFlagsApply(cmd, 'start');
      const modes = ['exit', 'uffd'] as const;
      // Dilated runs sleep most of their wall time: both modes run at once (src/side-by-side.ts).
      const together = runsAtOnce() > 1 && modes.every((mode) => sleepBound(resolveOptions({ ...cmd.options, mode })));
      const done: string[] = [];
      discarding = 'the runs in progress were discarded; nothing was written';
      const results = await runSideBySide(modes.length, together ? runsAtOnce() : 1, async (i) => {
        const r = await runOne({ ...cmd.options, mode: modes[i] }, !cmd.json, modes[i]!, !together);
        done.push(r.mode);
        discarding = `finished runs (${done.join(', ')}) and the one in progress were discarded; nothing was written`;
        return r;
      });
      process.stdout.write(cmd.json ? `${JSON.stringify(results)}\n` : `${formatSummary(results, undefined, tableContext(cmd.options))}\n`);
      return results.every((r) => r.verified) ? 0 : 1;
    }
    case 'compare': {
      const cmd = parseCommand(rest, { strategies: { type: 'string' }, full: { type: 'boolean' } });
      if (cmd.help) {
        process.stdout.write(`${COMMAND_HELP.compare}\n`);
        return 0;
      }
      if (cmd.positionals.length) throw new SimError('BAD_INPUT', `compare: unexpected argument "${cmd.positionals[0]}"`);
      checkFlagsApply(cmd, 'compare');
      let names = parseStrategyList(cmd.extra.strategies as string | undefined);
      const o = cmd.options as { accesses?: unknown; workload?: string };
      if (cmd.extra.strategies === undefined && o.accesses === undefined && o.workload !== 'trace') {
        names = names.filter((n) => n !== 'demand');
        process.stderr.write('compare: skipping demand: it needs --accesses N (with no push, its migration would only end when the guest does)\n');
      }
      // Dilated runs go at once (src/side-by-side.ts, as compare() decides): each says its plan line, no bars.
      const together = runsAtOnce() > 1 && names.every((s) => sleepBound(resolveOptions({ ...cmd.options, strategy: s })));
      let current: Progress | undefined;
      let done = 0;
      const hooksFor = (name: string) => {
        if (together) {
          discarding = 'the strategy runs in progress were discarded; nothing was written';
          return progressHooks(!cmd.json, name, process.stderr, false).hooks;
        }
        current?.stop();
        if (current) done++;
        discarding = `${done} finished strategy run${done === 1 ? '' : 's'} and the ${name} run in progress were discarded; nothing was written`;
        current = progressHooks(!cmd.json, name);
        return current.hooks;
      };
      discarding = 'the baseline run in progress was discarded; nothing was written';
      let results: RunResult[];
      try {
        results = await compare(cmd.options, names, hooksFor);
      } finally {
        current?.stop();
      }
      process.stdout.write(
        cmd.json
          ? `${JSON.stringify(results)}\n`
          : `${formatCompare(
              results,
              results.map((r) => r.strategy),
              tableContext(cmd.options),
              cmd.extra.full === true,
            )}\n`,
      );
      return results.every((r) => r.verified) ? 0 : 1;
    }
    // Each of these loads its own modules when it runs (the report's plotting and DOM, the demo's
    // server, the calibration's probes): every other command starts without them (measured:
    // `--version` 0.46 s of wall with them loaded up front).
    case 'report':
      return (await import('./see.js')).reportCommand(rest);
    case 'demo':
      return (await import('./see.js')).demoCommand(rest);
    case 'calibrate':
      return (await import('./calibrate.js')).calibrateCommand(rest);
    case 'trace':
      return (await import('./trace.js')).traceCommand(rest);
    case 'sweep':
      return (await import('../sweep/command.js')).sweepCommand(rest);
    default:
      throw new SimError('BAD_INPUT', `unknown command "${clip(command)}" (try: postcopy-sim help)`);
  }
}

/** What the summary table needs that a result does not carry. */
function tableContext(options: OptionsInput): { network: 'link' | 'none' } {
  return { network: (options as { network?: string }).network === 'none' ? 'none' : 'link' };
}

const SELF_HANDLED = new Set(['sweep', 'demo']); // these stop cleanly on Ctrl-C themselves
/** Ctrl-C or SIGTERM: bars stopped, the cursor shown, one line, exit 130 / 143; process.exit runs the 'exit' cleanups (trace temp directories). */
function stop(signal: 'SIGINT' | 'SIGTERM'): never {
  stopAllBars(true);
  process.stderr.write(`\npostcopy-sim: interrupted${signal === 'SIGTERM' ? ' (SIGTERM)' : ''}: ${discarding}\n`);
  process.exit(signalExitCode(signal));
}
if (!SELF_HANDLED.has(process.argv[2] ?? '')) {
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main(process.argv.slice(2)).then(
  (code) => {
    stopAllBars();
    process.exitCode = code;
  },
  (e: unknown) => {
    stopAllBars();
    // A child (calibrate's native runs) died of the signal that stops us: the same as the signal itself.
    if (e instanceof SimError && e.code === 'ABORTED' && /^interrupted by SIG(INT|TERM)$/.test(e.message))
      stop(e.message.endsWith('TERM') ? 'SIGTERM' : 'SIGINT');
    if (e instanceof SimError) {
      process.stderr.write(`postcopy-sim: ${e.code === 'BAD_INPUT' ? 'error' : e.code}: ${e.message}\n`);
      process.exitCode = e.exitCode;
    } else {
      process.stderr.write(`postcopy-sim: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = 70;
    }
  },
);

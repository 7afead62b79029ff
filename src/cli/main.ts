#!/usr/bin/env node
/**
 * postcopy-sim command line. stdout carries results (a table, or exactly one JSON value with
 * --json); progress and logs go to stderr. Bad input: one line on stderr, exit code 2.
 */
import { SingleBar } from 'cli-progress';
import { simulate, type SimulateHooks } from '../simulate.js';
import { SimError } from '../errors.js';
import { formatSummary } from './format.js';
import { compare, parseStrategyList } from '../compare.js';
import { demoCommand, reportCommand } from './see.js';
import { calibrateCommand } from './calibrate.js';
import { traceCommand } from './trace.js';
import { sweepCommand } from '../sweep/command.js';
import { FLAG_HELP, parseCommand } from './args.js';
import { resolveOptions, type OptionsInput } from '../options.js';
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
  help      this text

${FLAG_HELP}`;

/** A progress bar on a TTY (stderr), nothing when piped; it reads the engine's event stream. */
function progressHooks(enabled: boolean, label: string): { hooks: SimulateHooks; stop: () => void } {
  if (!enabled || !process.stderr.isTTY) return { hooks: {}, stop: () => {} };
  const bar = new SingleBar({
    format: `${label} [{bar}] {percentage}% | {value}/{total} pages | {faults} faults`, stream: process.stderr, hideCursor: true,
  });
  let started = false;
  return {
    hooks: {
      onEvent: (e) => {
        if (e.type === 'start') { bar.start(e.pages, 0, { faults: 0 }); started = true; }
        if (e.type === 'tick' && started) bar.update(e.presentPages, { faults: e.faults });
      },
    },
    stop: () => { if (started) bar.stop(); },
  };
}

async function runOne(options: OptionsInput, showProgress: boolean, label: string): Promise<RunResult> {
  const resolved = resolveOptions(options);
  const { hooks, stop } = progressHooks(showProgress, label);
  try { return await simulate(resolved, hooks); } finally { stop(); }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    case 'run': {
      const cmd = parseCommand(rest);
      if (cmd.help) { process.stdout.write(`usage: postcopy-sim run [options]\n\n${FLAG_HELP}\n`); return 0; }
      if (cmd.positionals.length) throw new SimError('BAD_INPUT', `run: unexpected argument "${cmd.positionals[0]}"`);
      const r = await runOne(cmd.options, !cmd.json, 'migrating');
      process.stdout.write(cmd.json ? `${JSON.stringify(r)}\n` : `${formatSummary([r])}\n`);
      return r.verified ? 0 : 1;
    }
    case 'start': {
      const cmd = parseCommand(rest);
      if (cmd.help) { process.stdout.write('usage: postcopy-sim start [options]\n  runs the scenario in exit and uffd mode and prints them side by side\n'); return 0; }
      const results: RunResult[] = [];
      for (const mode of ['exit', 'uffd'] as const) results.push(await runOne({ ...cmd.options, mode }, !cmd.json, mode));
      process.stdout.write(cmd.json ? `${JSON.stringify(results)}\n` : `${formatSummary(results)}\n`);
      return results.every((r) => r.verified) ? 0 : 1;
    }
    case 'compare': {
      const cmd = parseCommand(rest, { strategies: { type: 'string' } });
      if (cmd.help) { process.stdout.write(`usage: postcopy-sim compare [--strategies a,b,...] [options]\n\n${FLAG_HELP}\n`); return 0; }
      if (cmd.positionals.length) throw new SimError('BAD_INPUT', `compare: unexpected argument "${cmd.positionals[0]}"`);
      const names = parseStrategyList(cmd.extra.strategies as string | undefined);
      const results = await compare(cmd.options, names, (name) => progressHooks(!cmd.json, name).hooks);
      process.stdout.write(cmd.json ? `${JSON.stringify(results)}\n` : `${formatSummary(results, results.map((r) => r.strategy))}\n`);
      return results.every((r) => r.verified) ? 0 : 1;
    }
    case 'report':
      return reportCommand(rest);
    case 'demo':
      return demoCommand(rest);
    case 'calibrate':
      return calibrateCommand(rest);
    case 'trace':
      return traceCommand(rest);
    case 'sweep':
      return sweepCommand(rest);
    default:
      throw new SimError('BAD_INPUT', `unknown command "${command}" (try: postcopy-sim help)`);
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    if (e instanceof SimError) {
      process.stderr.write(`postcopy-sim: ${e.code === 'BAD_INPUT' ? 'error' : e.code}: ${e.message}\n`);
      process.exitCode = e.exitCode;
    } else {
      process.stderr.write(`postcopy-sim: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = 70;
    }
  },
);

/**
 * The CLI's "see it" commands: `report` (saved results -> one offline HTML file) and `demo` (the
 * live teaching page on a local web server). Flags are parsed strictly; every bad input is a
 * BAD_INPUT SimError with one line, like the other commands.
 */
import { probeWritable, writeAtomically } from './output-file.js';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type DemoServer, startDemoServer } from '../demo/server.js';
import { Errors, SimError, signalExitCode } from '../errors.js';
import { flagError } from './flag-error.js';
import { parseJsonText } from '../files.js';
import { renderReport } from '../report/index.js';
import { looksLikeSweep, readSweepLines, sweepCsv } from '../report/sweep-input.js';
import { renderSweepReport } from '../report/sweep-report.js';
import { parseSize } from '../units.js';

export const REPORT_USAGE = `usage: postcopy-sim report RESULTS.json [-o report.html]
       postcopy-sim report SWEEP.jsonl [--x OPT] [--series OPT] [--metric M] [--format html|csv] [-o FILE]

  Turns saved results into one self-contained HTML file (inline SVG charts, opens offline):
  the --json output of run, start or compare, a bench results file (bench/results/*.json), or
  the JSON Lines of \`postcopy-sim sweep\` (each line checked against docs/sweep-result.schema.json).
  -o, --output FILE   where to write the report (default: stdout)
  Sweeps only:
  --x OPT             swept option on the x axis (default: the first numeric one)
  --series OPT        one line per value of this option (default: the other swept options combined)
  --metric M          number to plot, a RunResult field or path (default faultsPerSec; e.g. faultLatencyUs.p99)
  --format F          html (default) or csv (one row per cell: swept options, status, metrics)`;

export const DEMO_USAGE = `usage: postcopy-sim demo [--host HOST] [--port PORT]

  Serves the live demo page and prints its URL; runs until Ctrl-C.
  --host HOST          interface to listen on (default 127.0.0.1; anything else exposes the demo)
  --port PORT          TCP port, 0 for any free port (default 8080)
  --max-memory SIZE    largest guest a run may have (default 4GiB)
  --max-vcpus N        most vCPUs a run may have (default 16)`;

function parse(
  command: 'report' | 'demo',
  argv: string[],
  options: Record<string, { type: 'string' | 'boolean'; short?: string }>,
  positionals: boolean,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' }, ...options }, strict: true, allowPositionals: positionals });
    return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
  } catch (e) {
    throw flagError(e, command);
  }
}

export async function reportCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    'report',
    argv,
    {
      output: { type: 'string', short: 'o' },
      x: { type: 'string' },
      series: { type: 'string' },
      metric: { type: 'string' },
      format: { type: 'string' },
    },
    true,
  );
  if (values.help) {
    process.stdout.write(`${REPORT_USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1)
    throw Errors.badInput(
      'report',
      positionals.length ? `expected one results file, got ${positionals.length}` : 'name the results file (postcopy-sim report RESULTS.json -o report.html)',
    );
  const file = positionals[0]!;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw Errors.badInput('', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const out = values.output as string | undefined;
  if (out !== undefined && out !== '-') probeWritable(out, '--output'); // before the report is built
  const format = (values.format as string | undefined) ?? 'html';
  if (format !== 'html' && format !== 'csv') throw Errors.badInput('--format', `must be html or csv, got "${format}"`);
  const sweepFlags = ['x', 'series', 'metric', 'format'].filter((k) => values[k] !== undefined);
  // A bad field inside the results: name the file in front of the line.
  const inFile = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof SimError) throw new SimError(e.code, `${file}: ${e.message}`);
      throw e;
    }
  };
  let html: string;
  if (looksLikeSweep(text)) {
    const plot = { x: values.x as string | undefined, series: values.series as string | undefined, metric: values.metric as string | undefined };
    html = inFile(() => {
      const { records, tornTail } = readSweepLines(text);
      return format === 'csv' ? sweepCsv(records, plot.metric) : renderSweepReport(records, plot, tornTail);
    });
  } else {
    if (sweepFlags.length) throw Errors.badInput(`--${sweepFlags[0]}`, 'applies to sweep results (postcopy-sim sweep output) only');
    const data = parseJsonText(text, file, '');
    html = inFile(() => renderReport(data));
  }
  if (out === undefined || out === '-') {
    process.stdout.write(html);
    return 0;
  }
  writeAtomically(out, html, '--output');
  process.stderr.write(`postcopy-sim: wrote ${out} (${Math.round(html.length / 1024)} KiB)\n`);
  return 0;
}

export async function demoCommand(argv: string[]): Promise<number> {
  const { values } = parse(
    'demo',
    argv,
    {
      host: { type: 'string' },
      port: { type: 'string' },
      'max-memory': { type: 'string' },
      'max-vcpus': { type: 'string' },
    },
    false,
  );
  if (values.help) {
    process.stdout.write(`${DEMO_USAGE}\n`);
    return 0;
  }
  const host = (values.host as string | undefined) ?? '127.0.0.1';
  if (!host || /[\s/]/.test(host)) throw Errors.badInput('--host', `"${host}" is not a host name or address`);
  const portText = (values.port as string | undefined) ?? '8080';
  if (!/^\d+$/.test(portText) || Number(portText) > 65535) throw Errors.badInput('--port', `"${portText}" is not a port number (0-65535)`);
  let maxMemoryBytes: number | undefined;
  if (values['max-memory'] !== undefined) {
    try {
      maxMemoryBytes = parseSize(values['max-memory'] as string);
    } catch (e) {
      throw Errors.badInput('--max-memory', (e as Error).message);
    }
  }
  let maxVcpus: number | undefined;
  if (values['max-vcpus'] !== undefined) {
    const n = Number(values['max-vcpus']);
    if (!Number.isInteger(n) || n < 1 || n > 256) throw Errors.badInput('--max-vcpus', 'must be a whole number from 1 to 256');
    maxVcpus = n;
  }
  let server: DemoServer;
  try {
    server = await startDemoServer({ host, port: Number(portText), maxMemoryBytes, maxVcpus });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      throw Errors.badInput('', `cannot listen on ${host}:${portText}: ${code}`);
    }
    throw e;
  }
  if (!/^(127\.|localhost$|::1$)/.test(host)) {
    process.stderr.write(`postcopy-sim: warning: the demo listens on ${host}, not only on this machine's loopback\n`);
  }
  process.stdout.write(`${server.url}\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const stop = (sig: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(sig);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
  // The same line and exit code as every other command (src/cli/main.ts): 130 on Ctrl-C, 143 on SIGTERM.
  process.stderr.write(`\npostcopy-sim: interrupted${signal === 'SIGTERM' ? ' (SIGTERM)' : ''}: the demo server stopped; runs still playing were discarded\n`);
  return signalExitCode(signal);
}

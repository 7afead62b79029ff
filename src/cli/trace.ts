/**
 * `postcopy-sim trace`: traces of real programs. `record` runs a program under perf and writes a v2
 * trace, `import` converts perf script text recorded elsewhere, `stats` prints what a trace holds
 * and its spatial locality (src/model/locality.ts). Progress and summaries go to stderr: during
 * `record`, stdout belongs to the recorded program.
 */
import { probeWritable } from './output-file.js';
import { parseArgs } from 'node:util';
import { Errors } from '../errors.js';
import { parseArgsWhy } from './flag-error.js';
import { formatBytes } from '../units.js';
import { convertPerfScript, type Conversion } from '../trace/convert.js';
import { recordTrace } from '../trace/record.js';
import { traceStats } from '../trace/stats.js';

export const TRACE_USAGE = `usage:
  postcopy-sim trace record [--out FILE] -- CMD [ARGS]   run CMD under perf, write its page faults as a trace
  postcopy-sim trace import PERF_SCRIPT [--out FILE]     convert perf script text (see below) into a trace
  postcopy-sim trace stats TRACE [--json]                what a trace holds, and its spatial locality

--out FILE   the trace to write, gzipped when it ends in .gz (default trace.txt.gz)

record needs perf (Debian: linux-perf; or PERF=/path/to/perf) and root or kernel.perf_event_paranoid <= 2.
import reads the output of
  perf record -e page-faults -c 1 -d -- CMD
  perf script -F comm,pid,tid,time,event,addr --show-mmap-events > PERF_SCRIPT
Replay a trace with: postcopy-sim run --workload trace --trace FILE [--trace-timing recorded|asap]`;

const DEFAULT_OUT = 'trace.txt.gz';

export async function traceCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'record':
      return record(rest);
    case 'import':
      return importCommand(rest);
    case 'stats':
      return stats(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${TRACE_USAGE}\n`);
      return 0;
    default:
      throw Errors.badInput('trace', `unknown subcommand "${sub}" (record, import or stats)`);
  }
}

function parse(what: string, argv: string[], json = false) {
  try {
    return parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: { out: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' }, ...(json ? { json: { type: 'boolean' } } : {}) },
    });
  } catch (e) {
    throw Errors.badInput(what, parseArgsWhy((e as Error).message, 'trace'));
  }
}

async function record(argv: string[]): Promise<number> {
  const dash = argv.indexOf('--');
  const own = parse('trace record', dash < 0 ? argv : argv.slice(0, dash));
  if (own.values.help) {
    process.stdout.write(`${TRACE_USAGE}\n`);
    return 0;
  }
  if (dash < 0 || own.positionals.length) throw Errors.badInput('trace record', 'put the program after --: trace record [--out FILE] -- CMD [ARGS]');
  const out = own.values.out ?? DEFAULT_OUT;
  probeWritable(out, '--out'); // before the program runs
  const r = await recordTrace(argv.slice(dash + 1), out, (line) => process.stderr.write(`postcopy-sim: ${line}\n`));
  process.stderr.write(`${summary(r)}\n`);
  return 0;
}

async function importCommand(argv: string[]): Promise<number> {
  const a = parse('trace import', argv);
  if (a.values.help) {
    process.stdout.write(`${TRACE_USAGE}\n`);
    return 0;
  }
  if (a.positionals.length !== 1) throw Errors.badInput('trace import', 'name one perf script file: trace import PERF_SCRIPT [--out FILE]');
  const input = a.positionals[0]!;
  const out = a.values.out ?? DEFAULT_OUT;
  probeWritable(out, '--out'); // before the conversion
  const r = await convertPerfScript(input, out, `perf script ${input}`);
  process.stderr.write(`${summary(r)}\n`);
  return 0;
}

function summary(r: Conversion): string {
  return (
    `postcopy-sim: ${r.accesses} page faults of ${r.vcpus} thread${r.vcpus === 1 ? '' : 's'} (vCPUs) over ${(r.durationUs / 1000).toFixed(1)} ms; ` +
    `${r.areas} areas packed into ${formatBytes(r.memoryBytes)} of guest memory` +
    `${r.droppedKernel ? `; ${r.droppedKernel} faults on kernel addresses dropped` : ''} -> ${r.file} (${formatBytes(r.bytesWritten)})`
  );
}

async function stats(argv: string[]): Promise<number> {
  const a = parse('trace stats', argv, true);
  if (a.values.help) {
    process.stdout.write(`${TRACE_USAGE}\n`);
    return 0;
  }
  if (a.positionals.length !== 1) throw Errors.badInput('trace stats', 'name one trace file: trace stats TRACE [--json]');
  const s = await traceStats(a.positionals[0]!);
  if (a.values.json) {
    process.stdout.write(`${JSON.stringify(s)}\n`);
    return 0;
  }
  const l = s.locality;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const lines = [
    `trace ${s.file}: v${s.header.version}${s.header.source ? `, from: ${s.header.source}` : ''}`,
    `  ${l.accesses} accesses by ${s.vcpus} vCPUs${s.durationUs !== null ? ` over ${(s.durationUs / 1000).toFixed(1)} ms` : ''}; ${s.distinctPages} distinct pages` +
      `${s.header.memoryBytes ? ` in ${formatBytes(s.header.memoryBytes)} of guest memory` : ''}`,
    `  next first touch of the same vCPU: +1 page ${pct(l.nextPage)}, ahead within ${l.windowPages} pages ${pct(l.forwardNear)}, ` +
      `behind within ${l.windowPages} ${pct(l.backwardNear)}, further ${pct(l.far)}`,
    ...(l.gapUsP50 !== null ? [`  time between a vCPU's first touches: p50 ${l.gapUsP50} us, mean ${l.gapUsMean} us`] : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

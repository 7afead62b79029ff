// Regenerates the strategy tables (docs/strategies.md) from measured `compare` runs (nothing hand-typed).
// The runs are time-dilated (`auto`, the default on a modelled link: docs/dilation.md), so every
// time in the tables is modelled time and the simulator's own cost is at most a few % of a fault;
// each table says the D it ran at and the simulator's share it measured. The wall budget is raised
// (--wall-budget 300s) so that auto's D is the one 5% needs, not the one the 5 s default allows.
// The tables are written from bench/results/strategies.json: --run measures first and writes it;
// without --run the block is rewritten from the committed file, and --check only says whether it is
// up to date (exit 1 when not: test/doc-numbers.test.ts).
// Usage: npm run build && node scripts/readme-strategies.mjs [--run | --check]   (--run takes several minutes: D times the modelled time)
import { readFileSync, mkdirSync } from 'node:fs';
import { writeFileAtomically } from './marked-block.mjs';
import { machineFacts } from '../dist/bench/common.js';

const args = process.argv.slice(2);
const bad = args.find((a) => a !== '--run' && a !== '--check');
if (bad) {
  process.stderr.write(`readme-strategies: unknown option ${bad}\n`);
  process.exit(2);
}
const run = args.includes('--run'),
  check = args.includes('--check');
const RESULTS = 'bench/results/strategies.json';

const experiments = [
  {
    title: 'Vanilla postcopy against postcopy-preempt: a write-heavy guest on a saturated 10 Gbit/s link, 4 KiB pages',
    command:
      'postcopy-sim compare --vcpus 2 --memory 256MiB --workload random --write-ratio 0.8 --bandwidth 10Gbit --strategies linear,preempt --wall-budget 300s',
    options: { vcpus: 2, memory: '256MiB', workload: 'random', writeRatio: 0.8, bandwidth: '10Gbit', seed: 1, wallBudget: '300s' },
    strategies: ['linear', 'preempt'],
  },
  {
    title: 'The same at 2.5 Gbit/s',
    command:
      'postcopy-sim compare --vcpus 2 --memory 128MiB --workload random --write-ratio 0.8 --bandwidth 2500Mbit --strategies linear,preempt --wall-budget 300s',
    options: { vcpus: 2, memory: '128MiB', workload: 'random', writeRatio: 0.8, bandwidth: '2500Mbit', seed: 1, wallBudget: '300s' },
    strategies: ['linear', 'preempt'],
  },
  {
    title: 'A zipfian guest (4 vCPUs, hot set, 30% writes) under every strategy that pushes while it runs',
    command: 'postcopy-sim compare --vcpus 4 --memory 256MiB --workload zipf --strategies linear,prepaging,stride,preempt,hybrid --wall-budget 300s',
    options: { vcpus: 4, memory: '256MiB', workload: 'zipf', seed: 1, wallBudget: '300s' },
    strategies: ['linear', 'prepaging', 'stride', 'preempt', 'hybrid'],
  },
];

const ms = (us) => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(0)} us`);
const rows = [
  ['migration', (r) => `${r.migrationMs.toFixed(0)} ms`],
  ['downtime', (r) => (r.strategy === 'hybrid' ? `${r.downtimeMs.toFixed(2)} ms` : '-')],
  ['faults', (r) => String(r.faults)],
  ['fault latency p50', (r) => ms(r.faultLatencyUs.p50)],
  ['fault latency p99', (r) => ms(r.faultLatencyUs.p99)],
  ['queued behind the bulk stream (mean)', (r) => ms(r.demandQueueUs.mean)],
  [
    'fault time in simulator threads (mean)',
    (r) =>
      r.faultBreakdownUs ? ms(r.faultBreakdownUs.toFetcher + r.faultBreakdownUs.atSource + r.faultBreakdownUs.toInstall + r.faultBreakdownUs.toResume) : '-',
  ],
  ['blocktime (all vCPUs)', (r) => `${r.blocktimeMs.toFixed(0)} ms`],
  ['pages prefetched / urgent / resent', (r) => `${r.pagesPrefetched} / ${r.pagesUrgent} / ${r.pagesResent}`],
  ['wasted copies (EEXIST)', (r) => String(r.duplicatePages)],
  ['bytes on wire', (r) => `${(r.bytesOnWire / 2 ** 20).toFixed(1)} MiB`],
  ['link utilisation', (r) => (r.linkUtilisation === null ? '-' : `${Math.round(r.linkUtilisation * 100)}%`)],
  ['guest degradation', (r) => (r.degradation === null ? '-' : `${(r.degradation * 100).toFixed(1)}%`)],
  ['time dilation (simulator share measured)', (r) => `${r.dilation.factor}x (${r.dilation.share === null ? '-' : `${(r.dilation.share * 100).toFixed(1)}%`})`],
  ['wall time', (r) => `${(r.wallMs / 1000).toFixed(1)} s`],
  ['verified', (r) => String(r.verified)],
];

if (run) {
  const { compare } = await import('../dist/src/compare.js');
  // Where it was measured is what the tree held when the runs started (a doc edited meanwhile is not the code measured).
  const machine = machineFacts();
  const started = Date.now();
  const all = [];
  for (const e of experiments) {
    process.stderr.write(`${e.title}\n`);
    const rs = await compare(e.options, e.strategies);
    all.push({ title: e.title, command: e.command, results: rs.map(({ timeline, latencyCdf, pageMap, services, ...r }) => r) });
  }
  mkdirSync('bench/results', { recursive: true });
  const durationMs = Date.now() - started;
  writeFileAtomically(RESULTS, JSON.stringify({ date: new Date().toISOString(), machine, durationMs, experiments: all }, null, 1));
}

// The tables, from the results file: each experiment's title and command as it ran, one column per strategy.
const results = JSON.parse(readFileSync(RESULTS, 'utf8'));
const m = results.machine;
let md =
  `<!-- generated by scripts/readme-strategies.mjs from ${RESULTS}: edit that, not this -->\n` +
  `_Measured ${results.date.slice(0, 16).replace('T', ' ')} UTC, ${m ? `commit ${m.commit ?? 'unknown'}${m.dirty ? ' (with uncommitted changes)' : ''}` : 'commit not recorded (the results file predates it)'}._\n\n`;
for (const e of results.experiments) {
  const rs = e.results;
  md += `**${e.title}** (\`${e.command}\`):\n\n| | ${rs.map((r) => r.strategy).join(' | ')} |\n| --- |${rs.map(() => ' ---: |').join('')}\n`;
  for (const [label, cell] of rows) md += `| ${label} | ${rs.map(cell).join(' | ')} |\n`;
  md += '\n';
}
const readme = readFileSync('docs/strategies.md', 'utf8');
const start = '<!-- strategy-tables:start -->',
  end = '<!-- strategy-tables:end -->';
const i = readme.indexOf(start),
  j = readme.indexOf(end);
if (i < 0 || j < i) {
  process.stderr.write('readme-strategies: docs/strategies.md has no strategy-tables markers\n');
  process.exit(1);
}
const next = `${readme.slice(0, i + start.length)}\n${md}${readme.slice(j)}`;
if (check) {
  if (next !== readme) {
    process.stderr.write(`readme-strategies: docs/strategies.md is out of date with ${RESULTS}: run node scripts/readme-strategies.mjs\n`);
    process.exit(1);
  }
} else if (next !== readme) {
  writeFileAtomically('docs/strategies.md', next);
  process.stdout.write(`readme-strategies: rewrote the strategy tables of docs/strategies.md from ${RESULTS}\n`);
}

#!/usr/bin/env node
/**
 * The two engines' agreement under time dilation (docs/dilation.md), as a table: each
 * scenario runs on real threads with the default `auto` dilation, then in the virtual engine under
 * the cost profile of what a dilated threaded run models (dilatedThreadsCostModel: the same Link,
 * the guest's compute per access read from the threaded result, every other cost 0, a core per
 * thread). test/agreement.test.ts asserts on the same scenarios; this prints what one run measured.
 *
 *   npm run build && node dist/bench/agreement.js [--readme]   (--readme: writes the table in docs/dilation.md)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { simulate, type OptionsInput, type RunResult } from '../src/index.js';
import { simulateVirtual } from '../src/virtual/engine.js';
import { resolveOptions } from '../src/options.js';
import { dilatedThreadsCostModel } from '../src/virtual/costs.js';

/**
 * A write-heavy random guest over send buffers small enough that faults number in the hundreds. The
 * agreement needs the simulator at 5% of a fault, so the wall budget is set well above what auto's D
 * needs on these guests (the 5 s default would cap D for the 1 Gbit/s guest on a loaded machine).
 */
export const AGREEMENT_GUEST: OptionsInput = { vcpus: 4, workload: 'random', writeRatio: 0.8, tailAccesses: 2000, seed: 11, wallBudget: '120s' };
export const AGREEMENT_SCENARIOS: Array<[gbit: number, OptionsInput]> = [
  [1, { bandwidth: '1Gbit', memory: '8MiB', sendBuffer: '256KiB' }],
  [10, { bandwidth: '10Gbit', memory: '32MiB', sendBuffer: '512KiB' }],
  [25, { bandwidth: '25Gbit', memory: '64MiB', sendBuffer: '1MiB' }],
];
export const AGREEMENT_STRATEGIES = ['linear', 'preempt'] as const;

export interface Agreement {
  t: RunResult;
  v: RunResult;
  err: { faults: number; p50: number; p99: number; migration: number };
}

/** Signed relative differences, threads against virtual. */
function errors(t: RunResult, v: RunResult): Agreement['err'] {
  const rel = (a: number, b: number) => (a - b) / b;
  return {
    faults: rel(t.faults, v.faults),
    p50: rel(t.faultLatencyUs.p50, v.faultLatencyUs.p50),
    p99: rel(t.faultLatencyUs.p99, v.faultLatencyUs.p99),
    migration: rel(t.migrationMs, v.migrationMs),
  };
}

export async function compareEngines(o: OptionsInput): Promise<Agreement> {
  const t = await simulate(o);
  const v = await simulateVirtual({
    ...resolveOptions({ ...o, engine: 'virtual' }),
    costModel: dilatedThreadsCostModel(t.dilation.accessUs, Number(o.vcpus) + 4),
  });
  return { t, v, err: errors(t, v) };
}

/** The host kept up by the run's own measure: the simulator within its share and the wire never starved. */
export const hostKeptUp = (t: RunResult): boolean => (t.dilation.share ?? 0) <= 0.05 && (t.dilation.linkStallShare ?? 0) <= 0.02;

function row(strategy: string, gbit: number, a: Agreement): string {
  const pct = (e: number) => `${e >= 0 ? '+' : ''}${(e * 100).toFixed(0)}%`;
  const pair = (x: number, y: number, e: number, d = 0) => `${x.toFixed(d)} / ${y.toFixed(d)} (${pct(e)})`;
  const { t, v, err } = a;
  const share = t.dilation.share === null ? '-' : `${(t.dilation.share * 100).toFixed(1)}%`;
  return (
    `| ${strategy} | ${gbit} | ${t.dilation.factor} | ${share} | ${pair(t.faults, v.faults, err.faults)} | ` +
    `${pair(t.faultLatencyUs.p50, v.faultLatencyUs.p50, err.p50)} | ${pair(t.faultLatencyUs.p99, v.faultLatencyUs.p99, err.p99)} | ` +
    `${pair(t.migrationMs, v.migrationMs, err.migration, 1)} | ${(t.wallMs / 1000).toFixed(1)} s |`
  );
}

export async function agreementTable(): Promise<string> {
  const lines = [
    '| strategy | Gbit/s | D | simulator share | faults | p50 us | p99 us | migration ms | wall |',
    '| --- | --: | --: | --: | --: | --: | --: | --: | --: |',
  ];
  for (const strategy of AGREEMENT_STRATEGIES) {
    for (const [gbit, scenario] of AGREEMENT_SCENARIOS) {
      const a = await compareEngines({ ...AGREEMENT_GUEST, ...scenario, strategy });
      lines.push(row(strategy, gbit, a));
      process.stderr.write(`${lines.at(-1)}\n`);
    }
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { readme: { type: 'boolean', default: false } } });
  const table = await agreementTable();
  const stamp = `_Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`node dist/bench/agreement.js --readme\`; threads / virtual, each run once._`;
  const block = `${stamp}\n\n${table}`;
  if (!values.readme) {
    process.stdout.write(`${block}\n`);
    return;
  }
  const file = new URL('../../docs/dilation.md', import.meta.url);
  const readme = readFileSync(file, 'utf8');
  const re = /<!-- agreement:start -->[\s\S]*?<!-- agreement:end -->/;
  if (!re.test(readme)) throw new Error('docs/dilation.md has no <!-- agreement:start --> ... <!-- agreement:end --> block');
  writeFileSync(file, readme.replace(re, `<!-- agreement:start -->\n${block}\n<!-- agreement:end -->`));
  process.stderr.write('wrote the agreement table in docs/dilation.md\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();

/**
 * The virtual engine's CLI entry: `postcopy-sim calibrate [-o FILE] [--no-native] [--pages N]`.
 * Measures this host's costs (src/virtual/calibrate.ts) and writes a cost profile for
 * `--engine virtual --costs FILE`; without -o it writes the built-in src/virtual/default-costs.json.
 */
import { parseArgs } from 'node:util';
import { Errors } from '../errors.js';
import { calibrate, writeProfile } from '../virtual/calibrate.js';
import { defaultCostsPath } from '../virtual/costs.js';

const USAGE = `usage: postcopy-sim calibrate [-o FILE] [--no-native] [--pages N]
  measures the virtual engine's costs on this host (micro-benchmarks, the threaded engine at 1 and 2
  vCPUs, and the real kernel's userfaultfd path when cc + userfaultfd are available) and writes a
  cost profile for --engine virtual --costs FILE
  -o, --out FILE   where to write it (default: the built-in src/virtual/default-costs.json)
  --no-native      skip the kernel baseline
  --pages N        pages per vCPU of the threaded runs (default 2048)`;

export async function calibrateCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, strict: true, allowPositionals: false, options: {
      out: { type: 'string', short: 'o' }, 'no-native': { type: 'boolean' }, pages: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    } }));
  } catch (e) {
    throw Errors.badInput('', (e as Error).message.split('\n')[0]!);
  }
  if (values.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  const pages = values.pages === undefined ? undefined : Number(values.pages);
  if (pages !== undefined && (!Number.isInteger(pages) || pages < 64)) throw Errors.badInput('--pages', `must be an integer >= 64, got "${values.pages}"`);
  const profile = await calibrate({ native: !values['no-native'], ...(pages ? { pagesPerVcpu: pages } : {}) });
  const file = values.out ?? defaultCostsPath();
  writeProfile(file, profile);
  process.stdout.write(`${JSON.stringify({ file, basis: profile.basis, costs: profile.costs }, null, 2)}\n`);
  return 0;
}

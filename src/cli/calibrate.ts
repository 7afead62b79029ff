/**
 * `postcopy-sim calibrate [-o FILE] [--name NAME] [--no-native] [--pages N] [--quick]`: measures this
 * host's costs (src/calibrate/calibrate.ts) and writes a cost profile for `--engine virtual --costs
 * FILE`, to FILE or to stdout. It never overwrites a shipped profile (src/virtual/profiles/) unless
 * told so with --replace-shipped.
 */
import { probeWritable, writeAtomically } from './output-file.js';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Errors } from '../errors.js';
import { flagError } from './flag-error.js';
import { calibrate } from '../calibrate/calibrate.js';
import { profilesDir } from '../virtual/costs.js';

const USAGE = `usage: postcopy-sim calibrate [-o FILE] [--name NAME] [--no-native] [--pages N] [--quick]
  measures the virtual engine's costs on this host (native/: each userfaultfd mechanism on its own and
  the fault baseline, when cc + userfaultfd are available; the threaded engine at 1 and 2 vCPUs) and
  writes a cost profile for --engine virtual --costs FILE
  -o, --out FILE      where to write it (default: stdout); a shipped profile needs --replace-shipped
  --name NAME         the profile's name in results (default this-host)
  --no-native         skip the kernel measurements (the profile is then the threaded engine's)
  --pages N           pages per vCPU of the threaded runs (default 2048)
  --quick             short native runs (noisier)`;

/** The flags of `calibrate`; a parse failure is one BAD_INPUT line. */
function calibrateFlags(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        out: { type: 'string', short: 'o' },
        name: { type: 'string' },
        'no-native': { type: 'boolean' },
        pages: { type: 'string' },
        quick: { type: 'boolean' },
        'replace-shipped': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    throw flagError(e, 'calibrate');
  }
}

export async function calibrateCommand(argv: string[]): Promise<number> {
  const values = calibrateFlags(argv);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const pages = values.pages === undefined ? undefined : Number(values.pages);
  if (pages !== undefined && (!Number.isInteger(pages) || pages < 64)) throw Errors.badInput('--pages', `must be an integer >= 64, got "${values.pages}"`);
  if (values.name !== undefined && !/^[\w.-]{1,64}$/.test(values.name)) throw Errors.badInput('--name', 'letters, digits, . _ - (at most 64)');
  if (values.out && resolve(values.out).startsWith(resolve(profilesDir())) && !values['replace-shipped']) {
    throw Errors.badInput('--out', `${values.out} is a shipped profile: pass --replace-shipped to overwrite it`);
  }
  if (values.out) probeWritable(values.out, '--out'); // before minutes of measuring
  const profile = await calibrate({
    native: !values['no-native'],
    quick: values.quick ?? false,
    ...(pages ? { pagesPerVcpu: pages } : {}),
    ...(values.name ? { name: values.name } : {}),
  });
  const text = `${JSON.stringify(profile, null, 2)}\n`;
  if (!values.out) {
    process.stdout.write(text);
    return 0;
  }
  writeAtomically(values.out, text, '--out');
  process.stderr.write(`calibrate: wrote ${values.out} (basis ${profile.basis})\n`);
  return 0;
}

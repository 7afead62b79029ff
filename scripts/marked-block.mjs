// What every generator of a marked block shares: its flags (--results, --readme, --check), its
// one-line failures, and rewriting the text between `<!-- NAME:start -->` and `<!-- NAME:end -->`
// in place (atomically), or with --check only saying whether it is up to date.
// Exit codes: 0 written / up to date; 1 no results, no markers, or out of date (--check); 2 bad flags.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** Writes `text` to `file` through a temporary name and a rename, so a reader never sees half a file. */
export function writeFileAtomically(file, text) {
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, text);
  renameSync(partial, file);
}

/** The repository root (scripts/..). */
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** A generator named `tool`: its failure (one line on stderr, then exit) and its flags. */
export function blockWriter(tool, defaults) {
  const fail = (line, code = 1) => {
    process.stderr.write(`${tool}: ${line}\n`);
    process.exit(code);
  };
  let values;
  try {
    ({ values } = parseArgs({
      strict: true,
      options: {
        results: { type: 'string', default: defaults.results },
        readme: { type: 'string', default: defaults.readme },
        check: { type: 'boolean', default: false },
      },
    }));
  } catch (e) {
    const unknown = /Unknown option '([^']+)'/.exec(String(e.message));
    fail(unknown ? `unknown option ${unknown[1]}` : String(e.message).split('\n')[0], 2);
  }
  const say = (line) => process.stdout.write(`${tool}: ${line}\n`);

  /** Puts `section(START, END)` in place of the marked block of --readme; `wrote(file)` says what was written. */
  function rewrite(name, section, wrote) {
    const START = `<!-- ${name}:start -->`,
      END = `<!-- ${name}:end -->`;
    if (!existsSync(values.readme)) fail(`${values.readme} not found`);
    const readme = readFileSync(values.readme, 'utf8');
    const start = readme.indexOf(START);
    const end = readme.indexOf(END);
    if (start < 0 || end < 0 || end < start) fail(`${values.readme} has no "${START}" ... "${END}" section`);
    if (readme.indexOf(START, start + 1) >= 0 || readme.indexOf(END, end + 1) >= 0) fail(`${values.readme} has the markers more than once`);
    const next = readme.slice(0, start) + section(START, END) + readme.slice(end + END.length);
    if (values.check) {
      if (next !== readme) fail(`${values.readme} is out of date with ${values.results}: run npm run bench:readme`);
      say(`${values.readme} is up to date`);
    } else if (next === readme) {
      say(`${values.readme} already up to date`);
    } else {
      writeFileAtomically(values.readme, next);
      say(wrote(values.readme));
    }
  }
  return { values, fail, rewrite };
}

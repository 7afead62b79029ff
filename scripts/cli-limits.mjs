// Writes the limits table in docs/cli.md (between <!-- limits:start --> and <!-- limits:end -->) from
// the one table the options check, src/limits.ts (run after a build:
// `npm run build && node scripts/cli-limits.mjs`). With --check it only says whether the docs are up
// to date (exit code 1 when not); test/limits.test.ts does the same.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { limitsTable } from '../dist/src/limits.js';

const file = fileURLToPath(new URL('../docs/cli.md', import.meta.url));
const START = '<!-- limits:start -->',
  END = '<!-- limits:end -->';

/** docs/cli.md with its limits section written from the table. */
export function withLimits(doc) {
  const a = doc.indexOf(START),
    b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error(`docs/cli.md has no ${START} ... ${END} section`);
  return `${doc.slice(0, a + START.length)}\n${limitsTable()}\n${doc.slice(b)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const doc = readFileSync(file, 'utf8');
  const text = withLimits(doc);
  if (process.argv.includes('--check')) {
    if (text !== doc) {
      console.error("docs/cli.md's limits are stale: run npm run build && node scripts/cli-limits.mjs");
      process.exit(1);
    }
    console.log("docs/cli.md's limits are up to date");
  } else {
    writeFileSync(file, text);
    console.log(`wrote the limits table in ${file}`);
  }
}

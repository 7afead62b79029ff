// Writes docs/sweep-result.schema.json from the zod schema in src/sweep/schema.ts (run after a build:
// `npm run build && node scripts/sweep-schema.mjs`). With --check it only says whether the file is
// up to date (exit code 1 when not); test/sweep-schema.test.ts does the same.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sweepResultJsonSchema } from '../dist/src/sweep/schema.js';

const file = fileURLToPath(new URL('../docs/sweep-result.schema.json', import.meta.url));
const text = `${JSON.stringify(sweepResultJsonSchema(), null, 2)}\n`;
if (process.argv.includes('--check')) {
  let old = '';
  try {
    old = readFileSync(file, 'utf8');
  } catch {
    /* missing: stale */
  }
  if (old !== text) {
    console.error('docs/sweep-result.schema.json is stale: run npm run build && node scripts/sweep-schema.mjs');
    process.exit(1);
  }
  console.log('docs/sweep-result.schema.json is up to date');
} else {
  writeFileSync(file, text);
  console.log(`wrote ${file} (${text.length} bytes)`);
}

// Runs the test suite and ends with the plain line CI reads: "N passed, N failed, N skipped".
// A group of tests that needs a tool the machine lacks is skipped, and its title says "[needs TOOL]"
// (test/helpers/tools.ts). Under CI=true such a skip fails the run, unless the README's test section
// calls the tool optional (its "<!-- optional-tools: ... -->" line): CI installs the others.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

const out = 'vt.json';
rmSync(out, { force: true });
// `npm test` has just built dist/ (package.json): the global setup need not build it again.
const env = process.env.npm_lifecycle_event === 'test' ? { ...process.env, POSTCOPY_SIM_SKIP_BUILD: '1' } : process.env;
const r = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...process.argv.slice(2)], { stdio: 'inherit', env });
let passed = 0, failed = 0, skipped = 0;
const missing = new Map(); // tool -> skipped tests
try {
  const j = JSON.parse(readFileSync(out, 'utf8'));
  passed = j.numPassedTests;
  skipped = j.numPendingTests + j.numTodoTests;
  // A file that fails to load has no failed tests of its own: count it once.
  const brokenFiles = j.testResults.filter((f) => f.status === 'failed' && !f.assertionResults.some((a) => a.status === 'failed')).length;
  failed = j.numFailedTests + brokenFiles;
  for (const f of j.testResults) {
    for (const a of f.assertionResults) {
      if (a.status !== 'pending' && a.status !== 'skipped' && a.status !== 'todo') continue;
      const tool = /\[needs ([\w-]+)\]/.exec([...a.ancestorTitles, a.title].join(' '))?.[1];
      if (tool) missing.set(tool, (missing.get(tool) ?? 0) + 1);
    }
  }
} catch {
  failed = Math.max(1, failed);
}
if (r.status !== 0 && failed === 0) failed = 1;

let ciFailed = false;
if (process.env.CI === 'true' && missing.size > 0) {
  const optional = optionalTools();
  for (const [tool, n] of missing) {
    if (optional.has(tool)) console.log(`ci: ${n} skipped: ${tool} is missing (the README calls it optional)`);
    else { ciFailed = true; console.log(`ci: ${n} skipped because ${tool} is missing, and the README does not call it optional: fails the run`); }
  }
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed === 0 && r.status === 0 && !ciFailed ? 0 : 1);

/** The tools the README's test section calls optional. */
function optionalTools() {
  const m = /<!-- optional-tools: ([^>]*?) -->/.exec(readFileSync('README.md', 'utf8'));
  return new Set((m?.[1] ?? '').split(/[\s,]+/).filter(Boolean));
}

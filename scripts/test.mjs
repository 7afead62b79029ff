// Runs the test suite and ends with the plain line CI reads: "N passed, N failed, N skipped".
// A group of tests that needs a tool the machine lacks is skipped, and its title says "[needs TOOL]"
// (test/helpers/tools.ts). Under CI=true such a skip fails the run, unless the README's test section
// calls the tool optional (its "<!-- optional-tools: ... -->" line): CI installs the others.
//
// The lanes of vitest.config.ts run as two vitest processes side by side, then the "alone" files by
// themselves. One process cannot do it: vitest gives every project of a group one worker count, so
// two one-worker lanes in one process ran one file at a time (measured: 1 file busy for 286 of the
// run's 309 s). Arguments (file filters, -t) run one vitest over everything they select instead.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

const VITEST = 'node_modules/vitest/vitest.mjs';
const args = process.argv.slice(2);

// `npm test` has just built dist/ (package.json); otherwise build once here, not once per process.
const env = { ...process.env };
if (env.npm_lifecycle_event !== 'test' && env.POSTCOPY_SIM_SKIP_BUILD !== '1') {
  const b = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
  if (b.status !== 0) finish([], 1);
}
env.POSTCOPY_SIM_SKIP_BUILD = '1';

const phases =
  args.length > 0
    ? [[{ name: 'selected', args }]]
    : [
        [
          { name: 'lane-a', args: ['--project', 'lane-a'] },
          { name: 'lane-b', args: ['--project', 'lane-b'] },
        ],
        [{ name: 'alone', args: ['--project', 'alone'] }],
      ];
const reports = [];
let status = 0;
for (const phase of phases) {
  const codes = await Promise.all(phase.map((run) => vitest(run.name, run.args)));
  for (const run of phase) reports.push(`vt-${run.name}.json`);
  status = Math.max(status, ...codes);
}
finish(reports, status);

/** One vitest process; its lines go to stdout whole, so that two side by side do not interleave mid-line. */
function vitest(name, extra) {
  const out = `vt-${name}.json`;
  rmSync(out, { force: true });
  const child = spawn(process.execPath, [VITEST, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...extra], {
    env: { ...env, FORCE_COLOR: process.stdout.isTTY ? '1' : (env.FORCE_COLOR ?? '0') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const [from, to] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ]) {
    let rest = '';
    from.setEncoding('utf8');
    from.on('data', (s) => {
      const lines = (rest + s).split('\n');
      rest = lines.pop();
      if (lines.length) to.write(`${lines.join('\n')}\n`);
    });
    from.on('end', () => {
      if (rest) to.write(`${rest}\n`);
    });
  }
  return new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

function finish(files, status) {
  let passed = 0,
    failed = 0,
    skipped = 0;
  const missing = new Map(); // tool -> skipped tests
  const merged = { numPassedTests: 0, numFailedTests: 0, numPendingTests: 0, numTodoTests: 0, testResults: [] };
  for (const file of files) {
    try {
      const j = JSON.parse(readFileSync(file, 'utf8'));
      for (const k of ['numPassedTests', 'numFailedTests', 'numPendingTests', 'numTodoTests']) merged[k] += j[k];
      merged.testResults.push(...j.testResults);
      passed += j.numPassedTests;
      skipped += j.numPendingTests + j.numTodoTests;
      // A file that fails to load has no failed tests of its own: count it once.
      const brokenFiles = j.testResults.filter((f) => f.status === 'failed' && !f.assertionResults.some((a) => a.status === 'failed')).length;
      failed += j.numFailedTests + brokenFiles;
      for (const f of j.testResults) {
        for (const a of f.assertionResults) {
          if (a.status !== 'pending' && a.status !== 'skipped' && a.status !== 'todo') continue;
          const tool = /\[needs ([\w-]+)\]/.exec([...a.ancestorTitles, a.title].join(' '))?.[1];
          if (tool) missing.set(tool, (missing.get(tool) ?? 0) + 1);
        }
      }
      rmSync(file, { force: true });
    } catch {
      failed += 1; // a process that wrote no report failed as a whole
    }
  }
  writeFileSync('vt.json', JSON.stringify(merged));
  if (status !== 0 && failed === 0) failed = 1;

  let ciFailed = false;
  if (process.env.CI === 'true' && missing.size > 0) {
    const optional = optionalTools();
    for (const [tool, n] of missing) {
      if (optional.has(tool)) console.log(`ci: ${n} skipped: ${tool} is missing (the README calls it optional)`);
      else {
        ciFailed = true;
        console.log(`ci: ${n} skipped because ${tool} is missing, and the README does not call it optional: fails the run`);
      }
    }
  }
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(failed === 0 && status === 0 && !ciFailed ? 0 : 1);
}

/** The tools the README's test section calls optional. */
function optionalTools() {
  const m = /<!-- optional-tools: ([^>]*?) -->/.exec(readFileSync('README.md', 'utf8'));
  return new Set((m?.[1] ?? '').split(/[\s,]+/).filter(Boolean));
}

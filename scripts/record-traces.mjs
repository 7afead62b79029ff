// Regenerates the real-program traces in examples/traces/ with `postcopy-sim trace record`: four
// programs nobody here wrote, each on an input generated here from a fixed seed. Needs perf and
// root (or kernel.perf_event_paranoid <= 2), and a build (npm run build). A recording is of a real
// run, so timings and the exact faults differ from run to run; the inputs do not.
//   node scripts/record-traces.mjs            # all of them
//   node scripts/record-traces.mjs sort xz    # some
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const outDir = join(root, 'examples', 'traces');
const work = mkdtempSync(join(tmpdir(), 'postcopy-sim-traces-'));

/** A seeded LCG, so the inputs are the same on every machine. */
function lcg(seed) {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
}

function numbers(file, n) {
  const r = lcg(1);
  const lines = [];
  for (let i = 0; i < n; i++) lines.push(String(r() % 1000000));
  writeFileSync(file, `${lines.join('\n')}\n`);
}

function text(file, bytes) {
  const r = lcg(2);
  const words = 'the quick brown fox jumps over a lazy dog while pages move from source to destination host'.split(' ');
  const parts = [];
  let size = 0;
  while (size < bytes) {
    const w = `${words[r() % words.length]}${r() % 7 === 0 ? '\n' : ' '}${r() % 1000} `;
    parts.push(w);
    size += w.length;
  }
  writeFileSync(file, parts.join('').slice(0, bytes));
}

/** The interpreter itself, not a wrapper script (pyenv's shim would record bash and env as well). */
function python() {
  try {
    return execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
  } catch {
    return 'python3';
  }
}

const SQL =
  'CREATE TABLE t(k INTEGER, v TEXT); WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < 200000) ' +
  "INSERT INTO t SELECT (i*7919)%100003, printf('row-%d', i) FROM c; CREATE INDEX tk ON t(k); " +
  'SELECT k % 100, count(*), max(v) FROM t GROUP BY k % 100 ORDER BY 2 DESC LIMIT 5;';
const PY = 'import random\nrandom.seed(1)\nd = {random.random(): i for i in range(150000)}\ns = sorted(d.items())\nprint(len(s))';

const TRACES = {
  sort: {
    what: 'GNU sort, 2 threads, 400k numbers',
    input: () => numbers(join(work, 'numbers.txt'), 400000),
    cmd: () => ['sort', '--parallel=2', '-n', '-o', '/dev/null', 'numbers.txt'],
  },
  sqlite: { what: 'sqlite3: 200k rows, an index, a GROUP BY', input: () => {}, cmd: () => ['sqlite3', ':memory:', SQL] },
  xz: {
    what: 'xz -2, 2 worker threads, 2 MiB of text',
    input: () => text(join(work, 'text.txt'), 2 << 20),
    cmd: () => ['xz', '-2', '-T2', '--block-size=512KiB', '-c', 'text.txt'],
  },
  python: { what: 'CPython: build a 150k-entry dict, sort its items', input: () => {}, cmd: () => [python(), '-c', PY] },
};

const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(TRACES);
if (!existsSync(cli)) {
  console.error('record-traces: build first (npm run build)');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
let failed = 0;
try {
  for (const name of names) {
    const t = TRACES[name];
    if (!t) {
      console.error(`record-traces: unknown trace "${name}" (${Object.keys(TRACES).join(', ')})`);
      process.exit(2);
    }
    t.input();
    const out = join(outDir, `${name}.trace.gz`);
    console.error(`record-traces: ${name}: ${t.what}`);
    // Run in the inputs' directory, so the trace's source line names them without a temporary path.
    // The program's own output goes to /dev/null; the recorder's summary comes on stderr.
    const r = spawnSync(process.execPath, [cli, 'trace', 'record', '--out', out, '--', ...t.cmd()], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) {
      failed++;
      console.error(`record-traces: ${name} failed (exit ${r.status})`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

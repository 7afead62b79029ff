// Goal: no number a run measured is typed into the README or docs/: outside the generated blocks,
// the prose holds no measured times, shares or factors, except an explicit list of constants
// (defaults that come from the code, definitions, published figures with their source); and every
// generated block that is written from a committed results file (or from the code, or the shipped
// traces) is what its generator writes from them now.
// Method: read each file as text, blank the generated blocks (`<!-- NAME:start -->` ... `<!-- NAME:end -->`),
// the commands in fenced code (their flags are inputs; what they printed stays) and inline code (flag
// values, field names), then look for a
// number with a unit of time, a percent sign or a factor (`3x`). Each hit must be on the allow-list
// below, by file and the exact words around it; a listed phrase that no longer occurs fails too, so
// the list never keeps stale entries. Then run each results-backed generator with --check (needs the
// build: dist/). Blocks written by measuring afresh (the cli examples, the engines' agreement) are
// checked by readme.test.ts for a writer, not here: their generator re-measures. The README's
// bad-input examples (a `$ npx postcopy-sim` line, then its one error line) are run: each must print
// exactly that line and exit 2.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const FILES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];

/** A measured-looking number: a time, a share or a factor. */
const MEASURED = /(?<![\w.#/+-])\d[\d,]*(?:\.\d+)?(?:-\d[\d,]*(?:\.\d+)?)?\s?(?:%|×|x\b|(?:ns|us|µs|ms|s|min|h)\b)/g;

/** Numbers that are constants wherever they appear: each a default or threshold in the code, or a cited published figure. */
const CONSTANTS: Record<string, string> = {
  '5%': 'AUTO_SHARE, the simulator share `auto` aims at (src/threads/dilation.ts), and compare\'s "about the same" band (src/cli/compare-table.ts)',
  '15%': "the engines' agreement tolerance (TOLERANCE, test/agreement.test.ts)",
  '10.68 ms': 'published: QEMU postcopy-preempt cover letter, without the urgent channel',
  '0.57 ms': 'published: QEMU postcopy-preempt cover letter, with it',
  '20 s': '--watchdog default (src/options.ts)',
  '20 µs': '--conversion-cost default (src/options.ts)',
  '3 µs': '--tag-restore-cost default (src/options.ts)',
  '50 ms': '--reconnect default (src/options.ts)',
  '20 ms': "the demo's live cut, when the request names no length (cutDurationUs, src/demo/server.ts)",
  '200 ms': "TCP_RTO_MIN_US, Linux's minimum retransmission timeout (src/model/injections.ts)",
};

/** One-off phrases allowed to hold such a number, by file: each a definition, not a measurement. */
const PHRASES: Record<string, Array<[phrase: string, why: string]>> = {
  'docs/cli.md': [['100 × 2^20 bytes per second', 'what the unit 100MiB/s means']],
  'docs/dilation.md': [
    ['4 ms of wall time ahead', 'LOOKAHEAD_WALL_US (src/threads/source.ts)'],
    ['4 ms / D modelled', 'the same, in modelled time'],
    ['60 s per shape', 'PROBE_TTL_MS (src/threads/dilation.ts)'],
    ['D0 = 20 over a 10 Gbit/s, 50 us link', "the fault probe's trial dilation and link (src/threads/dilation.ts)"],
    ['80% writes', "the agreement scenario's guest (bench/agreement.ts)"],
    ['over 2% of the time', 'hostKeptUp (bench/agreement.ts)'],
  ],
  'docs/guests.md': [
    ['over 2 ms of wall time', 'SLEEP_ABOVE_US (src/threads/guest-time.ts)'],
    ['at least 30% against linear', "the workloads bench's target (bench/scenarios/workloads.ts)"],
    ['1 Gbit/s, 50 us', "the workloads bench's link (LINK, bench/scenarios/workloads.ts)"],
    ['~33 ms per demand fetch', 'arithmetic: the 4 MiB send buffer at 1 Gbit/s, as the sentence says'],
  ],
  'docs/results.md': [['every 10 ms', "the monitor's sample (SAMPLE_MS, src/threads/monitor.ts)"]],
  'docs/strategies.md': [
    ['at 10 Gbit/s 4 MiB is 3.4 ms', 'arithmetic: the send buffer at the link rate'],
    ['3.3 us of a 4 KiB page at', 'arithmetic: one page frame at 10 Gbit/s'],
  ],
  'docs/sweeps.md': [
    ['4 x 3 x 2 = 24 cells', "arithmetic: the example spec's cells"],
    ['span 8x or more', "the sweep report's log-axis rule (src/report/sweep-report.ts)"],
  ],
  'docs/virtual-engine.md': [
    ['3 ms slices', "the modelled kernel's time slice (sliceUs, src/virtual/kernel.ts)"],
    ['line transfer of 0.15 us', "the cost model's figure, cited to the published tests in the same sentence"],
    ['~0.1-0.2 us: Chips and Cheese', 'published: core-to-core latency tests, cited'],
  ],
};

/** A line of fenced code that is a command (its flags are inputs), or the fence itself. */
const COMMAND = /^\s*(```|\$ |npx |npm |node |bash |PERF=|#)|(^|\s)--?[a-z]/;

/** The text with generated blocks, the commands of fenced code and inline code blanked (line breaks kept). */
function prose(text: string): string {
  const blank = (m: string) => m.replace(/[^\n]/g, ' ');
  return (
    text
      .replace(/<!-- ([a-z-]+):start -->[\s\S]*?<!-- \1:end -->/g, blank)
      // In fenced code, the commands are inputs; what they printed is scanned like prose.
      .replace(/```[\s\S]*?```/g, (block) =>
        block
          .split('\n')
          .map((l) => (COMMAND.test(l) ? blank(l) : l))
          .join('\n'),
      )
      .replace(/`[^`\n]*`/g, blank)
  );
}

describe('README and docs/ hold no typed measurements', () => {
  it.each(FILES)('%s: every time, share or factor outside a generated block is an allowed constant', (file) => {
    const flat = prose(readFileSync(join(ROOT, file), 'utf8')).replace(/\s+/g, ' ');
    // Where the allowed phrases are, so a hit inside one is fine; a phrase that is gone fails.
    const spans: Array<[number, number]> = [];
    for (const [phrase] of PHRASES[file] ?? []) {
      const at = flat.indexOf(phrase);
      expect(at, `${file}: the allowed phrase "${phrase}" is gone: drop it from the list`).toBeGreaterThanOrEqual(0);
      expect(phrase, 'an allowed phrase holds its number').toMatch(MEASURED);
      spans.push([at, at + phrase.length]);
    }
    const stray: string[] = [];
    for (const m of flat.matchAll(MEASURED)) {
      const at = m.index!;
      if (m[0].replace(/\s/, ' ') in CONSTANTS || spans.some(([a, b]) => at >= a && at < b)) continue;
      stray.push(`"${flat.slice(Math.max(0, at - 40), at + m[0].length + 20).trim()}"`);
    }
    expect(stray, `${file}: typed measurements (write them from a results file, or drop them)`).toEqual([]);
  });
});

describe('every results-backed generated block is up to date', () => {
  const GENERATORS = [
    'scripts/readme-bench.mjs',
    'scripts/readme-front-door.mjs',
    'scripts/cli-limits.mjs',
    'scripts/readme-workloads.mjs',
    'scripts/readme-results.mjs',
    'scripts/readme-traces.mjs',
    'scripts/readme-strategies.mjs',
  ];
  it.each(GENERATORS)('%s --check', (script) => {
    const r = spawnSync(process.execPath, [script, '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr, script).toBe('');
    expect(r.status, `${script}: ${r.stderr}`).toBe(0);
  });
});

describe("the README's bad-input examples are what the CLI prints", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const examples = [...readme.matchAll(/^\$ npx postcopy-sim (.+)\n(postcopy-sim: error: .+)$/gm)].map((m) => [m[1]!, m[2]!] as const);
  it('there are some', () => expect(examples.length).toBeGreaterThan(2));
  it.each(examples)('postcopy-sim %s', (args, line) => {
    const r = spawnSync(process.execPath, ['dist/src/cli/main.js', ...args.split(' ')], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr.trim()).toBe(line);
    expect(r.status).toBe(2);
  });
});

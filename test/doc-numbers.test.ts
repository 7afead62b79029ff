// Goal: no number a run measured is typed into the README or docs/: outside the generated blocks,
// the prose holds no measured times, shares, factors, counts or sizes, except the flag defaults (read
// from the code) and an explicit list of definitions (constants in the code, arithmetic on inputs,
// targets, published figures with their source); and every generated block that is written from a
// committed results file (or from the code, or the shipped traces) is what its generator writes from
// them now.
// Method: read each file as text, blank the generated blocks (`<!-- NAME:start -->` ... `<!-- NAME:end -->`),
// the commands in fenced code (their flags are inputs; what they printed stays) and inline code (flag
// values, field names), then look for a number with a unit of time, a percent sign or a factor (`3x`,
// `50 times sooner`), or a count or size of the kind a run measures: a rate of pages, faults or
// accesses per second, a count of faults, exits or stale pages, "N passed/failed/skipped", an RSS in
// bytes. Sizes, rates and counts that are inputs (a 64 MiB guest, a 10 Gbit/s link, 4 vCPUs) are not
// looked for. A hit passes when it is a duration flag's default as resolveOptions({}) gives it, or
// lies in an allowed phrase of its file; a listed phrase that no longer occurs fails too, so the list
// never keeps stale entries. Then run each results-backed generator with --check (needs the build:
// dist/). Blocks written by measuring afresh (the cli examples, the engines' agreement) are checked by
// readme.test.ts for a writer, not here: their generator re-measures. The README's bad-input examples
// (a `$ npx postcopy-sim` line, then its one error line) are run: each must print exactly that line
// and exit 2.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../src/options.js';

const ROOT = join(import.meta.dirname, '..');
const FILES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];

const NUMBER = String.raw`(?<![\w.#/+-])\d(?:[\d,]*\d)?(?:\.\d+)?(?:-\d(?:[\d,]*\d)?(?:\.\d+)?)?`;
/** A time, a share or a factor. */
const TIMED = String.raw`${NUMBER}\s?(?:%|×|x\b|(?:ns|us|µs|ms|s|min|h)\b|times (?:sooner|faster|slower|more|fewer|less|lower|higher|longer|shorter)\b)`;
/** A count or size of the kind a run measures (not an input: guest sizes, link rates and vCPU counts are not looked for). */
const COUNTED = [
  String.raw`${NUMBER}\s?(?:[kKM]\s?)?(?:(?:pages|faults|exits|accesses|requests|events|cells|runs)\/s|(?:pages|faults|exits|accesses|requests|events) per (?:host )?second)\b`,
  String.raw`${NUMBER}\s?(?:[kKM]\s?)?(?:passed|failed|skipped|stale pages|faults|exits|retransmissions|resends|empty reads|wakeups)\b`,
  String.raw`${NUMBER}\s?[KMGT]i?B (?:of )?(?:RSS|resident)\b`,
  String.raw`(?:RSS|resident)[^.;|]{0,24}?${NUMBER}\s?[KMGT]i?B\b`,
].join('|');
const MEASURED = new RegExp(`${TIMED}|${COUNTED}`, 'g');

/** Every duration flag's default, as the docs write it ("20 s", "50 ms", "3 µs"): a definition the code holds, so a changed default makes its old number stray. */
const DEFAULTS = new Set(
  Object.entries(resolveOptions({}))
    .filter(([k, v]) => k.endsWith('Us') && typeof v === 'number' && v > 0)
    .flatMap(([, us]) => {
      const n = us as number;
      return [
        ...(n < 1000 ? [`${n} µs`, `${n} us`] : []),
        ...(n % 1000 === 0 && n < 1e6 ? [`${n / 1000} ms`] : []),
        ...(n % 1e6 === 0 ? [`${n / 1e6} s`] : []),
      ];
    }),
);

/** Numbers that are constants wherever they appear: each a threshold in the code, or a cited published figure. */
const CONSTANTS: Record<string, string> = {
  '5%': 'AUTO_SHARE, the simulator share `auto` aims at (src/threads/dilation.ts), and compare\'s "about the same" band (src/cli/compare-table.ts)',
  '15%': "the engines' agreement tolerance (TOLERANCE, test/agreement.test.ts)",
  '10.68 ms': 'published: QEMU postcopy-preempt cover letter, without the urgent channel',
  '0.57 ms': 'published: QEMU postcopy-preempt cover letter, with it',
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
    ['over 2% of the time', 'hostKeptUp (bench/agreement.ts)'],
  ],
  'docs/guests.md': [
    ['over 2 ms of wall time', 'SLEEP_ABOVE_US (src/threads/guest-time.ts)'],
    ['at least 30% against linear', "the workloads bench's target (bench/scenarios/workloads.ts), set by issue 15"],
  ],
  'docs/results.md': [['every 10 ms', "the monitor's sample (SAMPLE_MS, src/threads/monitor.ts)"]],
  'docs/style.md': [['"2.34-2.55 M vs 2.38-2.54 M accesses/s before/after"', "an example of a commit message's wording, not a result of this code"]],
  'docs/sweeps.md': [
    ['4 x 3 x 2 = 24 cells', "arithmetic: the example spec's cells"],
    ['span 8x or more', "the sweep report's log-axis rule (src/report/sweep-report.ts)"],
  ],
  'docs/virtual-engine.md': [
    ['3 ms slices', "the modelled kernel's time slice (sliceUs, src/virtual/kernel.ts)"],
    ['from 210 k to 36 k pages/s between 4 and 256 vCPUs', "published: the KVM_EXIT_MEMORY_FAULT series' v7 cover letter, cited in the same sentence"],
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

/** The measured-looking numbers of `flat` (prose, one line) outside the allowed phrases `allowed`, each with some words around it. */
function strays(flat: string, allowed: ReadonlyArray<readonly [string, string]>): string[] {
  const spans = allowed.map(([phrase]) => flat.indexOf(phrase)).map((at, i) => [at, at + allowed[i]![0].length] as const);
  const out: string[] = [];
  for (const m of flat.matchAll(MEASURED)) {
    const at = m.index!;
    const hit = m[0].replace(/\s/, ' ');
    if (hit in CONSTANTS || DEFAULTS.has(hit) || spans.some(([a, b]) => a >= 0 && at >= a && at < b)) continue;
    out.push(`"${flat.slice(Math.max(0, at - 40), at + m[0].length + 20).trim()}"`);
  }
  return out;
}

describe('README and docs/ hold no typed measurements', () => {
  it('the scan finds what a run measures and passes over defaults and inputs', () => {
    const found = (text: string) => strays(text, []).length;
    // measurements: a time, a share, a factor, a rate, a count of outcomes, an RSS
    for (const text of [
      'took 3.4 ms',
      'cut by 42%',
      '2.5x the kernel',
      'ends 50 times sooner',
      'at 210 k pages/s',
      '3,000 faults per second',
      'it took 63 faults',
      '534 passed, 0 failed',
      '7 skipped',
      'peak RSS of 4.17 GiB',
      '205 MiB of RSS',
    ])
      expect(found(text), text).toBeGreaterThan(0);
    // inputs and defaults: a guest size, a link rate, a vCPU count, the watchdog's default
    for (const text of ['a 64 MiB guest on a 10 Gbit/s link', '4 vCPUs on 2 MiB pages', 'default 20 s of modelled time', 'the 50 ms reconnect'])
      expect(found(text), text).toBe(0);
    expect(found('default 21 s of modelled time'), 'a default the code does not hold').toBe(1);
  });

  it.each(FILES)('%s: every time, share, factor or measured count outside a generated block is a default or an allowed definition', (file) => {
    const flat = prose(readFileSync(join(ROOT, file), 'utf8')).replace(/\s+/g, ' ');
    const allowed = PHRASES[file] ?? [];
    // A hit inside an allowed phrase is fine; a phrase that is gone fails, so the list keeps no stale entries.
    for (const [phrase] of allowed) {
      expect(flat.indexOf(phrase), `${file}: the allowed phrase "${phrase}" is gone: drop it from the list`).toBeGreaterThanOrEqual(0);
      expect(phrase, 'an allowed phrase holds its number').toMatch(new RegExp(MEASURED.source));
    }
    expect(strays(flat, allowed), `${file}: typed measurements (write them from a results file, or drop them)`).toEqual([]);
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

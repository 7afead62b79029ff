/**
 * The options a user writes, as one zod schema: each field with its parser, its flag and its help
 * (src/option-meta.ts), and the value parsers they share (sizes, rates, times, decimals). The
 * resolved form and the checks across fields are src/options.ts's.
 */
import { z } from 'zod';
import { noFlag, option, repeated, toggle, value } from './option-meta.js';
import { parseDuration, parseRate, parseSize } from './units.js';
import { STRATEGY_NAMES, type StrategyName } from './model/strategies/index.js';
import { formatInjection, INJECTION_KINDS, parseInjection, type Injection } from './model/injections.js';
import { ARCH_NAMES, RECORD_NAMES } from './model/arch/record.js';
import { MODES, TRACE_TIMINGS, WORKLOADS } from './model/config.js';

/**
 * --inject's schema (src/model/injections.ts; kept here so zod stays out of the threads that apply
 * injections): a list of specs, each checked with the errors above, naming its index. An
 * already-parsed injection (resolved options given again) is checked the same way, via its spec.
 */
const InjectSchema = z
  .array(z.union([z.string(), z.looseObject({ kind: z.enum(INJECTION_KINDS) })]))
  .default([])
  .transform((specs, ctx) => {
    const out: Injection[] = [];
    specs.forEach((s, i) => {
      try {
        out.push(parseInjection(typeof s === 'string' ? s : formatInjection(s as unknown as Injection)));
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: [i], message: (e as Error).message });
      }
    });
    return out;
  });

export const PAGE_SIZES = [4096, 2 * 1024 * 1024] as const;
/** The largest time dilation accepted (a 1 ms modelled fault would last 100 s). */
export const MAX_DILATION = 100_000;

const size = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    return parseSize(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});
const rate = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    return parseRate(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});
const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    return parseDuration(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});
/** `auto`, or a factor D >= 1 (docs/dilation.md). */
const dilation = z.union([z.number(), z.string()]).transform((v, ctx): number | 'auto' => {
  if (v === 'auto') return 'auto';
  const n = typeof v === 'number' ? v : v.trim() === '' ? NaN : Number(v);
  if (!(n >= 1 && n <= MAX_DILATION)) {
    ctx.addIssue({ code: 'custom', message: `must be auto or a number from 1 to ${MAX_DILATION}` });
    return z.NEVER;
  }
  return n;
});
/** A number written in decimal (`2`, `-1.5`, `1e6`): not hex (`0x2`), not empty (`""` is not 0). */
const DECIMAL = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i;
const decimal = (why: string) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    if (typeof v === 'number' || DECIMAL.test(v)) return Number(v);
    ctx.addIssue({ code: 'custom', message: `${why}, got "${v.length > 40 ? `${v.slice(0, 40)}...` : v}"` });
    return z.NEVER;
  });
const intWhy = (min: number) => (min === 1 ? 'must be a positive integer' : min === 0 ? 'must be a non-negative integer' : `must be an integer >= ${min}`);
const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  decimal(intWhy(min)).pipe(
    z
      .number()
      .int({ error: intWhy(min) })
      .min(min, { error: intWhy(min) })
      .max(max, { error: `must be at most ${max}` }),
  );
const number = (n: z.ZodNumber = z.number()) => decimal('must be a decimal number').pipe(n);
const ratio = decimal('must be a decimal number from 0 to 1').pipe(z.number().min(0).max(1));
const bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);

/**
 * The options a user writes (CLI flags, scenario JSON, simulate()): sizes, rates and times as text or
 * numbers. Each field is declared once, here: its schema with its flag, its value's name and its
 * help (src/option-meta.ts); the CLI's flag table and help are read from these.
 */
export const OptionsSchema = z.strictObject({
  vcpus: option(int(1, 1024).default(4), value('N', 'vCPU threads (default 4)')),
  memory: option(size.prefault('64MiB'), value('SIZE', 'guest memory, e.g. 256MiB, 4GiB, 64M (binary); 64MB is decimal (default 64MiB)')),
  pageSize: option(size.optional(), value('SIZE', '4KiB or 2MiB (default 4KiB)')),
  memslotSize: option(size.prefault('1GiB'), value('SIZE', 'largest memslot; larger guests get several (default 1GiB)')),
  memslots: option(
    z.array(z.strictObject({ base: size, size })).optional(),
    noFlag('explicit memslot layout [{base, size}, ...] (overrides memory/memslotSize); gaps are holes with no memslot'),
  ),
  mode: option(z.enum(MODES).default('exit'), value('MODE', 'exit (KVM_EXIT_MEMORY_FAULT, default) | uffd (userfaultfd) | none (all memory present)')),
  handlers: option(int(1, 1024).default(1), value('N', 'uffd: handler threads reading the one shared queue (default 1)', 'uffd')),
  uffdPerVcpu: option(bool.default(false), toggle('uffd: one queue + handler per vCPU slice instead', 'uffd')),
  workload: option(z.enum(WORKLOADS).default('zipf'), value('W', 'sequential | random | zipf | regions | trace (default zipf)')),
  zipfExponent: option(number(z.number().gt(0).max(10)).default(0.99), value('X', 'zipf skew, over pages (zipf) or regions (regions) (default 0.99)')),
  // The regions workload (src/model/regions.ts). Defaults and where they come from are in docs/guests.md
  // ("Guests that behave like real ones").
  regionSize: option(size.prefault('4KiB'), value('SIZE', 'regions: smallest region, the scale of their Pareto sizes (default 4KiB)')),
  regionTail: option(number(z.number().gt(0).max(10)).default(0.7), value('A', 'regions: Pareto shape of region sizes, smaller is heavier (default 0.7)')),
  runLength: option(int(1, 1 << 20).default(32), value('N', 'regions: mean pages of a sequential run inside a region (default 32)')),
  phaseAccesses: option(int(0).default(1 << 20), value('N', 'regions: accesses per vCPU before the hot set moves, 0 never (default 1048576)')),
  trace: option(
    z.string().min(1).optional(),
    value(
      'FILE',
      'with --workload trace: replay a trace (v1 lines, or v2 from `postcopy-sim trace\n' +
        'record`; gzipped or not); a v2 trace sets --vcpus and --memory unless given',
    ),
  ),
  traceTiming: option(z.enum(TRACE_TIMINGS).default('recorded'), value('T', 'recorded (wait the recorded time between accesses, default) | asap')),
  traceTimeScale: option(number(z.number().gt(0).max(1e6)).default(1), value('X', 'multiply every recorded gap by X (default 1)')),
  writeRatio: option(ratio.default(0.3), value('R', 'fraction of accesses that write, 0..1 (default 0.3)')),
  partition: option(bool.default(false), toggle('each vCPU touches only its own slice (demand_paging_test)')),
  accesses: option(int(1).optional(), value('N', 'accesses per vCPU (default: until migration completes, plus a tail)')),
  tailAccesses: option(int(0).default(2000), value('N', 'accesses per vCPU after migration completes (default 2000)')),
  network: option(z.enum(['link', 'none']).default('link'), value('NET', 'link (source host over a modelled link, default) | none (local copy)')),
  bandwidth: option(
    rate.prefault('10Gbit'),
    value(
      'RATE',
      'link rate (default 10Gbit). Case matters: b is a bit, B a byte. Bits per second:\n' +
        '10Gbit, 25Gbps, 25Gb/s, 800Mbit; bytes per second: 1GB/s, 1GBps (8 Gbit/s),\n100MiB/s; or unlimited',
    ),
  ),
  latency: option(duration.prefault('50us'), value('TIME', 'one-way latency, e.g. 50us, 1ms (default 50us)')),
  msgOverhead: option(size.prefault(64), value('SIZE', 'bytes added per frame on the wire (default 64)')),
  sendBuffer: option(size.prefault('4MiB'), value('SIZE', 'source send buffer (default 4MiB)')),
  zeroFraction: option(ratio.default(0.1), value('R', 'fraction of all-zero pages (default 0.1)')),
  strategy: option(
    z.enum(STRATEGY_NAMES as [StrategyName, ...StrategyName[]]).default('linear'),
    value('S', 'postcopy strategy: demand | linear | prepaging | stride | preempt | hybrid |\nhugepage (default linear); see docs/strategies.md'),
  ),
  precopyRounds: option(int(1, 100).default(2), value('N', 'hybrid: precopy rounds before the switch (default 2)')),
  dirtyRate: option(size.prefault('64MiB'), value('SIZE', 'hybrid: bytes/s the guest dirties during precopy (default 64MiB)')),
  seed: option(int(0, 0xffffffff).default(1), value('N', 'seed of the image and workloads (default 1)')),
  think: option(duration.prefault(0), value('TIME', 'guest think time between accesses, for slow motion (default 0)')),
  vcpuNice: option(int(0, 19).default(5), value('N', 'nice increment of vCPU threads, 0-19 (default 5): service threads win the cores')),
  prefault: option(bool.default(true), value('BOOL', 'map guest memory on the host before the start (default true)')),
  spin: option(duration.prefault('20us'), value('TIME', 'how long a waiting vCPU spins before sleeping (default 20us)')),
  serviceSpin: option(duration.prefault('20us'), value('TIME', 'how long an idle fetcher/source/handler spins (default 20us)')),
  watchdog: option(duration.optional(), value('TIME', 'fail if a vCPU waits this long on one page, in modelled time (default 20s)')),
  timeDilation: option(
    dilation.optional(),
    value(
      'D',
      'threads: run every modelled duration (link, guest compute and think time,\n' +
        'watchdog) D times slower on the wall and report modelled time, so the\n' +
        "simulator's own cost shrinks D-fold in every reported time; auto (the default\n" +
        "wherever a link is modelled, else 1) measures the simulator's costs at start\n" +
        'and picks D so they stay under 5% of a modelled fault (docs/dilation.md)',
    ),
  ),
  wallBudget: option(
    duration.prefault('5s').refine((us) => us > 0, { message: 'must be a duration greater than 0, e.g. 5s' }),
    value(
      'TIME',
      'auto dilation: the wall time the dilated migration may take (default 5s); D is\n' +
        "capped so the link's time for every page, times D, fits; a run over 5% then\n" +
        'says so in its summary (a bigger budget, or --engine virtual, lowers the share)',
    ),
  ),
  unsafePublishBeforeCopyUs: option(
    number(z.number().min(0).max(1e6)).default(0),
    noFlag('fault injection for the correctness tests: publish a page before copying it, with this gap (us)'),
  ),
  inject: option(
    InjectSchema,
    repeated(
      'SPEC',
      'a failure: KIND@TIME[+DURATION][:ARG], repeatable; kinds link-down, bandwidth,\n' +
        'latency, loss, source-restart, handler-crash, fetcher-crash (docs/recovery.md)',
    ),
  ),
  reconnect: option(duration.prefault('50ms'), value('TIME', 'recovery: from the end of an outage to reconnected (default 50ms)')),
  unsafeForgetResend: option(
    bool.default(false),
    noFlag('the deliberate recovery bug, for the test that must catch it: the source forgets to resend one lost page'),
  ),
  injectFault: option(
    z.enum(['none', 'source-dies', 'fetcher-dies', 'vcpu-dies', 'handler-dies']).default('none'),
    noFlag('fault injection for the robustness tests: make one thread die mid-run'),
  ),
  injectBug: option(
    z.enum(['none', 'skip-resend', 'lose-discard', 'install-old-version']).default('none'),
    value(
      'B',
      'hybrid, to test the proof: skip-resend | lose-discard | install-old-version\n' +
        '(a bug a real migration could have; the run must then say not verified)',
    ),
  ),
  engine: option(
    z.enum(['threads', 'virtual']).default('threads'),
    value('E', 'threads (real worker threads, default) | virtual (discrete-event, virtual time)'),
  ),
  costs: option(z.string().min(1).optional(), value('FILE', 'virtual: a cost profile from `postcopy-sim calibrate -o FILE` (wins over --profile)')),
  profile: option(
    z.enum(['this-host', 'large-host']).optional(),
    value('P', 'virtual: this-host (measured here, default) | large-host (2 sockets, 256 threads)'),
  ),
  cores: option(int(1, 65536).optional(), value('N', "virtual: modelled cores (default: this host's for this-host, 256 for large-host)")),
  uffdMode: option(z.enum(['missing', 'minor']).default('missing'), value('M', 'missing (UFFDIO_COPY, default) | minor (shmem, UFFDIO_CONTINUE)', 'uffd')),
  wakeBatch: option(int(1, 64).default(1), value('N', 'uffd: the listen and preempt threads copy with DONTWAKE and wake once per N pages (default 1)', 'uffd')),
  recordSendOrder: option(bool.default(false), toggle('keep the order the source sent pages in (result.sendOrder)')),
  exitResolver: option(
    z.enum(['fetcher', 'vcpu']).default('fetcher'),
    value(
      'R',
      'exit mode: fetcher (default) | vcpu (the vCPU thread resolves its own exit: it copies\n' +
        'from a local image, or over a link asks the source and installs its page itself)',
      'exit',
    ),
  ),
  // ---- the architecture's fault records (src/model/arch/)
  arch: option(z.enum(ARCH_NAMES).default('x86'), value('A', 'x86 (EPT violation, default) | arm64 (ESR_EL2 data/instruction abort)')),
  faultRecord: option(
    z.enum(RECORD_NAMES).default('neutral'),
    value(
      'R',
      'exit mode: neutral (v7 READ/WRITE/EXEC flags, default) | syndrome (plus the\n' +
        'raw ESR_EL2 or exit qualification and the VA: a walk is resolved in one round trip)',
      'exit',
    ),
  ),
  execRatio: option(ratio.default(0), value('R', 'fraction of reads that are instruction fetches (default 0)')),
  pageTables: option(bool.default(false), toggle('accesses walk a 4-level stage-1 table living in guest memory (its pages fault too)')),
  mteFraction: option(ratio.default(0), value('R', 'arm64: fraction of memory (2 MiB regions) MTE-tagged; tags restored on a tag fault')),
  confidential: option(
    bool.default(false),
    toggle('TDX / CCA guest: private memory, with shared regions and conversions; exit mode\nonly (no uffd on guest_memfd)'),
  ),
  sharedFraction: option(
    ratio.default(0.125),
    value('R', 'confidential: fraction of memory (2 MiB regions) shared with the host at the\nstart (default 0.125)'),
  ),
  convertRatio: option(ratio.default(0.001), value('R', 'confidential: fraction of accesses that convert a page to the other attribute\n(default 0.001)')),
  conversionCost: option(
    duration.prefault('20us'),
    value('TIME', 'confidential: time one conversion takes (KVM_SET_MEMORY_ATTRIBUTES and\nits guest_memfd work; default 20us)'),
  ),
  tagRestoreCost: option(duration.prefault('3us'), value('TIME', "arm64 MTE: restoring one page's tags (default 3us)")),
  recordFaultOrder: option(bool.default(false), toggle('keep every fault in order in the JSON (faultOrder)')),
});

export type OptionsInput = z.input<typeof OptionsSchema>;

/** The values an option with a fixed list takes (an enum field of the schema), e.g. the demo's choices. */
export function optionChoices(name: keyof typeof OptionsSchema.shape): string[] {
  let t: z.ZodType = OptionsSchema.shape[name];
  while (!(t instanceof z.ZodEnum) && (t instanceof z.ZodDefault || t instanceof z.ZodOptional)) t = t.unwrap() as z.ZodType;
  if (!(t instanceof z.ZodEnum)) throw new Error(`assertion failed: option ${name} is not a fixed list`);
  return [...t.options] as string[];
}

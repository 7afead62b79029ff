/**
 * Every knob of a run in one place (like demand_paging_test's `struct test_params`): the input shape
 * accepted by the CLI, scenario files and `simulate()`, validated by one zod schema, and the resolved
 * form with units in the field names that the engine uses.
 */
import { z } from 'zod';
import { noFlag, option, repeated, toggle, value } from './option-meta.js';
import { Errors } from './errors.js';
import { checkLimits, formatLimit, MAX_PAGES } from './limits.js';
import { PAGE_HEADER_BYTES } from './model/page-flags.js';
import { parseDuration, parseRate, parseSize } from './units.js';
import { STRATEGY_NAMES, strategyTraits, traitsOfName, type StrategyName } from './model/strategies/index.js';
import { formatInjection, INJECTION_KINDS, parseInjection, type Injection } from './model/injections.js';
import { readTraceHeader } from './trace/header.js';
import { ARCH_NAMES, RECORD_NAMES } from './model/arch/record.js';
import { MODES, TRACE_TIMINGS, WORKLOADS, type Memslot, type ResolvedOptions } from './model/config.js';

// The resolved form is the model's own type (src/model/config.ts); callers may take it from here too.
export { MODES, TRACE_TIMINGS, WORKLOADS, type Memslot, type Mode, type ResolvedOptions, type Workload } from './model/config.js';

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
type Parsed = z.output<typeof OptionsSchema>;

/** One line naming the first bad field, e.g. `vcpus: Too small: expected number to be >=1`. */
export function formatZodError(err: z.ZodError): string {
  const issue = err.issues[0]!;
  const path = issue.path.length ? issue.path.join('.') : '(options)';
  let msg = issue.message;
  if (issue.code === 'unrecognized_keys')
    return `unknown option${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}${issue.path.length ? ` in ${path}` : ''}`;
  if (issue.code === 'invalid_value' && 'values' in issue) msg = `must be one of ${issue.values.join(', ')}`;
  return `${path}: ${msg}`;
}

export function resolveOptions(input: OptionsInput = {}): ResolvedOptions {
  const r = OptionsSchema.safeParse(traceDefaults(input));
  if (!r.success) throw Errors.badInput('', formatZodError(r.error));
  return finish(r.data);
}

/** The default watchdog (modelled time): a vCPU waiting this long on one page fails a threaded run. */
export const DEFAULT_WATCHDOG_US = 20e6;

function finish(o: Parsed): ResolvedOptions {
  const traits = strategyTraits(o.strategy);
  const pageSize = o.pageSize ?? traits.pageSize ?? PAGE_SIZES[0];
  if (!(PAGE_SIZES as readonly number[]).includes(pageSize)) throw Errors.badInput('pageSize', `must be 4KiB or 2MiB, got ${pageSize}`);
  checkLimits(o);
  checkIgnored(o);
  if (o.sendBuffer < pageSize + PAGE_HEADER_BYTES) {
    throw Errors.badInput(
      'sendBuffer',
      `must hold at least one page frame (${pageSize + PAGE_HEADER_BYTES} bytes: the page and its header), got ${o.sendBuffer} bytes`,
    );
  }
  const guestBytes = o.memslots ? o.memslots.reduce((a, m) => Math.max(a, m.base + m.size), 0) : o.memory;
  if (guestBytes / pageSize > MAX_PAGES) {
    throw Errors.badInput(
      o.memslots ? 'memslots' : 'memory',
      `at most ${MAX_PAGES} pages (${formatLimit('size', MAX_PAGES * pageSize)} at ${formatLimit('size', pageSize)} pages), got ${formatLimit('size', guestBytes)}`,
    );
  }
  if (traits.pageSize !== null && pageSize !== traits.pageSize)
    throw Errors.badInput('pageSize', `strategy ${o.strategy} needs ${traits.pageSize / 1048576}MiB pages`);
  const pageShift = Math.log2(pageSize);
  let memslots: Memslot[];
  if (o.memslots) {
    memslots = [];
    let end = 0;
    o.memslots.forEach((m, i) => {
      if (m.size === 0 || m.size % pageSize) throw Errors.badInput(`memslots.${i}.size`, `must be a non-zero multiple of the page size (${pageSize})`);
      if (m.base % pageSize) throw Errors.badInput(`memslots.${i}.base`, `must be aligned to the page size (${pageSize})`);
      if (m.base < end) throw Errors.badInput(`memslots.${i}.base`, 'memslots must be sorted and must not overlap');
      if (m.size > 2 ** 31) throw Errors.badInput(`memslots.${i}.size`, 'one memslot is at most 2GiB (one SharedArrayBuffer)');
      end = m.base + m.size;
      memslots.push({ slot: i, baseGpa: m.base, sizeBytes: m.size, firstPage: 0, pages: m.size / pageSize });
    });
  } else {
    if (o.memory === 0) throw Errors.badInput('memory', 'must be greater than 0');
    if (o.memory % pageSize) {
      const hint = o.memory % 1024 ** 2 ? ' (KB, MB, GB are decimal, 10^3/10^6/10^9 bytes: for binary sizes use KiB, MiB, GiB)' : '';
      throw Errors.badInput('memory', `must be a multiple of the page size (${pageSize} bytes), got ${o.memory} bytes${hint}`);
    }
    if (o.memslotSize === 0 || o.memslotSize % pageSize || o.memslotSize > 2 ** 31) {
      throw Errors.badInput('memslotSize', `must be a non-zero multiple of the page size, at most 2GiB`);
    }
    memslots = [];
    for (let base = 0, i = 0; base < o.memory; base += o.memslotSize, i++) {
      const sizeBytes = Math.min(o.memslotSize, o.memory - base);
      memslots.push({ slot: i, baseGpa: base, sizeBytes, firstPage: 0, pages: sizeBytes / pageSize });
    }
  }
  let pages = 0;
  for (const m of memslots) {
    m.firstPage = pages;
    pages += m.pages;
  }
  const memoryBytes = pages * pageSize;
  if (o.engine === 'threads' && o.vcpus > 256) throw Errors.badInput('vcpus', 'the threaded engine runs at most 256 vCPUs (use --engine virtual)');
  if (o.engine === 'threads' && o.handlers > 64) throw Errors.badInput('handlers', 'the threaded engine runs at most 64 handlers (use --engine virtual)');
  if (o.engine === 'threads' && (o.costs || o.cores !== undefined)) throw Errors.badInput('costs', '--costs and --cores need --engine virtual');
  if (o.exitResolver === 'vcpu' && o.mode !== 'exit') throw Errors.badInput('exitResolver', "'vcpu' is for exit mode");
  if (o.network === 'none' && o.mode !== 'none' && o.accesses === undefined && o.workload !== 'trace') {
    throw Errors.badInput('accesses', 'network none needs --accesses (with no source pushing, migration would only end when the guest does)');
  }
  if (!traits.pushWhileGuestRuns && o.accesses === undefined && o.workload !== 'trace') {
    throw Errors.badInput('accesses', `strategy ${o.strategy} needs --accesses (without a push, migration would only end when the guest does)`);
  }
  if (o.workload === 'trace' && !o.trace) throw Errors.badInput('trace', 'workload trace needs a trace file (--trace FILE)');
  if (o.trace && o.workload !== 'trace') throw Errors.badInput('trace', 'a trace file needs --workload trace');
  if (o.partition && pages < o.vcpus) throw Errors.badInput('partition', `needs at least one page per vCPU (${pages} pages, ${o.vcpus} vCPUs)`);
  if (o.vcpus + 2 > pageSize / 4) throw Errors.badInput('vcpus', 'too many vCPUs for the page size');
  if (o.injectBug !== 'none' && !traits.precopy) {
    throw Errors.badInput('injectBug', 'needs strategy hybrid (precopy resends and discards to break)');
  }
  // A link is modelled: auto by default; otherwise nothing modelled is on a fault's path.
  const timeDilation = o.timeDilation ?? (o.engine === 'threads' && o.network === 'link' && o.mode !== 'none' ? 'auto' : 1);
  if (o.regionSize === 0) throw Errors.badInput('regionSize', 'must be greater than 0');
  checkArch(o, pageSize, pages);
  return {
    vcpus: o.vcpus,
    memoryBytes,
    pageSize,
    pageShift,
    pages,
    memslots,
    mode: o.mode,
    handlers: o.handlers,
    uffdPerVcpu: o.uffdPerVcpu,
    workload: o.workload,
    zipfExponent: o.zipfExponent,
    regionMinPages: Math.max(1, Math.ceil(o.regionSize / pageSize)),
    regionTail: o.regionTail,
    runPages: o.runLength,
    phaseAccesses: o.phaseAccesses,
    trace: o.trace,
    traceTiming: o.traceTiming,
    traceTimeScale: o.traceTimeScale,
    writeRatio: o.writeRatio,
    partition: o.partition,
    accesses: o.accesses,
    tailAccesses: o.tailAccesses,
    network: o.network,
    bandwidthBps: o.bandwidth,
    latencyUs: o.latency,
    msgOverheadBytes: o.msgOverhead,
    sendBufferBytes: o.sendBuffer,
    zeroFraction: o.zeroFraction,
    strategy: o.strategy,
    precopyRounds: o.precopyRounds,
    dirtyRateBytesPerSec: o.dirtyRate,
    seed: o.seed >>> 0,
    prefault: o.prefault,
    vcpuNice: o.vcpuNice,
    thinkUs: o.think,
    spinUs: o.spin,
    serviceSpinUs: o.serviceSpin,
    watchdogUs: o.watchdog ?? DEFAULT_WATCHDOG_US,
    timeDilation,
    wallBudgetUs: o.wallBudget,
    unsafePublishBeforeCopyUs: o.unsafePublishBeforeCopyUs,
    injectFault: o.injectFault,
    injectBug: o.injectBug,
    inject: o.inject,
    reconnectUs: o.reconnect,
    unsafeForgetResend: o.unsafeForgetResend,
    engine: o.engine,
    costs: o.costs,
    profile: o.profile ?? 'this-host',
    cores: o.cores,
    uffdMode: o.uffdMode,
    wakeBatch: o.wakeBatch,
    exitResolver: o.exitResolver,
    recordSendOrder: o.recordSendOrder,
    arch: o.arch,
    faultRecord: o.faultRecord,
    execRatio: o.execRatio,
    pageTables: o.pageTables,
    mteFraction: o.mteFraction,
    confidential: o.confidential,
    sharedFraction: o.sharedFraction,
    convertRatio: o.convertRatio,
    conversionUs: o.conversionCost,
    tagRestoreUs: o.tagRestoreCost,
    recordFaultOrder: o.recordFaultOrder,
  };
}

/** A flag the engine would ignore is an error (README: "A flag that would be ignored is an error"). */
function checkIgnored(o: Parsed): void {
  if (o.engine === 'virtual' && o.timeDilation !== undefined) {
    throw Errors.badInput('timeDilation', 'is for the threaded engine (the virtual engine has no simulator cost on its clock to dilate)');
  }
  if (o.engine === 'virtual' && o.watchdog !== undefined)
    throw Errors.badInput('watchdog', 'is for the threaded engine (a virtual run that stalls is found when its events run out)');
  if (o.engine === 'threads' && o.profile !== undefined)
    throw Errors.badInput('profile', 'a cost profile is for --engine virtual (the threaded engine measures real costs)');
}

/** The architecture options that only make sense together. */
function checkArch(o: Parsed, pageSize: number, pages: number): void {
  if (o.mteFraction > 0 && o.arch !== 'arm64') throw Errors.badInput('mteFraction', 'MTE is an arm64 feature (use --arch arm64)');
  if (o.faultRecord === 'syndrome' && o.mode !== 'exit') {
    throw Errors.badInput('faultRecord', "'syndrome' is what a memory-fault exit carries: it needs exit mode (a uffd_msg has no syndrome)");
  }
  if (o.confidential && o.mode === 'uffd') {
    throw Errors.badInput('confidential', 'userfaultfd cannot register guest_memfd (private memory): a confidential guest needs exit mode');
  }
  if (o.pageTables && pageSize !== PAGE_SIZES[0]) throw Errors.badInput('pageTables', 'the modelled stage-1 table maps 4KiB pages (use 4KiB pages)');
  // 4 levels of tables at the top of memory: the root, one table per level above, the leaves.
  if (o.pageTables && pages < 3 + Math.ceil(pages / 512) + 2) throw Errors.badInput('pageTables', 'the guest is too small to hold its own page tables');
}

/**
 * The options with a v2 trace's defaults filled in: its vCPUs, and its memory rounded up to the
 * run's page size. Anything the user gave wins; v1 traces and other workloads pass unchanged.
 */
function traceDefaults(input: OptionsInput): OptionsInput {
  if (input.workload !== 'trace' || typeof input.trace !== 'string' || !input.trace) return input;
  const h = readTraceHeader(input.trace);
  if (h.version !== 2) return input;
  const out: OptionsInput = { ...input };
  if (out.vcpus === undefined) out.vcpus = h.vcpus;
  if (out.memory === undefined && out.memslots === undefined && h.memoryBytes !== undefined) {
    const page = pageSizeOf(input);
    out.memory = Math.ceil(h.memoryBytes / page) * page;
  }
  return out;
}

function pageSizeOf(input: OptionsInput): number {
  if (input.pageSize !== undefined) {
    try {
      return parseSize(input.pageSize as string | number);
    } catch {
      return 4096;
    } // the schema reports it
  }
  return traitsOfName(String(input.strategy ?? ''))?.pageSize ?? 4096;
}

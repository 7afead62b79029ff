/**
 * Every knob of a run in one place (like demand_paging_test's `struct test_params`): the input shape
 * accepted by the CLI, scenario files and `simulate()`, validated by one zod schema, and the resolved
 * form with units in the field names that the engine uses.
 */
import { z } from 'zod';
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
const InjectSchema = z.array(z.union([z.string(), z.looseObject({ kind: z.enum(INJECTION_KINDS) })])).default([]).transform((specs, ctx) => {
  const out: Injection[] = [];
  specs.forEach((s, i) => {
    try { out.push(parseInjection(typeof s === 'string' ? s : formatInjection(s as unknown as Injection))); } catch (e) {
      ctx.addIssue({ code: 'custom', path: [i], message: (e as Error).message });
    }
  });
  return out;
});

export const PAGE_SIZES = [4096, 2 * 1024 * 1024] as const;
/** The largest time dilation accepted (a 1 ms modelled fault would last 100 s). */
export const MAX_DILATION = 100_000;

const size = (what: string) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    try { return parseSize(v); } catch (e) { ctx.addIssue({ code: 'custom', message: (e as Error).message }); return z.NEVER; }
  }).describe(what);
const rate = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try { return parseRate(v); } catch (e) { ctx.addIssue({ code: 'custom', message: (e as Error).message }); return z.NEVER; }
});
const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try { return parseDuration(v); } catch (e) { ctx.addIssue({ code: 'custom', message: (e as Error).message }); return z.NEVER; }
});
/** `auto`, or a factor D >= 1 (docs/dilation.md). */
const dilation = z.union([z.number(), z.string()]).transform((v, ctx): number | 'auto' => {
  if (v === 'auto') return 'auto';
  const n = typeof v === 'number' ? v : v.trim() === '' ? NaN : Number(v);
  if (!(n >= 1 && n <= MAX_DILATION)) { ctx.addIssue({ code: 'custom', message: `must be auto or a number from 1 to ${MAX_DILATION}` }); return z.NEVER; }
  return n;
});
/** A number written in decimal (`2`, `-1.5`, `1e6`): not hex (`0x2`), not empty (`""` is not 0). */
const DECIMAL = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i;
const decimal = (why: string) => z.union([z.number(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number' || DECIMAL.test(v)) return Number(v);
  ctx.addIssue({ code: 'custom', message: `${why}, got "${v.length > 40 ? `${v.slice(0, 40)}...` : v}"` });
  return z.NEVER;
});
const intWhy = (min: number) => (min === 1 ? 'must be a positive integer' : min === 0 ? 'must be a non-negative integer' : `must be an integer >= ${min}`);
const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  decimal(intWhy(min)).pipe(z.number().int({ error: intWhy(min) }).min(min, { error: intWhy(min) }).max(max, { error: `must be at most ${max}` }));
const number = (n: z.ZodNumber = z.number()) => decimal('must be a decimal number').pipe(n);
const ratio = decimal('must be a decimal number from 0 to 1').pipe(z.number().min(0).max(1));
const bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);

/** The options a user writes (CLI flags, scenario JSON, simulate()): sizes, rates and times as text or numbers. */
export const OptionsSchema = z.strictObject({
  vcpus: int(1, 1024).default(4).describe('number of vCPU threads'),
  memory: size('guest memory size').prefault('64MiB'),
  pageSize: size('page size').optional().describe('4KiB (default) or 2MiB (default for strategy hugepage)'),
  memslotSize: size('largest memslot; larger guests are split into several').prefault('1GiB'),
  memslots: z.array(z.strictObject({ base: size('guest-physical base'), size: size('memslot size') })).optional()
    .describe('explicit memslot layout (overrides memory/memslotSize); gaps are holes with no memslot'),
  mode: z.enum(MODES).default('exit'),
  handlers: int(1, 1024).default(1).describe('uffd handler threads reading the shared queue'),
  uffdPerVcpu: bool.default(false).describe('one uffd (queue + handler) per vCPU slice'),
  workload: z.enum(WORKLOADS).default('zipf'),
  zipfExponent: number(z.number().gt(0).max(10)).default(0.99),
  // The regions workload (src/model/regions.ts). Defaults and where they come from are in docs/guests.md
  // ("Guests that behave like real ones").
  regionSize: size('regions: the smallest region (scale of the Pareto size distribution)').prefault('4KiB'),
  regionTail: number(z.number().gt(0).max(10)).default(0.7).describe('regions: Pareto shape of region sizes (smaller: heavier tail)'),
  runLength: int(1, 1 << 20).default(32).describe('regions: mean pages per sequential run inside a region (32 = Linux VM_READAHEAD_PAGES)'),
  phaseAccesses: int(0).default(1 << 20).describe('regions: accesses per vCPU before the hot set moves (0: it never moves)'),
  trace: z.string().min(1).optional().describe('workload trace: a trace file (v1 "<vcpu> <R|W|X> <gpa>" or v2 with timestamps; may be gzipped)'),
  traceTiming: z.enum(TRACE_TIMINGS).default('recorded').describe("trace: 'recorded' waits the recorded time between accesses, 'asap' none"),
  traceTimeScale: number(z.number().gt(0).max(1e6)).default(1).describe('trace: multiplies every recorded gap (2: the program runs half as fast)'),
  writeRatio: ratio.default(0.3),
  partition: bool.default(false).describe('each vCPU touches only its own slice of memory'),
  accesses: int(1).optional().describe('guest accesses per vCPU; default: until migration completes, plus a tail'),
  tailAccesses: int(0).default(2000).describe('accesses per vCPU after migration completes (when accesses is not set)'),
  network: z.enum(['link', 'none']).default('link')
    .describe("'none': no source host; the fetcher/handlers copy pages from a local image, as demand_paging_test's handlers do"),
  bandwidth: rate.prefault('10Gbit'),
  latency: duration.prefault('50us'),
  msgOverhead: size('per-message bytes added on the wire').prefault(64),
  sendBuffer: size('source send buffer').prefault('4MiB'),
  zeroFraction: ratio.default(0.1),
  strategy: z.enum(STRATEGY_NAMES as [StrategyName, ...StrategyName[]]).default('linear').describe('postcopy strategy (src/model/strategies/)'),
  precopyRounds: int(1, 100).default(2).describe('hybrid: precopy rounds before the switch to postcopy'),
  dirtyRate: size('hybrid: bytes per second the guest dirties during precopy').prefault('64MiB'),
  seed: int(0, 0xffffffff).default(1),
  think: duration.prefault(0).describe('guest think time between accesses (slow motion for demos)'),
  vcpuNice: int(0, 19).default(5).describe('nice increment of the vCPU threads, so the fetcher, source and handlers win the cores'),
  prefault: bool.default(true).describe('map all guest memory on the host before the guest starts (like -mem-prealloc)'),
  spin: duration.prefault('20us').describe('how long a waiting vCPU spins before it sleeps'),
  serviceSpin: duration.prefault('20us').describe('how long an idle fetcher/source/handler spins before it sleeps'),
  watchdog: duration.optional().describe('threads: a vCPU waiting this long on one page (modelled time) fails the run (default 20s)'),
  timeDilation: dilation.optional()
    .describe("threads: every modelled duration runs D times slower on the wall, times are reported in modelled time; 'auto' (the default wherever a link is modelled) picks D from the simulator's own costs measured at start"),
  wallBudget: duration.prefault('5s').refine((us) => us > 0, { message: 'must be a duration greater than 0, e.g. 5s' })
    .describe("threads, auto dilation: the wall time the dilated migration may take; D is capped at this budget over the link's time for every page"),
  /** Fault injection for the correctness tests: publish a page before copying it, with this gap. */
  unsafePublishBeforeCopyUs: number(z.number().min(0).max(1e6)).default(0),
  inject: InjectSchema.describe('failure injections, KIND@TIME[+DURATION][:ARG] (src/model/injections.ts); repeatable'),
  reconnect: duration.prefault('50ms').describe('postcopy recovery: from the end of an outage until the two sides are connected again'),
  /** The deliberate recovery bug, for the test that must catch it: the source forgets to resend one lost page. */
  unsafeForgetResend: bool.default(false),
  /** Fault injection for the robustness tests: make one thread die mid-run. */
  injectFault: z.enum(['none', 'source-dies', 'fetcher-dies', 'vcpu-dies', 'handler-dies']).default('none'),
  /**
   * Fault injection for the correctness tests of versioned pages (hybrid): a resend skipped, a discard
   * lost, an old version installed over a newer one. The proof must catch each.
   */
  injectBug: z.enum(['none', 'skip-resend', 'lose-discard', 'install-old-version']).default('none'),
  engine: z.enum(['threads', 'virtual']).default('threads').describe("'virtual': the single-threaded discrete-event engine (src/virtual/)"),
  costs: z.string().min(1).optional().describe('virtual engine: a cost profile JSON file (postcopy-sim calibrate -o FILE); wins over --profile'),
  profile: z.enum(['this-host', 'large-host']).optional()
    .describe("virtual engine: the shipped cost profile: this host's measured costs (default), or a two-socket 256-thread host (src/virtual/profiles/)"),
  cores: int(1, 65536).optional().describe("virtual engine: modelled cores (default: this host's for a measured profile, the profile's for a modelled host)"),
  uffdMode: z.enum(['missing', 'minor']).default('missing')
    .describe("uffd registration: 'missing' (anonymous memory, UFFDIO_COPY / _ZEROPAGE) or 'minor' (shmem, UFFDIO_CONTINUE), both engines"),
  wakeBatch: int(1, 64).default(1)
    .describe('uffd mode: the listen and preempt threads copy with MODE_DONTWAKE and issue one UFFDIO_WAKE per run of contiguous pages every N pages'),
  recordSendOrder: bool.default(false)
    .describe('keep the order in which the source sent pages (result.sendOrder: page, frame flags), for tests and teaching'),
  exitResolver: z.enum(['fetcher', 'vcpu']).default('fetcher')
    .describe("exit mode: who resolves a memory-fault exit: the page fetcher, or the vCPU thread itself (no shared thread at all; needs network none)"),
  // ---- the architecture's fault records (src/model/arch/)
  arch: z.enum(ARCH_NAMES).default('x86').describe("the vCPU's architecture: x86 (EPT violation, exit qualification) or arm64 (ESR_EL2, HPFAR_EL2)"),
  faultRecord: z.enum(RECORD_NAMES).default('neutral')
    .describe("exit mode: what the memory-fault exit carries: 'neutral' (the v7 READ/WRITE/EXEC flags) or 'syndrome' (plus the raw ESR_EL2 / exit qualification and VA)"),
  execRatio: ratio.default(0).describe('fraction of guest reads that are instruction fetches'),
  pageTables: bool.default(false).describe("the guest's accesses walk a modelled 4-level stage-1 page table that lives in guest memory (4KiB pages)"),
  mteFraction: ratio.default(0).describe('arm64: fraction of guest memory (2 MiB regions) that is MTE-tagged; tags are restored on the first tag fault'),
  confidential: bool.default(false).describe('a confidential guest (TDX on x86, CCA on arm64): private memory, with shared regions and conversions'),
  sharedFraction: ratio.default(0.125).describe('confidential: fraction of guest memory (2 MiB regions) shared with the host at the start'),
  convertRatio: ratio.default(0.001).describe("confidential: fraction of accesses made with the other attribute than the page's (the guest converts it)"),
  conversionCost: duration.prefault('20us').describe('confidential: time the VMM takes to convert one page (KVM_SET_MEMORY_ATTRIBUTES and its guest_memfd work)'),
  tagRestoreCost: duration.prefault('3us').describe("arm64 MTE: time the VMM takes to restore one page's tags (KVM_ARM_MTE_COPY_TAGS of 128 bytes)"),
  recordFaultOrder: bool.default(false).describe('keep every fault each vCPU took, in order (result.faultOrder: kind, gpa), for tests and teaching'),
});

export type OptionsInput = z.input<typeof OptionsSchema>;
type Parsed = z.output<typeof OptionsSchema>;

/** One line naming the first bad field, e.g. `vcpus: Too small: expected number to be >=1`. */
export function formatZodError(err: z.ZodError): string {
  const issue = err.issues[0]!;
  const path = issue.path.length ? issue.path.join('.') : '(options)';
  let msg = issue.message;
  if (issue.code === 'unrecognized_keys') return `unknown option${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}${issue.path.length ? ` in ${path}` : ''}`;
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
    throw Errors.badInput('sendBuffer', `must hold at least one page frame (${pageSize + PAGE_HEADER_BYTES} bytes: the page and its header), got ${o.sendBuffer} bytes`);
  }
  const guestBytes = o.memslots ? o.memslots.reduce((a, m) => Math.max(a, m.base + m.size), 0) : o.memory;
  if (guestBytes / pageSize > MAX_PAGES) {
    throw Errors.badInput(o.memslots ? 'memslots' : 'memory', `at most ${MAX_PAGES} pages (${formatLimit('size', MAX_PAGES * pageSize)} at ${formatLimit('size', pageSize)} pages), got ${formatLimit('size', guestBytes)}`);
  }
  if (traits.pageSize !== null && pageSize !== traits.pageSize) throw Errors.badInput('pageSize', `strategy ${o.strategy} needs ${traits.pageSize / 1048576}MiB pages`);
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
  for (const m of memslots) { m.firstPage = pages; pages += m.pages; }
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
    vcpus: o.vcpus, memoryBytes, pageSize, pageShift, pages, memslots,
    mode: o.mode, handlers: o.handlers, uffdPerVcpu: o.uffdPerVcpu,
    workload: o.workload, zipfExponent: o.zipfExponent,
    regionMinPages: Math.max(1, Math.ceil(o.regionSize / pageSize)), regionTail: o.regionTail, runPages: o.runLength, phaseAccesses: o.phaseAccesses,
    trace: o.trace, traceTiming: o.traceTiming, traceTimeScale: o.traceTimeScale, writeRatio: o.writeRatio, partition: o.partition,
    accesses: o.accesses, tailAccesses: o.tailAccesses,
    network: o.network, bandwidthBps: o.bandwidth, latencyUs: o.latency, msgOverheadBytes: o.msgOverhead, sendBufferBytes: o.sendBuffer,
    zeroFraction: o.zeroFraction, strategy: o.strategy, precopyRounds: o.precopyRounds, dirtyRateBytesPerSec: o.dirtyRate, seed: o.seed >>> 0, prefault: o.prefault, vcpuNice: o.vcpuNice, thinkUs: o.think, spinUs: o.spin, serviceSpinUs: o.serviceSpin, watchdogUs: o.watchdog ?? DEFAULT_WATCHDOG_US,
    timeDilation, wallBudgetUs: o.wallBudget, unsafePublishBeforeCopyUs: o.unsafePublishBeforeCopyUs, injectFault: o.injectFault, injectBug: o.injectBug, inject: o.inject, reconnectUs: o.reconnect, unsafeForgetResend: o.unsafeForgetResend,
    engine: o.engine, costs: o.costs, profile: o.profile ?? 'this-host', cores: o.cores, uffdMode: o.uffdMode, wakeBatch: o.wakeBatch, exitResolver: o.exitResolver, recordSendOrder: o.recordSendOrder,
    arch: o.arch, faultRecord: o.faultRecord, execRatio: o.execRatio, pageTables: o.pageTables, mteFraction: o.mteFraction,
    confidential: o.confidential, sharedFraction: o.sharedFraction, convertRatio: o.convertRatio, conversionUs: o.conversionCost,
    tagRestoreUs: o.tagRestoreCost, recordFaultOrder: o.recordFaultOrder,
  };
}

/** A flag the engine would ignore is an error (README: "A flag that would be ignored is an error"). */
function checkIgnored(o: Parsed): void {
  if (o.engine === 'virtual' && o.timeDilation !== undefined) {
    throw Errors.badInput('timeDilation', 'is for the threaded engine (the virtual engine has no simulator cost on its clock to dilate)');
  }
  if (o.engine === 'virtual' && o.watchdog !== undefined) throw Errors.badInput('watchdog', 'is for the threaded engine (a virtual run that stalls is found when its events run out)');
  if (o.engine === 'threads' && o.profile !== undefined) throw Errors.badInput('profile', 'a cost profile is for --engine virtual (the threaded engine measures real costs)');
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
    try { return parseSize(input.pageSize as string | number); } catch { return 4096; } // the schema reports it
  }
  return traitsOfName(String(input.strategy ?? ''))?.pageSize ?? 4096;
}

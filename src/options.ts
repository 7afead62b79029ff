/**
 * Every knob of a run in one place (like demand_paging_test's `struct test_params`): the input shape
 * accepted by the CLI, scenario files and `simulate()`, validated by one zod schema, and the resolved
 * form with units in the field names that the engine uses.
 */
import type { z } from 'zod';
import { Errors } from './errors.js';
import { checkLimits, formatLimit, MAX_PAGES } from './limits.js';
import { PAGE_HEADER_BYTES } from './model/page-flags.js';
import { strategyTraits, traitsOfName } from './model/strategies/index.js';
import { readTraceHeader } from './trace/header.js';
import { parseSize } from './units.js';
import type { Memslot, ResolvedOptions } from './model/config.js';

// The resolved form is the model's own type (src/model/config.ts); callers may take it from here too.
export { MODES, TRACE_TIMINGS, WORKLOADS, type Memslot, type Mode, type ResolvedOptions, type Workload } from './model/config.js';

import { OptionsSchema, PAGE_SIZES, type OptionsInput } from './option-schema.js';

export { MAX_DILATION, OptionsSchema, optionChoices, PAGE_SIZES, type OptionsInput } from './option-schema.js';

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

/**
 * Command-line flags -> the options object the schema validates. Flags are kebab-case versions of
 * the option names (`--write-ratio` -> writeRatio); values stay strings so sizes, rates and times
 * go through the same parsers as scenario files. A scenario file supplies defaults; flags win.
 */
import { parseArgs } from 'node:util';
import { readJsonFile } from '../files.js';
import { Errors } from '../errors.js';
import type { OptionsInput } from '../options.js';

/** Every option flag, by its option name, and whether it is a boolean switch. */
const OPTION_FLAGS: Record<string, 'string' | 'boolean' | 'strings'> = {
  vcpus: 'string', memory: 'string', pageSize: 'string', memslotSize: 'string', mode: 'string', handlers: 'string',
  uffdPerVcpu: 'boolean', workload: 'string', zipfExponent: 'string', writeRatio: 'string', partition: 'boolean',
  accesses: 'string', tailAccesses: 'string', network: 'string', bandwidth: 'string', latency: 'string',
  msgOverhead: 'string', sendBuffer: 'string', zeroFraction: 'string', strategy: 'string', precopyRounds: 'string', dirtyRate: 'string', seed: 'string', spin: 'string',
  serviceSpin: 'string', watchdog: 'string', prefault: 'string', vcpuNice: 'string', think: 'string', trace: 'string',
  engine: 'string', costs: 'string', profile: 'string', cores: 'string', uffdMode: 'string', wakeBatch: 'string', exitResolver: 'string', timeDilation: 'string', wallBudget: 'string',
  recordSendOrder: 'boolean', reconnect: 'string', inject: 'strings', injectBug: 'string',
  regionSize: 'string', regionTail: 'string', runLength: 'string', phaseAccesses: 'string', traceTiming: 'string', traceTimeScale: 'string',
  arch: 'string', faultRecord: 'string', execRatio: 'string', pageTables: 'boolean', mteFraction: 'string', confidential: 'boolean',
  sharedFraction: 'string', convertRatio: 'string', conversionCost: 'string', tagRestoreCost: 'string', recordFaultOrder: 'boolean',
};

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export interface ParsedCommand {
  options: OptionsInput;
  json: boolean;
  help: boolean;
  scenario: string | undefined;
  positionals: string[];
  extra: Record<string, string | boolean | undefined>;
  /** the option flags given on the command line (not from --scenario), by option name */
  flags: Record<string, unknown>;
}

/**
 * Parses `argv` (after the subcommand). `extraFlags` are subcommand-specific flags (e.g. `-o`).
 * Throws a BAD_INPUT SimError with one line naming the bad flag.
 */
export function parseCommand(argv: string[], extraFlags: Record<string, { type: 'string' | 'boolean'; short?: string }> = {}): ParsedCommand {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, scenario: { type: 'string' }, ...extraFlags,
  };
  for (const [name, type] of Object.entries(OPTION_FLAGS)) options[kebab(name)] = type === 'strings' ? { type: 'string', multiple: true } : { type };
  let parsed;
  try {
    parsed = parseArgs({ args: joinNegatives(argv, options), options, strict: true, allowPositionals: true });
  } catch (e) {
    throw Errors.badInput('', parseArgsWhy((e as Error).message));
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  let fromFile: Record<string, unknown> = {};
  if (typeof v.scenario === 'string') fromFile = readScenario(v.scenario);
  const fromFlags: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) {
    const name = camel(k);
    if (val === undefined || !(name in OPTION_FLAGS)) continue;
    fromFlags[name] = val;
  }
  const extra: Record<string, string | boolean | undefined> = {};
  for (const k of Object.keys(extraFlags)) extra[k] = v[k];
  return {
    options: { ...fromFile, ...fromFlags } as OptionsInput,
    json: v.json === true, help: v.help === true, scenario: v.scenario as string | undefined,
    positionals: parsed.positionals, extra, flags: fromFlags,
  };
}

/** `--vcpus -2` -> `--vcpus=-2`: parseArgs would read `-2` as a flag ("argument is ambiguous"). */
function joinNegatives(argv: string[], options: Record<string, { type: 'string' | 'boolean' }>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if (a === '--') { out.push(...argv.slice(i)); break; }
    if (a.startsWith('--') && !a.includes('=') && options[a.slice(2)]?.type === 'string' && next !== undefined && /^-[\d.]/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** parseArgs' message -> `FLAG: why`. */
function parseArgsWhy(message: string): string {
  const line = message.split('\n')[0]!;
  let m = /^Unknown option '([^']+)'/.exec(line);
  if (m) return `${m[1]}: unknown option (see: postcopy-sim help)`;
  m = /^Option '(?:-\w, )?(--[\w-]+)[^']*' argument missing/.exec(line);
  if (m) return `${m[1]}: needs a value`;
  m = /^Option '(?:-\w, )?(--[\w-]+)[^']*' does not take an argument/.exec(line);
  if (m) return `${m[1]}: is a switch and takes no value`;
  m = /^Unexpected argument '([^']+)'/.exec(line);
  if (m) return `${m[1]}: unexpected argument`;
  return line.replace(/\. To specify a positional argument.*$/, '');
}

/** Flags that only mean something in some modes: given on the command line elsewhere, they are an error. */
const UFFD_ONLY = ['handlers', 'uffdPerVcpu', 'uffdMode', 'wakeBatch'] as const;

/** Rejects option flags given explicitly that the command or the chosen mode would ignore. */
export function checkFlagsApply(cmd: ParsedCommand, command: 'run' | 'compare' | 'start'): void {
  const given = (name: string) => name in cmd.flags;
  const mode = (cmd.options as { mode?: string }).mode ?? 'exit';
  if (command === 'compare' && given('strategy')) {
    throw Errors.badInput('--strategy', 'compare runs several strategies: pick them with --strategies a,b,...');
  }
  if (command === 'start' && given('mode')) throw Errors.badInput('--mode', 'start runs both exit and uffd mode: use run --mode');
  if (command !== 'start' && mode !== 'uffd') {
    for (const f of UFFD_ONLY) if (given(f)) throw Errors.badInput(`--${kebab(f)}`, `applies only to --mode uffd (mode is ${mode})`);
  }
  if (command !== 'start' && mode !== 'exit') {
    for (const f of ['exitResolver', 'faultRecord'] as const) if (given(f)) throw Errors.badInput(`--${kebab(f)}`, `applies only to --mode exit (mode is ${mode})`);
  }
}

/** FLAG_HELP without the entries of `exclude` (flag names such as '--mode'). */
export function flagHelp(exclude: string[] = []): string {
  const out: string[] = [];
  let skipping = false;
  for (const line of FLAG_HELP.split('\n')) {
    const m = /^ {2}(--[\w-]+)/.exec(line);
    if (m) skipping = exclude.includes(m[1]!);
    else if (!/^ {3,}/.test(line)) skipping = false;
    if (!skipping) out.push(line);
  }
  return out.join('\n');
}

/** Reads a scenario file: a JSON object of options (validated later by the schema, field by field). */
export function readScenario(path: string): Record<string, unknown> {
  const { data } = readJsonFile(path, '--scenario');
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw Errors.badInput('--scenario', `${path} must hold a JSON object of options`);
  const obj = data as Record<string, unknown>;
  // `$schema` and `description` are allowed so scenario files can document themselves.
  const { $schema: _s, description: _d, ...rest } = obj;
  return rest;
}

export const FLAG_HELP = `Options (also accepted as JSON keys in --scenario FILE; flags win):
  --vcpus N            vCPU threads (default 4)
  --memory SIZE        guest memory, e.g. 256MiB, 4GiB, 64M (binary); 64MB is decimal (default 64MiB)
  --page-size SIZE     4KiB or 2MiB (default 4KiB)
  --memslot-size SIZE  largest memslot; larger guests get several (default 1GiB)
  --mode MODE          exit (KVM_EXIT_MEMORY_FAULT, default) | uffd (userfaultfd) | none (all memory present)
  --handlers N         uffd: handler threads reading the one shared queue (default 1)
  --uffd-per-vcpu      uffd: one queue + handler per vCPU slice instead
  --workload W         sequential | random | zipf | regions | trace (default zipf)
  --zipf-exponent X    zipf skew, over pages (zipf) or regions (regions) (default 0.99)
  --region-size SIZE   regions: smallest region, the scale of their Pareto sizes (default 4KiB)
  --region-tail A      regions: Pareto shape of region sizes, smaller is heavier (default 0.7)
  --run-length N       regions: mean pages of a sequential run inside a region (default 32)
  --phase-accesses N   regions: accesses per vCPU before the hot set moves, 0 never (default 1048576)
  --trace FILE         with --workload trace: replay a trace (v1 lines, or v2 from \`postcopy-sim trace
                       record\`; gzipped or not); a v2 trace sets --vcpus and --memory unless given
  --trace-timing T     recorded (wait the recorded time between accesses, default) | asap
  --trace-time-scale X multiply every recorded gap by X (default 1)
  --think TIME         guest think time between accesses, for slow motion (default 0)
  --write-ratio R      fraction of accesses that write, 0..1 (default 0.3)
  --partition          each vCPU touches only its own slice (demand_paging_test)
  --accesses N         accesses per vCPU (default: until migration completes, plus a tail)
  --tail-accesses N    accesses per vCPU after migration completes (default 2000)
  --network NET        link (source host over a modelled link, default) | none (local copy)
  --bandwidth RATE     link rate (default 10Gbit). Case matters: b is a bit, B a byte. Bits per second:
                       10Gbit, 25Gbps, 25Gb/s, 800Mbit; bytes per second: 1GB/s, 1GBps (8 Gbit/s),
                       100MiB/s; or unlimited
  --latency TIME       one-way latency, e.g. 50us, 1ms (default 50us)
  --msg-overhead SIZE  bytes added per frame on the wire (default 64)
  --send-buffer SIZE   source send buffer (default 4MiB)
  --zero-fraction R    fraction of all-zero pages (default 0.1)
  --strategy S         postcopy strategy: demand | linear | prepaging | stride | preempt | hybrid |
                       hugepage (default linear); see docs/strategies.md
  --precopy-rounds N   hybrid: precopy rounds before the switch (default 2)
  --dirty-rate SIZE    hybrid: bytes/s the guest dirties during precopy (default 64MiB)
  --seed N             seed of the image and workloads (default 1)
  --prefault BOOL      map guest memory on the host before the start (default true)
  --vcpu-nice N        nice increment of vCPU threads, 0-19 (default 5): service threads win the cores
  --spin TIME          how long a waiting vCPU spins before sleeping (default 20us)
  --service-spin TIME  how long an idle fetcher/source/handler spins (default 20us)
  --watchdog TIME      fail if a vCPU waits this long on one page, in modelled time (default 20s)
  --time-dilation D    threads: run every modelled duration (link, guest compute and think time,
                       watchdog) D times slower on the wall and report modelled time, so the
                       simulator's own cost shrinks D-fold in every reported time; auto (the default
                       wherever a link is modelled, else 1) measures the simulator's costs at start
                       and picks D so they stay under 5% of a modelled fault (docs/dilation.md)
  --wall-budget TIME   auto dilation: the wall time the dilated migration may take (default 5s); D is
                       capped so the link's time for every page, times D, fits; a run over 5% then
                       says so in its summary (a bigger budget, or --engine virtual, lowers the share)
  --engine E           threads (real worker threads, default) | virtual (discrete-event, virtual time)
  --profile P          virtual: this-host (measured here, default) | large-host (2 sockets, 256 threads)
  --costs FILE         virtual: a cost profile from \`postcopy-sim calibrate -o FILE\` (wins over --profile)
  --cores N            virtual: modelled cores (default: this host's for this-host, 256 for large-host)
  --uffd-mode M        missing (UFFDIO_COPY, default) | minor (shmem, UFFDIO_CONTINUE)
  --wake-batch N       uffd: the listen and preempt threads copy with DONTWAKE and wake once per N pages (default 1)
  --exit-resolver R    exit mode: fetcher (default) | vcpu (the vCPU thread resolves its own exit: it copies
                       from a local image, or over a link asks the source and installs its page itself)
  --inject SPEC        a failure: KIND@TIME[+DURATION][:ARG], repeatable; kinds link-down, bandwidth,
                       latency, loss, source-restart, handler-crash, fetcher-crash (docs/recovery.md)
  --reconnect TIME     recovery: from the end of an outage to reconnected (default 50ms)
  --inject-bug B       hybrid, to test the proof: skip-resend | lose-discard | install-old-version
                       (a bug a real migration could have; the run must then say not verified)
  --record-send-order  keep the order the source sent pages in (result.sendOrder)
  --arch A             x86 (EPT violation, default) | arm64 (ESR_EL2 data/instruction abort)
  --fault-record R     exit mode: neutral (v7 READ/WRITE/EXEC flags, default) | syndrome (plus the
                       raw ESR_EL2 or exit qualification and the VA: a walk is resolved in one round trip)
  --exec-ratio R       fraction of reads that are instruction fetches (default 0)
  --page-tables        accesses walk a 4-level stage-1 table living in guest memory (its pages fault too)
  --mte-fraction R     arm64: fraction of memory (2 MiB regions) MTE-tagged; tags restored on a tag fault
  --confidential       TDX / CCA guest: private memory, --shared-fraction R shared (default 0.125),
                       --convert-ratio R of accesses convert a page (default 0.001), each conversion
                       --conversion-cost TIME (default 20us); exit mode only (no uffd on guest_memfd)
  --tag-restore-cost TIME  arm64 MTE: restoring one page's tags (default 3us)
  --record-fault-order keep every fault in order in the JSON (faultOrder)
  --scenario FILE      read options from a JSON file
  --json               print one JSON object instead of the summary table`;

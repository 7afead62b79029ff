/**
 * The demo's controls -> the options of one run. Every control goes through resolveOptions, like a
 * CLI flag, so a bad value gets the same one-line message; then the demo's own caps apply (guest
 * size, vCPUs), then slow motion stretches the run's clocks for a class to follow single faults.
 *
 * Engine 'virtual' runs the discrete-event engine (src/virtual/) instead: its clock is virtual, so
 * slow motion does not stretch the options but paces the playback (virtual µs per wall ms), and it
 * takes more vCPUs (the queue of 64 vCPUs on one uffd is the scenario it is here for).
 */
import { Errors } from '../errors.js';
import { optionChoices, resolveOptions, type OptionsInput, type ResolvedOptions } from '../options.js';
import { traitsOfName } from '../model/strategies/index.js';
import { formatBytes, formatRate, parseSize } from '../units.js';
import { CONTROL_NAMES, type ControlName } from './controls.js';
import { LESSONS } from './lessons.js';

export { CONTROL_NAMES, type ControlName };

/**
 * Slow motion by a factor f: the guest thinks between accesses, the link's latency is f times
 * longer and its bandwidth f times lower, so everything the guest and the link do is stretched alike.
 */
export const SPEEDS = {
  realtime: { factor: 1, thinkUs: 0, virtualUsPerRealMs: 1000, label: 'real time' },
  x10: { factor: 10, thinkUs: 100, virtualUsPerRealMs: 100, label: 'slow motion ×10 (100 µs per access)' },
  x100: { factor: 100, thinkUs: 1000, virtualUsPerRealMs: 10, label: 'slow motion ×100 (1 ms per access)' },
  x1000: { factor: 1000, thinkUs: 10_000, virtualUsPerRealMs: 1, label: 'single faults ×1000 (10 ms per access)' },
} as const;
export type Speed = keyof typeof SPEEDS;

/** The controls the page sends (POST /api/start), as strings or numbers. */
export interface DemoControls {
  mode?: string;
  strategy?: string;
  vcpus?: string | number;
  workload?: string;
  memory?: string | number;
  bandwidth?: string | number;
  latency?: string | number;
  speed?: string;
  seed?: string | number;
  /** 'threads' (real threads, real time) or 'virtual' (the discrete-event engine, played back). */
  engine?: string;
  /** 'link' (a source host behind the modelled link) or 'none' (pages copied from a local image). */
  network?: string;
  /** Guest accesses per vCPU; '' = until migration completes (link) or one pass over its share (none). */
  accesses?: string | number;
  /** Exit mode: who resolves a memory-fault exit, 'fetcher' (QEMU-style) or 'vcpu' (needs network none). */
  resolver?: string;
  /** Virtual engine: modelled cores; '' = the cost profile's. */
  cores?: string | number;
  /** Sequential/random workloads: each vCPU touches only its own slice ('true' / 'false'). */
  partition?: string;
  /** The fault records (src/model/arch/): architecture, record, and the guest's features. */
  arch?: string;
  record?: string;
  pageTables?: string;
  execRatio?: string | number;
  mteFraction?: string | number;
  confidential?: string;
  convertRatio?: string | number;
  /** Injections, as --inject takes them, comma-separated ('' = none). */
  inject?: string;
}

export const DEFAULT_CONTROLS: Required<DemoControls> = {
  mode: 'exit',
  strategy: 'linear',
  vcpus: 2,
  workload: 'zipf',
  memory: '64MiB',
  bandwidth: '1Gbit',
  latency: '50us',
  speed: 'x10',
  seed: 1,
  engine: 'threads',
  network: 'link',
  accesses: '',
  resolver: 'fetcher',
  cores: '',
  partition: 'false',
  arch: 'x86',
  record: 'neutral',
  pageTables: 'false',
  execRatio: '0',
  mteFraction: '0',
  confidential: 'false',
  convertRatio: '',
  inject: '',
};

/**
 * The scenario the virtual engine is in the demo for (issue 6): 64 vCPUs fault on their own slice
 * of a 64 MiB guest, one pass each, pages copied locally; on one uffd with one reader the faults
 * queue up behind it, with exits each vCPU resolves its own. Modelled cores: one per thread.
 */
export const PRESETS: Record<string, { label: string; controls: Partial<Record<ControlName, string>> }> = {
  'uffd-64': {
    label: '64 vCPUs, one uffd',
    controls: {
      engine: 'virtual',
      mode: 'uffd',
      vcpus: '64',
      workload: 'sequential',
      partition: 'true',
      memory: '64MiB',
      network: 'none',
      accesses: '',
      resolver: 'fetcher',
      cores: '72',
      strategy: 'linear',
      speed: 'x100',
    },
  },
  'exit-64': {
    label: '64 vCPUs, exits',
    controls: {
      engine: 'virtual',
      mode: 'exit',
      vcpus: '64',
      workload: 'sequential',
      partition: 'true',
      memory: '64MiB',
      network: 'none',
      accesses: '',
      resolver: 'vcpu',
      cores: '72',
      strategy: 'linear',
      speed: 'x100',
    },
  },
};

export interface DemoLimits {
  maxMemoryBytes: number;
  maxVcpus: number;
  /** vCPUs a virtual-engine run may have (it has no threads to spend). @default 256 */
  maxVirtualVcpus?: number;
}
export const DEFAULT_LIMITS: DemoLimits = { maxMemoryBytes: 4 * 2 ** 30, maxVcpus: 16, maxVirtualVcpus: 256 };

export interface DemoRunPlan {
  options: ResolvedOptions;
  speed: Speed;
  /** Virtual engine: playback pacing for simulateVirtual (null for the threaded engine). */
  playback: { virtualUsPerRealMs: number } | null;
  /** The run migrates over a modelled link, which the page's "Cut the link" can cut (either engine). */
  cuttable: boolean;
  /** What the page shows next to the controls: the values the run really uses. */
  effective: {
    thinkUs: number;
    latencyUs: number;
    bandwidth: string;
    memory: string;
    watchdogS: number;
    accesses: number | null;
    engine: 'threads' | 'virtual';
    network: 'link' | 'none';
    virtualUsPerRealMs: number | null;
    cores: number | null;
  };
}

/**
 * Checks the controls and builds the run's options. Throws SimError BAD_INPUT with one line (the
 * server answers 400 with it). Unknown controls are refused, like unknown CLI flags.
 */
export function planDemoRun(body: unknown, limits: DemoLimits = DEFAULT_LIMITS): DemoRunPlan {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw Errors.badInput('', 'expected a JSON object of controls');
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !(CONTROL_NAMES as readonly string[]).includes(k));
  if (unknown.length) throw Errors.badInput('', `unknown control${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`);
  for (const [k, v] of Object.entries(b)) {
    if (typeof v !== 'string' && typeof v !== 'number') throw Errors.badInput(k, 'expected a string or a number');
    if (typeof v === 'string' && v.length > 64) throw Errors.badInput(k, 'too long');
  }
  const c = { ...DEFAULT_CONTROLS, ...(b as DemoControls) };
  const speed = String(c.speed);
  if (!(speed in SPEEDS)) throw Errors.badInput('speed', `must be one of ${Object.keys(SPEEDS).join(', ')}`);
  const s = SPEEDS[speed as Speed];
  // The user's values first, exactly as the CLI would take them.
  const blank = (v: unknown) => v === undefined || String(v).trim() === '';
  const input: OptionsInput = {
    mode: c.mode as OptionsInput['mode'],
    strategy: c.strategy as OptionsInput['strategy'],
    vcpus: c.vcpus,
    workload: c.workload as OptionsInput['workload'],
    memory: c.memory,
    bandwidth: c.bandwidth,
    latency: c.latency,
    seed: c.seed,
    engine: c.engine as OptionsInput['engine'],
    network: c.network as OptionsInput['network'],
    partition: c.partition as OptionsInput['partition'],
    arch: c.arch as OptionsInput['arch'],
    faultRecord: c.record as OptionsInput['faultRecord'],
    pageTables: c.pageTables as OptionsInput['pageTables'],
    execRatio: c.execRatio,
    mteFraction: c.mteFraction,
    confidential: c.confidential as OptionsInput['confidential'],
  };
  if (!blank(c.convertRatio)) input.convertRatio = c.convertRatio;
  if (!blank(c.inject))
    input.inject = String(c.inject)
      .split(',')
      .map((s) => s.trim());
  if (!blank(c.resolver)) input.exitResolver = c.resolver as OptionsInput['exitResolver'];
  if (!blank(c.cores)) input.cores = c.cores as OptionsInput['cores'];
  if (!blank(c.accesses)) input.accesses = c.accesses as OptionsInput['accesses'];
  // Demand-only has no background push, and network none has no source at all: the guest's access
  // count ends the run (then the rest is swept), so the demo gives each vCPU one pass over its
  // share of the pages.
  else if (traitsOfName(c.strategy)?.pushWhileGuestRuns === false || c.network === 'none') {
    try {
      input.accesses = Math.max(100, Math.ceil(parseSize(c.memory) / 4096 / Math.max(1, Number(c.vcpus) || 1)));
    } catch {
      /* resolveOptions names the bad memory */
    }
  }
  const asGiven = resolveOptions(input);
  const virtual = asGiven.engine === 'virtual';
  const maxVcpus = virtual ? (limits.maxVirtualVcpus ?? DEFAULT_LIMITS.maxVirtualVcpus!) : limits.maxVcpus;
  if (asGiven.memoryBytes > limits.maxMemoryBytes) throw Errors.badInput('memory', `the demo runs guests of at most ${formatBytes(limits.maxMemoryBytes)}`);
  if (asGiven.vcpus > maxVcpus) throw Errors.badInput('vcpus', `the demo runs at most ${maxVcpus} vCPUs${virtual ? ' on the virtual engine' : ''}`);
  if (virtual) {
    // Virtual time: nothing to stretch; slow motion is the playback's pace.
    const playback = { virtualUsPerRealMs: s.virtualUsPerRealMs };
    return {
      options: asGiven,
      speed: speed as Speed,
      playback,
      cuttable: overLink(asGiven),
      effective: {
        thinkUs: asGiven.thinkUs,
        latencyUs: asGiven.latencyUs,
        bandwidth: formatRate(asGiven.bandwidthBps),
        memory: formatBytes(asGiven.memoryBytes),
        watchdogS: 0,
        accesses: asGiven.accesses ?? null,
        engine: 'virtual',
        network: asGiven.network,
        virtualUsPerRealMs: playback.virtualUsPerRealMs,
        cores: asGiven.cores ?? null,
      },
    };
  }
  // Slow motion: stretch the link and let the guest think; a stretched run needs a patient watchdog
  // and a short tail (the tail is counted in accesses, each of which now takes thinkUs). The page
  // plays the run as it happens, so it runs undilated (time dilation 1): the speed control is its
  // own stretch, and in slow motion the simulator's cost is already small against the link's.
  const f = s.factor;
  const watchdogS = Math.min(600, 20 * Math.max(1, f / 10));
  const options = resolveOptions({
    ...input,
    think: s.thinkUs,
    latency: asGiven.latencyUs * f,
    bandwidth: Number.isFinite(asGiven.bandwidthBps) ? asGiven.bandwidthBps / f : 'unlimited',
    watchdog: `${watchdogS}s`,
    tailAccesses: Math.max(100, Math.round(20_000 / f)),
    timeDilation: 1,
  });
  return {
    options,
    speed: speed as Speed,
    playback: null,
    cuttable: overLink(options),
    effective: {
      thinkUs: options.thinkUs,
      latencyUs: options.latencyUs,
      bandwidth: formatRate(options.bandwidthBps),
      memory: formatBytes(options.memoryBytes),
      watchdogS,
      accesses: options.accesses ?? null,
      engine: 'threads',
      network: options.network,
      virtualUsPerRealMs: null,
      cores: null,
    },
  };
}

/** A migration over a modelled link: one there is to cut. */
function overLink(o: ResolvedOptions): boolean {
  return o.mode !== 'none' && o.network === 'link';
}

/** What the page needs to build its controls. */
export function demoChoices(limits: DemoLimits) {
  return {
    // The choices are the options' own (src/options.ts).
    modes: optionChoices('mode'),
    strategies: optionChoices('strategy'),
    workloads: optionChoices('workload').filter((w) => w !== 'trace'),
    speeds: Object.entries(SPEEDS).map(([value, s]) => ({ value, label: s.label })),
    memory: ['8MiB', '64MiB', '256MiB', '1GiB', '4GiB'].filter((m) => parseSize(m) <= limits.maxMemoryBytes),
    maxVcpus: limits.maxVcpus,
    maxVirtualVcpus: limits.maxVirtualVcpus ?? DEFAULT_LIMITS.maxVirtualVcpus,
    engines: optionChoices('engine'),
    networks: optionChoices('network'),
    resolvers: optionChoices('exitResolver'),
    presets: Object.entries(PRESETS).map(([value, p]) => ({ value, label: p.label, controls: p.controls })),
    archs: optionChoices('arch'),
    records: optionChoices('faultRecord'),
    lessons: LESSONS,
    maxMemory: formatBytes(limits.maxMemoryBytes),
    defaults: DEFAULT_CONTROLS,
  };
}

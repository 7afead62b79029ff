/**
 * The demo's controls -> the options of one run. Every control goes through resolveOptions, like a
 * CLI flag, so a bad value gets the same one-line message; then the demo's own caps apply (guest
 * size, vCPUs), then slow motion stretches the run's clocks for a class to follow single faults.
 */
import { Errors } from '../errors.js';
import { MODES, resolveOptions, WORKLOADS, type OptionsInput, type ResolvedOptions } from '../options.js';
import { STRATEGY_NAMES } from '../strategies/index.js';
import { formatBytes, formatRate, parseSize } from '../units.js';

/**
 * Slow motion by a factor f: the guest thinks between accesses, the link's latency is f times
 * longer and its bandwidth f times lower, so everything the guest and the link do is stretched alike.
 */
export const SPEEDS = {
  realtime: { factor: 1, thinkUs: 0, label: 'real time' },
  x10: { factor: 10, thinkUs: 100, label: 'slow motion ×10 (100 µs per access)' },
  x100: { factor: 100, thinkUs: 1000, label: 'slow motion ×100 (1 ms per access)' },
  x1000: { factor: 1000, thinkUs: 10_000, label: 'single faults ×1000 (10 ms per access)' },
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
}

export const CONTROL_NAMES = ['mode', 'strategy', 'vcpus', 'workload', 'memory', 'bandwidth', 'latency', 'speed', 'seed'] as const;

export const DEFAULT_CONTROLS: Required<DemoControls> = {
  mode: 'exit', strategy: 'linear', vcpus: 2, workload: 'zipf', memory: '64MiB', bandwidth: '1Gbit', latency: '50us', speed: 'x10', seed: 1,
};

export interface DemoLimits { maxMemoryBytes: number; maxVcpus: number }
export const DEFAULT_LIMITS: DemoLimits = { maxMemoryBytes: 4 * 2 ** 30, maxVcpus: 16 };

export interface DemoRunPlan {
  options: ResolvedOptions;
  speed: Speed;
  /** What the page shows next to the controls: the values the run really uses. */
  effective: { thinkUs: number; latencyUs: number; bandwidth: string; memory: string; watchdogS: number; accesses: number | null };
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
  const input: OptionsInput = {
    mode: c.mode as OptionsInput['mode'], strategy: c.strategy as OptionsInput['strategy'], vcpus: c.vcpus,
    workload: c.workload as OptionsInput['workload'], memory: c.memory, bandwidth: c.bandwidth, latency: c.latency, seed: c.seed,
  };
  // Demand-only has no background push: the guest's access count ends the run (then the source
  // sweeps the rest), so the demo gives each vCPU one pass over its share of the pages.
  if (c.strategy === 'demand') {
    try { input.accesses = Math.max(100, Math.ceil(parseSize(c.memory) / 4096 / Math.max(1, Number(c.vcpus) || 1))); } catch { /* resolveOptions names the bad memory */ }
  }
  const asGiven = resolveOptions(input);
  if (asGiven.memoryBytes > limits.maxMemoryBytes) throw Errors.badInput('memory', `the demo runs guests of at most ${formatBytes(limits.maxMemoryBytes)}`);
  if (asGiven.vcpus > limits.maxVcpus) throw Errors.badInput('vcpus', `the demo runs at most ${limits.maxVcpus} vCPUs`);
  // Slow motion: stretch the link and let the guest think; a stretched run needs a patient watchdog
  // and a short tail (the tail is counted in accesses, each of which now takes thinkUs).
  const f = s.factor;
  const watchdogS = Math.min(600, 20 * Math.max(1, f / 10));
  const options = resolveOptions({
    ...input,
    think: s.thinkUs,
    latency: asGiven.latencyUs * f,
    bandwidth: Number.isFinite(asGiven.bandwidthBps) ? asGiven.bandwidthBps / f : 'unlimited',
    watchdog: `${watchdogS}s`,
    tailAccesses: Math.max(100, Math.round(20_000 / f)),
  });
  return {
    options, speed: speed as Speed,
    effective: {
      thinkUs: options.thinkUs, latencyUs: options.latencyUs, bandwidth: formatRate(options.bandwidthBps), memory: formatBytes(options.memoryBytes), watchdogS,
      accesses: options.accesses ?? null,
    },
  };
}

/** What the page needs to build its controls. */
export function demoChoices(limits: DemoLimits) {
  return {
    modes: [...MODES],
    strategies: [...STRATEGY_NAMES],
    workloads: WORKLOADS.filter((w) => w !== 'trace'),
    speeds: Object.entries(SPEEDS).map(([value, s]) => ({ value, label: s.label })),
    memory: ['8MiB', '64MiB', '256MiB', '1GiB', '4GiB'].filter((m) => parseSize(m) <= limits.maxMemoryBytes),
    maxVcpus: limits.maxVcpus,
    maxMemory: formatBytes(limits.maxMemoryBytes),
    defaults: DEFAULT_CONTROLS,
  };
}

/**
 * The demo's control names: the form fields a lesson, a preset and the server's parameter parser all
 * refer to, each with the run option it sets (src/options.ts; null for the demo's own, the playback
 * speed). Apart from params.ts so that lessons.ts can name controls without importing the parser
 * that lists the lessons.
 */
import type { OptionsInput } from '../options.js';

export const CONTROL_OPTIONS = {
  mode: 'mode',
  strategy: 'strategy',
  vcpus: 'vcpus',
  workload: 'workload',
  memory: 'memory',
  bandwidth: 'bandwidth',
  latency: 'latency',
  speed: null,
  seed: 'seed',
  engine: 'engine',
  network: 'network',
  accesses: 'accesses',
  resolver: 'exitResolver',
  cores: 'cores',
  partition: 'partition',
  arch: 'arch',
  record: 'faultRecord',
  pageTables: 'pageTables',
  execRatio: 'execRatio',
  mteFraction: 'mteFraction',
  confidential: 'confidential',
  convertRatio: 'convertRatio',
  inject: 'inject',
} as const satisfies Record<string, keyof OptionsInput | null>;
export type ControlName = keyof typeof CONTROL_OPTIONS;
export const CONTROL_NAMES = Object.keys(CONTROL_OPTIONS) as ControlName[];

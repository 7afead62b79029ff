/**
 * The demo's control names: the form fields a lesson, a preset and the server's parameter parser all
 * refer to. Apart from params.ts so that lessons.ts can name controls without importing the parser
 * that lists the lessons.
 */
export const CONTROL_NAMES = ['mode', 'strategy', 'vcpus', 'workload', 'memory', 'bandwidth', 'latency', 'speed', 'seed',
  'engine', 'network', 'accesses', 'resolver', 'cores', 'partition', 'arch', 'record', 'pageTables', 'execRatio', 'mteFraction', 'confidential',
  'convertRatio', 'inject'] as const;
export type ControlName = (typeof CONTROL_NAMES)[number];

/**
 * postcopy-sim's library API: `simulate(options)` runs one migration in the engine the options name
 * (real threads by default, `engine: 'virtual'` for virtual time) and resolves with its RunResult;
 * `compare` runs one workload under several strategies. The CLI's run, start and compare are built
 * on these two.
 */
export { simulate, type Progress, type SimulateHooks } from './simulate.js';
export { resolveOptions, OptionsSchema, type OptionsInput, type ResolvedOptions } from './options.js';
export type { RunResult, TimelineSample } from './model/result.js';
export { SimError } from './errors.js';
export * as uapi from './model/uapi.js';
export { simulateVirtual } from './virtual/engine.js';
export type { CostModel, CostProfile } from './virtual/costs.js';
export { compare } from './compare.js';

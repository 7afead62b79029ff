// Hand-made cost models for the virtual engine's tests: every cost a round number, so that a test
// can say exactly what a fault was charged; and the smallest scenario such a test reads. Shared by
// the virtual engine's test files (a test file imported by another would run its cases twice).
import type { OptionsInput } from '../../src/index.js';
import type { CostModel } from '../../src/virtual/costs.js';

/** Nothing costs anything: only the modelled link and the guest's think time take time. */
export const ZERO: CostModel = {
  cores: 4,
  faultUs: 0,
  missingWriteUs: 0,
  exitUs: 0,
  reentryUs: 0,
  postUs: 0,
  receiveUs: 0,
  syscallUs: 0,
  pollUs: 0,
  readUs: 0,
  wqOpUs: 0,
  lineUs: 0,
  walkPerWaiterUs: 0,
  walkWarmUs: 0,
  lineGrowth: 0,
  ttwuUs: 0,
  ttwuNextUs: 0,
  wakeupUs: 0,
  copyUs: 0,
  copyPerCopierUs: 0,
  continueUs: 0,
  continuePerCopierUs: 0,
  zeropageUs: 0,
  uffdWakeUs: 0,
  memcpyUs: 0,
  mmapLocksPerUffdFault: 3,
  mmapLockLines: 2,
  mmuLockLines: 2,
  accessUs: 0,
  spin: false,
};

/** Every step of a fault has a distinct, small cost, on 2 cores. */
export const COSTS: CostModel = {
  ...ZERO,
  cores: 2,
  faultUs: 3,
  exitUs: 2,
  reentryUs: 1,
  postUs: 4,
  receiveUs: 1,
  syscallUs: 0.5,
  pollUs: 0.25,
  readUs: 2,
  wqOpUs: 0.1,
  lineUs: 0.05,
  walkPerWaiterUs: 0.1,
  ttwuUs: 1,
  ttwuNextUs: 0.5,
  wakeupUs: 8,
  copyUs: 6,
  copyPerCopierUs: 0.5,
  continueUs: 4,
  zeropageUs: 1,
  uffdWakeUs: 0.5,
  memcpyUs: 0.5,
  accessUs: 0.05,
  spin: true,
};

/** n vCPUs, one page each, one access each, no network, no zero pages. */
export const onePagePerVcpu = (n: number): OptionsInput => ({
  vcpus: n,
  memory: n * 4096,
  workload: 'sequential',
  partition: true,
  accesses: 1,
  network: 'none',
  writeRatio: 0,
  zeroFraction: 0,
});

/**
 * The published bench's sensitivity run: each cost of the large-host profile halved and doubled,
 * one at a time, and where the one-uffd series then peaks and how far it falls by 256 vCPUs. It
 * shows which mechanism moves the shape, and what a target missed would need.
 */
import type { CostModel } from '../../src/virtual/costs.js';
import { peakAndFall, runSeries } from './published.js';

export interface SensitivityRow { cost: string; factor: number; value: number; peakVcpus: number; fall: number }

/** The costs that vary (counts and the core count stay). */
const VARIED: Array<keyof CostModel> = [
  'faultUs', 'syscallUs', 'readUs', 'wqOpUs', 'lineUs', 'walkPerWaiterUs', 'ttwuUs', 'ttwuNextUs', 'wakeupUs', 'continueUs', 'continuePerCopierUs',
];
const QUICK: Array<keyof CostModel> = ['lineUs', 'walkPerWaiterUs', 'ttwuUs', 'wakeupUs'];

export function runSensitivity(costs: CostModel, mib: number, rows: number[], seed: number, quick: boolean): SensitivityRow[] {
  const out: SensitivityRow[] = [];
  const base = peakAndFall(runSeries(costs, mib, rows, seed));
  out.push({ cost: 'as shipped', factor: 1, value: 0, ...peakVcpusFall(base) });
  for (const k of quick ? QUICK : VARIED) {
    for (const factor of [0.5, 2]) {
      const v = (costs[k] as number) * factor;
      // a cost measured as 0 stays 0 under a factor: vary it from the line cost instead
      const value = v === 0 ? costs.lineUs * factor : v;
      out.push({ cost: k, factor, value, ...peakVcpusFall(peakAndFall(runSeries({ ...costs, [k]: value }, mib, rows, seed))) });
    }
  }
  return out;
}

function peakVcpusFall(p: { peakVcpus: number; fall: number }): { peakVcpus: number; fall: number } {
  return { peakVcpus: p.peakVcpus, fall: Math.round(p.fall * 10) / 10 };
}

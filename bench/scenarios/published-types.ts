/** The published bench's results (bench/results/published.json): what published.ts writes and published-render.ts reads. */
import type { CostModel } from '../../src/virtual/costs.js';
import type { RunBreakdown } from '../../src/virtual/line-report.js';
import type { CrossCheck } from './published-cross.js';
import type { SensitivityRow } from './published-sensitivity.js';
import type { UserfaultColumn } from './published-tables.js';

export interface VirtualCell {
  vcpus: number;
  column: string;
  pagesPerSec: number;
  perVcpuPagesPerSec: number;
  faults: number;
  wallMs: number;
  faultsPerHostSec: number;
  verified: boolean;
  breakdown: RunBreakdown;
}
export interface SeriesRow {
  vcpus: number;
  uffd: VirtualCell;
  exits: VirtualCell;
  publishedUffdK: number;
  publishedExitsK: number;
}
export interface UserfaultRow {
  vcpus: number;
  cells: Record<UserfaultColumn, VirtualCell>;
  published: Record<UserfaultColumn, number>;
}
export interface Targets {
  uffdPeakVcpus: number;
  uffdFallFromPeak: number;
  exitsRise: number;
  exitsWithin2x: boolean[];
  ratioWithin2x: boolean[];
  met: Record<string, boolean>;
}
export interface ProfileRun {
  profile: string;
  cores: number;
  costs: CostModel;
  series: SeriesRow[];
  userfault: UserfaultRow[];
  targets: Targets;
}
export interface LinkRow {
  column: string;
  p50Us: number;
  p99Us: number;
  linkUtilisation: number | null;
  migrationMs: number;
  verified: boolean;
}
export interface PublishedBody {
  mibPerVcpu: number;
  cores: number;
  profiles: ProfileRun[];
  cross: CrossCheck | null;
  link: LinkRow[];
  sensitivity: SensitivityRow[];
  speed: { exits256FaultsPerHostSec: number; default256Ms: number; default256Verified: boolean };
}

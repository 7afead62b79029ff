/**
 * What a bench run produced, scenario by scenario (each optional: a run may take a few). Apart from
 * report.ts, which renders it, so that the targets (targets.ts) can read it without importing the
 * renderer that imports them.
 */
import type { MachineFacts, ResultEnvelope, ScenarioName } from './common.js';
import type { FaultRecordsResult } from './scenarios/fault-records.js';
import type { EngineSpeedResult } from './scenarios/engine-speed.js';
import type { FloorsResult } from './scenarios/floors.js';
import type { FrontDoorResult } from './scenarios/front-door.js';
import type { KernelResult } from './scenarios/kernel.js';
import type { NetworkResult } from './scenarios/network.js';
import type { PagingRateResult } from './scenarios/paging-rate.js';
import type { PipelineResult } from './scenarios/pipeline.js';
import type { PublishedBody } from './scenarios/published-types.js';
import type { ScaleResult } from './scenarios/scale.js';
import type { SoakBody } from './scenarios/soak.js';
import type { WorkloadsResult } from './scenarios/workloads.js';

/** The wall times of one quick run of every scenario (bench/results/quick-time.json). */
export interface QuickTime {
  date: string;
  machine: MachineFacts;
  seed: number;
  rows: Array<{ scenario: ScenarioName; durationMs: number }>;
}

export interface Results {
  'paging-rate'?: PagingRateResult;
  floors?: FloorsResult;
  kernel?: KernelResult;
  pipeline?: PipelineResult;
  scale?: ScaleResult;
  network?: NetworkResult;
  /** The virtual engine against the published tables (bench/scenarios/published.ts). */
  published?: ResultEnvelope<'published', PublishedBody> & { summary?: string };
  /** Injection plans and long runs (bench/scenarios/soak.ts). */
  soak?: ResultEnvelope<'soak', SoakBody> & { summary?: string };
  /** Prepaging against linear on guests with locality (bench/scenarios/workloads.ts). */
  workloads?: WorkloadsResult;
  /** Arch-neutral against syndrome-carrying fault records (bench/scenarios/fault-records.ts). */
  'fault-records'?: FaultRecordsResult;
  /** Whole commands timed as processes (bench/scenarios/front-door.ts). */
  'front-door'?: FrontDoorResult;
  /** The virtual engine's speed at 256 vCPUs (bench/scenarios/engine-speed.ts). */
  'engine-speed'?: EngineSpeedResult;
  /** The results the docs generators write (DOCS_RESULTS, bench/common.ts): read here for their machine block only. */
  'workloads-table'?: DocsResult;
  strategies?: DocsResult;
  'sweep-throughput'?: DocsResult;
  /** The last quick run's wall times (bench/bench-time.ts), beside a default run's results. */
  'quick-time'?: QuickTime;
}

/** A docs generator's results file, as far as the bench reads it: where it was measured (absent in a file older than the block). */
export interface DocsResult {
  machine?: Pick<MachineFacts, 'commit' | 'dirty'>;
}

/**
 * floors: how close each fault path comes to the limit of this runtime.
 *
 * What it measures: measureFloors() (bench/floors.ts) prices the cheapest round trip between two
 * real worker threads for each way of waiting (Atomics.wait/notify asleep, Atomics spin-then-wait,
 * MessagePort asleep in the event loop, MessagePort polled with a doorbell) and the copy of one
 * page into a SharedArrayBuffer. Against them it puts the simulator's own per-fault time at one
 * vCPU, 1e6 / overall paging rate, from the paging-rate grid of the same run (or, run alone, from
 * a one-vCPU paging-rate run of its own).
 *
 * How it maps to the kernel experiment: a floor round trip is what a fault costs when handling it
 * is free (the selftest with a zero-cost handler); the page copy is the UFFDIO_COPY. Each mode is
 * compared with the fastest floor it could be built on, plus one 4 KiB copy:
 *   exit          -> messagePortPolled (the fault record travels by postMessage + doorbell);
 *   uffd-*        -> atomicsSpin       (the uffd_msg queue and the wake are Atomics words).
 * A ratio of 1 means the simulator adds nothing to the runtime's own cost of a fault.
 */
import { measureFloors, type FloorMode, type Floors } from '../floors.js';
import { envelope, resolveBenchOptions, writeResult, type BenchOptions, type ResultEnvelope } from '../common.js';
import { findCell, measurePagingRate, pagingDefaults, type PagingColumn, type PagingRateBody } from './paging-rate.js';

export interface FloorsOptions extends BenchOptions {
  /** Measured time per floor. @default 300; quick 150 */
  durationMs?: number;
  /** The paging-rate grid of the same run; without it a one-vCPU grid is measured here. */
  pagingRate?: PagingRateBody;
  /** Slice per vCPU of that own one-vCPU run. @default as paging-rate */
  mibPerVcpu?: number;
}

/** The floor each fault path is built on. */
export const FLOOR_OF: Record<Exclude<PagingColumn, 'none'>, FloorMode> = {
  exit: 'messagePortPolled',
  // No hop to another thread: its floor is the page copy alone (the round trip used is the
  // cheapest, spinning Atomics, so the ratio stays conservative).
  'exit-self': 'atomicsSpin',
  'uffd-1': 'atomicsSpin',
  'uffd-n': 'atomicsSpin',
  'uffd-pervcpu': 'atomicsSpin',
};

export interface FloorRatio {
  column: Exclude<PagingColumn, 'none'>;
  /** 1e6 / overall paging rate at one vCPU. */
  simPerFaultUs: number;
  simP50Us: number;
  floor: FloorMode;
  /** 1e6 / the floor's round trips per second. */
  floorRoundTripUs: number;
  floorP50Us: number;
  /** One 4 KiB page copy into a SharedArrayBuffer. */
  pageCopyUs: number;
  /** floorRoundTripUs + pageCopyUs: the least one fault can cost on this runtime. */
  floorPerFaultUs: number;
  /** simPerFaultUs / floorPerFaultUs. */
  ratio: number;
}

export interface FloorsBody {
  floors: Floors;
  /** Where the simulator's one-vCPU numbers came from. */
  simSource: 'paging-rate of this run' | 'own one-vCPU run';
  mibPerVcpu: number;
  ratios: FloorRatio[];
}

export type FloorsResult = ResultEnvelope<'floors', FloorsBody>;

export async function runFloors(opts: FloorsOptions = {}): Promise<FloorsResult> {
  const o = resolveBenchOptions(opts);
  const t0 = performance.now();
  o.log('floors: measuring round trips between two workers and the page copy');
  const floors = await measureFloors({ durationMs: opts.durationMs ?? (o.quick ? 150 : 300) });
  for (const m of ['atomicsBlocking', 'atomicsSpin', 'messagePort', 'messagePortPolled'] as const) {
    o.log(`floors ${m}: p50 ${floors[m].p50Us.toFixed(2)} us, ${Math.round(floors[m].roundTripsPerSec)} round trips/s`);
  }
  const columns = Object.keys(FLOOR_OF) as Array<keyof typeof FLOOR_OF>;
  let grid = opts.pagingRate;
  let simSource: FloorsBody['simSource'] = 'paging-rate of this run';
  if (!grid || columns.some((c) => !findCell(grid, 1, c))) {
    simSource = 'own one-vCPU run';
    grid = await measurePagingRate(o, [1], opts.mibPerVcpu ?? pagingDefaults(o).mibPerVcpu, columns);
  }
  const pageCopyUs = floors.pageCopy.page4kNs / 1000;
  const ratios: FloorRatio[] = [];
  for (const column of columns) {
    const cell = findCell(grid, 1, column);
    if (!cell || cell.pagesPerSec <= 0) continue;
    const floor = FLOOR_OF[column];
    const floorRoundTripUs = 1e6 / floors[floor].roundTripsPerSec;
    const simPerFaultUs = 1e6 / cell.pagesPerSec;
    ratios.push({
      column,
      simPerFaultUs,
      simP50Us: cell.faultLatencyUs.p50,
      floor,
      floorRoundTripUs,
      floorP50Us: floors[floor].p50Us,
      pageCopyUs,
      floorPerFaultUs: floorRoundTripUs + pageCopyUs,
      ratio: simPerFaultUs / (floorRoundTripUs + pageCopyUs),
    });
  }
  const notes = [
    'ratio = simulator time per fault at 1 vCPU (1e6 / overall paging rate) / (floor round trip + one 4 KiB copy)',
    'floor used: exit -> messagePortPolled, uffd-* -> atomicsSpin',
  ];
  if (floors.cpus < 2) notes.push('one CPU: every round trip is a context switch, the floors are those of a single core');
  const result = envelope('floors', o, t0, notes, { floors, simSource, mibPerVcpu: grid.mibPerVcpu, ratios });
  writeResult(o.outDir, result);
  return result;
}

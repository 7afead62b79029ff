/**
 * The memory map of a run (the report's and the demo's grid): guest memory in at most MAP_CELLS
 * cells, each with the mean arrival time of its pages and the fractions that came by demand and as
 * zero pages. Both engines record every install here.
 */
import type { PageMap } from './result.js';

export const MAP_CELLS = 4096;
/** How a page arrived, as bits (ARRIVED_*). */
export const ARRIVED_PUSHED = 1;
export const ARRIVED_DEMAND = 2;
export const ARRIVED_ZERO = 4;

export function mapGeometry(pages: number): { cells: number; pagesPerCell: number } {
  const pagesPerCell = Math.max(1, Math.ceil(pages / MAP_CELLS));
  return { cells: Math.ceil(pages / pagesPerCell), pagesPerCell };
}

export class PageMapBuilder {
  readonly cells: number;
  readonly pagesPerCell: number;
  readonly sumMs: Float64Array;
  readonly present: Int32Array;
  readonly demand: Float64Array;
  readonly zero: Float64Array;
  constructor(readonly pages: number) {
    ({ cells: this.cells, pagesPerCell: this.pagesPerCell } = mapGeometry(pages));
    this.sumMs = new Float64Array(this.cells);
    this.present = new Int32Array(this.cells);
    this.demand = new Float64Array(this.cells);
    this.zero = new Float64Array(this.cells);
  }

  cellOf(page: number): number {
    return Math.floor(page / this.pagesPerCell);
  }

  /** Page `page` arrived at `ms` (0: present from the start), `how` in ARRIVED_* bits. Returns its cell. */
  record(page: number, ms: number, how: number): number {
    const c = this.cellOf(page);
    this.sumMs[c] += ms;
    this.present[c]++;
    if (how & ARRIVED_DEMAND) this.demand[c]++;
    if (how & ARRIVED_ZERO) this.zero[c]++;
    return c;
  }

  /** Page `page`'s copy was dropped (hybrid's discard): it no longer counts as present. */
  forget(page: number, ms: number, how: number): void {
    const c = this.cellOf(page);
    this.sumMs[c] -= ms;
    this.present[c]--;
    if (how & ARRIVED_DEMAND) this.demand[c]--;
    if (how & ARRIVED_ZERO) this.zero[c]--;
  }

  /** mode 'none': every page is there from the start. */
  recordAllPresent(): void {
    for (let c = 0; c < this.cells; c++) this.present[c] = this.cellPages(c);
  }

  /** Pages in cell `c` (the last one may be short). */
  cellPages(c: number): number {
    return Math.min(this.pagesPerCell, this.pages - c * this.pagesPerCell);
  }

  /** The live view of one cell: [cell, fraction present, fraction demanded, fraction zero] of what is present. */
  cellView(c: number): [number, number, number, number] {
    const n = this.cellPages(c),
      p = this.present[c]!,
      r2 = (x: number) => Math.round(x * 100) / 100;
    return [c, r2(p / n), p ? r2(this.demand[c]! / p) : 0, p ? r2(this.zero[c]! / p) : 0];
  }

  build(): PageMap {
    const arrivalMs: number[] = [],
      demand: number[] = [],
      zero: number[] = [];
    for (let c = 0; c < this.cells; c++) {
      const n = this.cellPages(c);
      arrivalMs.push(Math.round((this.sumMs[c]! / n) * 10) / 10);
      demand.push(Math.round((this.demand[c]! / n) * 100) / 100);
      zero.push(Math.round((this.zero[c]! / n) * 100) / 100);
    }
    return { cells: this.cells, pagesPerCell: this.pagesPerCell, arrivalMs, demand, zero };
  }
}

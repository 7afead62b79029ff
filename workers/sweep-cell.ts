/**
 * Piscina task entry for the sweep pool: one virtual-engine cell per task, on its own thread. Thin:
 * the work lives in src/sweep/cell.ts.
 */
import { runCell, type CellTask } from '../src/sweep/cell.js';

export default function task(t: CellTask) {
  return runCell(t);
}

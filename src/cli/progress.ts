/**
 * The run/start/compare progress bar on a terminal (stderr), nothing when piped. A dilated run first
 * says its D and the wall time it will take (the run is D times slower than the model). Every bar is
 * registered so that one call stops them all (its timer cleared, the cursor shown again): after a
 * run, when a run throws, and on Ctrl-C. A bar left running keeps the process alive and the cursor hidden.
 */
import { SingleBar } from 'cli-progress';
import type { SimulateHooks } from '../simulate.js';
import { formatPlanLine } from './format.js';

const live = new Set<SingleBar>();

export interface Progress {
  hooks: SimulateHooks;
  stop: () => void;
}

/**
 * A bar that reads the engine's event stream. Runs going at once (src/side-by-side.ts) pass
 * `bar: false`: one bar per run would overwrite each other's line, so each says only its plan line.
 * `isTTY` and `stream` are for tests.
 */
export function progressHooks(enabled: boolean, label: string, stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr, bar = true): Progress {
  if (!enabled || !stream.isTTY) return { hooks: {}, stop: () => {} };
  if (!bar) {
    return {
      hooks: {
        onPlan: (d) => {
          const line = formatPlanLine(d, label);
          if (line) stream.write(`${line}\n`);
        },
      },
      stop: () => {},
    };
  }
  const progress = new SingleBar({
    format: `${label} [{bar}] {percentage}% | {value}/{total} pages | {faults} faults`,
    stream,
    hideCursor: true,
  });
  let started = false;
  const stop = () => {
    if (!started) return;
    started = false;
    live.delete(progress);
    progress.stop();
  };
  return {
    hooks: {
      onPlan: (d) => {
        const line = formatPlanLine(d, label);
        if (line) stream.write(`${line}\n`);
      },
      onEvent: (e) => {
        if (e.type === 'start' && !started) {
          progress.start(e.pages, 0, { faults: 0 });
          started = true;
          live.add(progress);
        }
        if (e.type === 'tick' && started) progress.update(e.presentPages, { faults: e.faults });
      },
    },
    stop,
  };
}

/** How many bars are running (for tests). */
export function liveBars(): number {
  return live.size;
}

/** Stops every running bar; `showCursor` also shows the cursor again on a terminal (Ctrl-C). */
export function stopAllBars(showCursor = false, stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr): void {
  for (const bar of [...live]) {
    live.delete(bar);
    bar.stop();
  }
  if (showCursor && stream.isTTY) stream.write('\x1b[?25h');
}

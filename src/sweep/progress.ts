/**
 * Sweep progress on stderr. On a terminal: one cli-progress bar (cells done, failed, ETA). Piped
 * (a log file, a Slurm task's output): one line per finished cell instead, since cli-progress
 * prints nothing without a TTY. `stop()` is idempotent and the runner calls it on every path, so
 * the cursor always comes back.
 */
import { SingleBar } from 'cli-progress';

export interface SweepProgress {
  cellDone(what: string, ok: boolean, wallMs: number): void;
  stop(): void;
}

export function sweepProgress(total: number, tty: boolean, write: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): SweepProgress {
  let done = 0,
    failed = 0;
  if (!tty || total === 0) {
    const width = String(total).length;
    return {
      cellDone(what, ok, wallMs) {
        done++;
        if (!ok) failed++;
        write(`sweep: ${String(done).padStart(width)}/${total} ${ok ? 'ok    ' : 'FAILED'} ${(wallMs / 1000).toFixed(2)} s  ${what}`);
      },
      stop() {},
    };
  }
  const bar = new SingleBar({
    format: 'sweep [{bar}] {value}/{total} cells | {failed} failed | ETA {eta_formatted}',
    stream: process.stderr,
    hideCursor: true,
    etaBuffer: 20,
  });
  bar.start(total, 0, { failed: 0 });
  let stopped = false;
  return {
    cellDone(_what, ok) {
      done++;
      if (!ok) failed++;
      if (!stopped) bar.update(done, { failed });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}

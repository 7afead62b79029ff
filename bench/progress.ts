/**
 * The bench runner's progress: how far it is, how long it has run, and how long the rest should take.
 *
 * The ETA comes from measurements, not guesses: each scenario's expected time is its `durationMs` in
 * the previous result of the same kind (quick or not) in the output directory, scaled by how much
 * faster or slower this run has been so far on the scenarios it has finished (the machine's load
 * moves every wall time); a scenario with no previous result counts as the mean of those finished.
 * Before anything has finished and with no previous results, the ETA is unknown and says so.
 *
 * On a terminal: one cli-progress bar, with the runner's log lines printed above it. Piped (a log
 * file, CI): one line per finished scenario, since a bar prints nothing without a TTY.
 */
import { MultiBar, type SingleBar } from 'cli-progress';

/** Expected wall time of the remaining scenarios, or null when nothing to go on. */
export function remainingMs(expected: Array<number | null>, finishedMs: number[], currentElapsedMs = 0): number | null {
  const done = finishedMs.length;
  const rest = expected.slice(done);
  if (rest.length === 0) return 0;
  // How this run compares with the previous one, over the scenarios both have a time for.
  let was = 0,
    now = 0;
  for (let i = 0; i < done; i++) {
    const e = expected[i];
    if (e !== null && e !== undefined && e > 0) {
      was += e;
      now += finishedMs[i]!;
    }
  }
  const pace = was > 0 ? now / was : 1;
  const meanFinished = done > 0 ? finishedMs.reduce((a, b) => a + b, 0) / done : null;
  let total = 0;
  for (const e of rest) {
    if (e !== null && e !== undefined) total += e * pace;
    else if (meanFinished !== null) total += meanFinished;
    else return null;
  }
  // The scenario under way has already used part of its share (never below zero: it may overrun).
  return Math.max(0, total - currentElapsedMs);
}

/** 4_200 -> "4.2 s", 80_000 -> "1 min 20 s", 3_720_000 -> "1 h 2 min"; null -> "unknown". */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return 'unknown';
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const whole = Math.round(s);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  return `${Math.floor(whole / 3600)} h ${Math.floor((whole % 3600) / 60)} min`;
}

/** The line printed (piped) when a scenario finishes. */
export function scenarioLine(done: number, total: number, name: string, tookMs: number, elapsedMs: number, etaMs: number | null, failed = false): string {
  return `${done}/${total} ${name} ${failed ? 'FAILED after' : 'done in'} ${formatDuration(tookMs)} | elapsed ${formatDuration(elapsedMs)} | ETA ${formatDuration(etaMs)}`;
}

export interface BenchProgress {
  /** A log line (above the bar on a terminal). */
  log(line: string): void;
  scenarioStart(name: string): void;
  scenarioDone(name: string, failed: boolean): void;
  stop(): void;
}

export interface BenchProgressOptions {
  names: readonly string[];
  /** Expected ms per scenario (same order), null where there is no previous result. */
  expectedMs: Array<number | null>;
  tty: boolean;
  /** Where lines go when piped (each already carries its prefix). */
  write: (line: string) => void;
  now?: () => number;
}

export function benchProgress(o: BenchProgressOptions): BenchProgress {
  const now = o.now ?? (() => performance.now());
  const t0 = now();
  const finished: number[] = [];
  let startedAt = t0,
    current = '';
  const eta = () => remainingMs(o.expectedMs, finished, now() - startedAt);
  if (!o.tty) {
    return {
      log: o.write,
      scenarioStart(name) {
        current = name;
        startedAt = now();
      },
      scenarioDone(name, failed) {
        finished.push(now() - startedAt);
        o.write(
          `[bench] ${scenarioLine(finished.length, o.names.length, name, finished[finished.length - 1]!, now() - t0, remainingMs(o.expectedMs, finished), failed)}`,
        );
      },
      stop() {},
    };
  }
  // cli-progress computes its own {eta} and {duration} from the bar's value (scenarios done, which
  // take very different times): the payload carries ours under other names.
  const multi = new MultiBar({
    format: 'bench [{bar}] {value}/{total} | {scenario} | elapsed {spent} | ETA {remaining}',
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: false,
    barsize: 20,
  });
  const bar: SingleBar = multi.create(o.names.length, 0, { scenario: '', spent: formatDuration(0), remaining: formatDuration(eta()) });
  // The elapsed time and the ETA move during a scenario too; the timer does not keep the process alive.
  const tick = setInterval(() => bar.update({ scenario: current, spent: formatDuration(now() - t0), remaining: formatDuration(eta()) }), 1000);
  tick.unref();
  let stopped = false;
  return {
    log(line) {
      if (!stopped) multi.log(`${line}\n`);
      else o.write(line);
    },
    scenarioStart(name) {
      current = name;
      startedAt = now();
      bar.update({ scenario: name, remaining: formatDuration(eta()) });
    },
    scenarioDone(name, failed) {
      finished.push(now() - startedAt);
      const line = scenarioLine(finished.length, o.names.length, name, finished[finished.length - 1]!, now() - t0, remainingMs(o.expectedMs, finished), failed);
      multi.log(`[bench] ${line}\n`);
      bar.update(finished.length, { spent: formatDuration(now() - t0), remaining: formatDuration(remainingMs(o.expectedMs, finished)) });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(tick);
      multi.update(); // prints the log lines still buffered (stop() alone drops them)
      multi.stop();
    },
  };
}

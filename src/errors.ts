/**
 * Two kinds of failure (docs/style.md): operating errors that a user causes or a run meets are
 * `SimError`s with a stable `code` and a one-line message; broken invariants are plain assertion
 * errors that crash loudly. The CLI prints a SimError as one line and exits with its exit code.
 */

export type SimErrorCode =
  | 'BAD_INPUT' // a flag, scenario field or trace line is wrong (exit code 2)
  | 'NO_MEMSLOT' // a guest access hit a gpa outside every memslot
  | 'PAGE_NEVER_ARRIVED' // the watchdog saw a vCPU wait too long on one page
  | 'WORKER_DIED' // a vCPU, fetcher, handler or source thread failed
  | 'GUEST_LOST' // the destination's page fetcher died mid-postcopy: pages exist only on the source
  | 'GUEST_HUNG' // the uffd handlers died and were not restarted: faulting vCPUs wait forever
  | 'VERIFY_FAILED' // (not thrown: reported in the result) kept here so codes live in one table
  | 'ABORTED'; // stopped by its caller (AbortSignal)

/** A command stopped by a signal exits as a shell reports it, 128 + the signal's number: 130 for Ctrl-C (SIGINT), 143 for SIGTERM. */
export function signalExitCode(signal: string): number {
  return signal === 'SIGTERM' ? 143 : 130;
}

export class SimError extends Error {
  readonly code: SimErrorCode;
  readonly exitCode: number;
  constructor(code: SimErrorCode, message: string) {
    super(message);
    this.name = 'SimError';
    this.code = code;
    this.exitCode = code === 'BAD_INPUT' ? 2 : 1;
  }
}

export const Errors = {
  badInput: (field: string, why: string) => new SimError('BAD_INPUT', field ? `${field}: ${why}` : why),
  noMemslot: (vcpu: number, gpa: number) =>
    new SimError(
      'NO_MEMSLOT',
      `vCPU ${vcpu} accessed gpa 0x${gpa.toString(16)}, which is outside every memslot (KVM would exit to userspace with no memslot to fault in)`,
    ),
  pageNeverArrived: (vcpu: number, gpa: number, waitedMs: number) =>
    new SimError('PAGE_NEVER_ARRIVED', `vCPU ${vcpu} waited ${waitedMs.toFixed(0)} ms on the page at gpa 0x${gpa.toString(16)}, which never arrived`),
  workerDied: (who: string, why: string) => new SimError('WORKER_DIED', `${who} died: ${why}`),
  /** The user stopped the command (Ctrl-C or SIGTERM reached a child it waited on): nothing may be written. */
  interrupted: (signal: string) => new SimError('ABORTED', `interrupted by ${signal}`),
};

/** Whether a child process died of the signal that stops this command (it went to the whole process group). */
export const isStopSignal = (signal: string | null): signal is 'SIGINT' | 'SIGTERM' => signal === 'SIGINT' || signal === 'SIGTERM';

/** The most characters of the user's input an error message echoes. */
export const ECHO_CHARS = 200;

/** Input as an error message echoes it: at most ECHO_CHARS characters, with what was left out. */
export function clip(input: string): string {
  return input.length <= ECHO_CHARS ? input : `${input.slice(0, ECHO_CHARS)}... (${input.length} characters)`;
}

export function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

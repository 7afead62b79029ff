/**
 * The threaded engine's service threads (source host, page fetcher, uffd handlers): plain Workers,
 * each posting its statistics once when it exits. A thread that dies, errs or exits without
 * reporting fails the run with a diagnosis naming it.
 */
import { Worker, type MessagePort } from 'node:worker_threads';
import { Errors, SimError } from '../errors.js';
import { workerUrl } from './paths.js';
import type { ServiceReport, ServiceStart } from './protocol.js';

/**
 * The young generation of every worker's heap, capped: the hot paths allocate (almost) nothing, and
 * V8's default lets each isolate grow a young generation of tens of MiB before it collects, which
 * added ~20 MiB of RSS over a run's six threads (measured at 1 GiB: guest + 169 MiB by default, + 159 with 4 MiB, + 148 with 2 MiB; a 16 GiB guest's budget is guest + 200 MiB).
 */
export const WORKER_HEAP = { maxYoungGenerationSizeMb: 2 };

/** How long the services get to report on their own before they are terminated. */
const REPORT_GRACE_MS = 2000;

export class ServiceThreads {
  private readonly threads: Array<{ name: string; worker: Worker; report: Promise<ServiceReport> }> = [];
  constructor(private readonly fail: (e: SimError) => void) {}

  get count(): number {
    return this.threads.length;
  }

  start(name: string, start: ServiceStart, transfer: MessagePort[]): void {
    const worker = new Worker(workerUrl('service'), { workerData: start, transferList: transfer as never[], resourceLimits: WORKER_HEAP });
    const report = new Promise<ServiceReport>((resolve) => {
      let got: ServiceReport | null = null;
      worker.on('message', (r: ServiceReport) => {
        got = r;
        if (r.role === 'error') {
          const line = r.message.split('\n')[0]!;
          this.fail(line.startsWith('GUEST_LOST: ') ? new SimError('GUEST_LOST', line.slice(12)) : Errors.workerDied(r.who, line));
        }
      });
      worker.on('error', (e) => this.fail(Errors.workerDied(name, e.message)));
      worker.on('exit', (code) => {
        if (!got) this.fail(Errors.workerDied(name, `exited with code ${code} before reporting`));
        resolve(got ?? { role: 'error', who: name, message: `exit ${code}` });
      });
    });
    this.threads.push({ name, worker, report });
  }

  reports(): Promise<ServiceReport[]> {
    return Promise.all(this.threads.map((s) => s.report));
  }

  async terminate(): Promise<void> {
    await Promise.race([Promise.allSettled(this.threads.map((s) => s.report)), new Promise((r) => setTimeout(r, REPORT_GRACE_MS).unref())]);
    await Promise.all(this.threads.map((s) => s.worker.terminate()));
  }
}

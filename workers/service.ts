/**
 * Thread entry for the service threads: the page fetcher, the source host, a uffd handler. Runs the
 * role's loop from src/ and posts its final statistics (or its failure, as data) to the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CTL_SERVICES_READY, CTL_WORDS } from '../src/threads/layout.js';
import { runFetcher } from '../src/threads/fetcher.js';
import type { ServiceReport, ServiceStart } from '../src/threads/protocol.js';
import { runSource } from '../src/threads/source.js';
import { runUffdHandler } from '../src/threads/uffd-handler.js';
import { runPreempt } from '../src/threads/preempt.js';
import { prepareService } from '../src/threads/warm-up.js';

const start = workerData as ServiceStart;
let report: ServiceReport;
// Loaded (imports are evaluated before this line) and prepared (its rings mapped, the pipeline's
// code warm): the engine fires the start gun only once every service thread got here.
prepareService(start);
Atomics.add(new Int32Array(start.shared.ctlSab, 0, CTL_WORDS), CTL_SERVICES_READY, 1);
try {
  report =
    start.role === 'fetcher'
      ? runFetcher(start)
      : start.role === 'source'
        ? runSource(start)
        : start.role === 'preempt'
          ? runPreempt(start)
          : runUffdHandler(start);
} catch (e) {
  const who =
    start.role === 'handler'
      ? `uffd handler ${start.handler}`
      : start.role === 'source'
        ? 'source host'
        : start.role === 'preempt'
          ? 'preempt thread'
          : 'page fetcher';
  report = { role: 'error', who, message: e instanceof Error ? e.message : String(e) };
}
parentPort!.postMessage(report);

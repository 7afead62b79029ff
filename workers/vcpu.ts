/**
 * Piscina task entry for the vCPU pool: one long-running task per vCPU, and (after the run) the
 * verification of a range of pages on the same threads. Thin: the work lives in src/.
 */
import type { VcpuTask, VerifyTask } from '../src/threads/protocol.js';
import { runVcpu } from '../src/threads/vcpu.js';
import { verifyPages } from '../src/threads/verify.js';

export default function task(t: VcpuTask | VerifyTask) {
  if (t.kind === 'vcpu') return runVcpu(t);
  return verifyPages(t.shared, t.firstPage, t.endPage);
}

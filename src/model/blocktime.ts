/**
 * QEMU's postcopy blocktime, as pure transitions both engines apply:
 *  - per-vCPU blocktime (postcopy-vcpu-blocktime): each vCPU adds its own blocked time;
 *  - whole-VM blocktime (postcopy-blocktime): time during which ALL running vCPUs were blocked at
 *    once, tracked with the count of blocked vCPUs and the moment it reached the count of running ones.
 * The threaded engine keeps the ledger in shared memory under a tiny lock (src/threads/blocktime.ts);
 * the virtual engine in a plain object.
 */
export interface BlockLedger {
  /** vCPUs blocked on a fault right now */
  blocked: number;
  /** vCPUs still running their workload */
  active: number;
  /** when `blocked` last reached `active` */
  sinceUs: number;
  /** whole-VM blocktime so far */
  totalUs: number;
}

export function newBlockLedger(vcpus: number): BlockLedger {
  return { blocked: 0, active: vcpus, sinceUs: 0, totalUs: 0 };
}

export function blockBegin(b: BlockLedger, nowUs: number): void {
  b.blocked++;
  if (b.blocked === b.active) b.sinceUs = nowUs;
}

export function blockEnd(b: BlockLedger, nowUs: number): void {
  if (b.blocked === b.active) b.totalUs += nowUs - b.sinceUs;
  b.blocked--;
}

/** A vCPU finished its workload: it no longer counts, so the others may now all be blocked. */
export function vcpuRetired(b: BlockLedger, nowUs: number): void {
  b.active--;
  if (b.active > 0 && b.blocked === b.active) b.sinceUs = nowUs;
}

/** Whole-VM blocktime up to `nowUs`, counting a stretch still in progress. */
export function blocktimeUs(b: BlockLedger, nowUs: number): number {
  return b.totalUs + (b.active > 0 && b.blocked === b.active ? Math.max(0, nowUs - b.sinceUs) : 0);
}

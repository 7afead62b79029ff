/**
 * Whether a virtual guest's per-page tables fit in this host's memory, checked before the run
 * allocates any of them, so a guest too large for the host is one line (exit 2) within a second,
 * not a V8 fatal error minutes later.
 *
 * What a page costs: measured, peak RSS of `run --engine virtual --vcpus 2 --accesses 2000` (linear,
 * 4 KiB pages) at 2 GiB and at 8 GiB: 161.1 MB and 300.5 MB, 88.6 bytes per page (the page states,
 * the oracle's versions, the page map, the send policy's and the strategy's tables); hybrid adds its
 * arrival tables (a Float64 and a byte per page) and an injected failure the received bitmap (a byte).
 * The measurement does not split typed arrays (outside V8's heap) from the JS heap, so the bound is
 * the smaller of the host's available memory and V8's heap limit: conservative, never too lenient
 * (a 1 TiB guest at 4 KiB pages fit neither here and died with a V8 fatal error after 83 s).
 */
import { Errors } from '../errors.js';
import type { ResolvedOptions } from '../options.js';
import { getHeapStatistics } from 'node:v8';
import { availableMemoryBytes } from '../rss.js';
import { formatBytes } from '../units.js';
import { strategyTraits } from '../model/strategies/index.js';

const MEASURED_BYTES_PER_PAGE = 89;
const HYBRID_BYTES_PER_PAGE = 9;
const RECOVERY_BYTES_PER_PAGE = 1;
/** What the process holds before any table: the runtime, the code, the workers' pool (peak RSS minus the tables above). */
const BASE_BYTES = 128 * 1024 ** 2;

/** The per-page tables alone: what a run allocates and leaves behind (src/rss.ts noteRunAllocation). */
export function virtualPageTableBytes(o: ResolvedOptions): number {
  const perPage = MEASURED_BYTES_PER_PAGE + (strategyTraits(o.strategy).precopy ? HYBRID_BYTES_PER_PAGE : 0) + (o.inject.length ? RECOVERY_BYTES_PER_PAGE : 0);
  return o.pages * perPage;
}

export function virtualTableBytes(o: ResolvedOptions): number {
  return BASE_BYTES + virtualPageTableBytes(o);
}

/** What the tables may take: the memory this host can still give, and no more than V8's heap limit. */
export function tableRoomBytes(): number {
  return Math.min(availableMemoryBytes(), getHeapStatistics().heap_size_limit);
}

/** Throws BAD_INPUT naming memory when the tables would not fit. */
export function checkTablesFit(o: ResolvedOptions, availableBytes = tableRoomBytes()): void {
  const need = virtualTableBytes(o);
  if (need <= availableBytes) return;
  throw Errors.badInput(
    'memory',
    `a ${formatBytes(o.memoryBytes)} guest at ${formatBytes(o.pageSize)} pages needs ${formatBytes(need)} of tables ` +
      `(${o.pages} pages) and this process can have ${formatBytes(availableBytes)} (host memory available, V8's heap limit; use larger pages: --page-size 2MiB)`,
  );
}

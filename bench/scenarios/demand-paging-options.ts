/**
 * The kernel selftest demand_paging_test's experiment as virtual-engine options, shared by the
 * published bench (published.ts) and its cross-check against this host's kernel (published-cross.ts):
 * each vCPU touches its own `mib` MiB once, in order, at 4 KiB pages, reads only, with no network
 * (every page is a local copy, as the selftest's UFFDIO_COPY / CONTINUE from memory it holds).
 */
import { resolveOptions, type ResolvedOptions } from '../../src/options.js';

export function demandPagingOptions(vcpus: number, mib: number, mode: 'exit' | 'uffd', uffdMode: 'missing' | 'minor', seed: number): ResolvedOptions {
  return resolveOptions({
    engine: 'virtual',
    vcpus,
    memory: vcpus * mib * 1024 * 1024,
    pageSize: 4096,
    workload: 'sequential',
    partition: true,
    accesses: (mib * 1024 * 1024) / 4096,
    writeRatio: 0,
    network: 'none',
    mode,
    seed,
    uffdMode,
  });
}

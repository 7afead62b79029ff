/**
 * The kernel selftest demand_paging_test's experiment as virtual-engine options, shared by the
 * published bench (published.ts) and its cross-check against this host's kernel (published-cross.ts):
 * each vCPU touches its own `mib` MiB once, in order, at 4 KiB pages, with no network (every page
 * is a local copy, as the selftest's UFFDIO_COPY / CONTINUE from memory it holds). Every touch is a
 * write: memstress_create_vm sets write_percent to 100 ("By default vCPUs will write to memory",
 * tools/testing/selftests/kvm/lib/memstress.c) and demand_paging_test leaves it there, and
 * native/uffd_paging.c, whose runs the cross-check predicts, stores to each page. It matters on
 * anonymous memory under uffd MISSING, where a write fault allocates a page first (missingWriteUs).
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
    writeRatio: 1,
    network: 'none',
    mode,
    seed,
    uffdMode,
  });
}

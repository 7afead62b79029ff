/**
 * The virtual engine's cost model: one parameter per kernel or VMM mechanism on the fault path, in
 * microseconds of one core's time unless said otherwise (counts are plain numbers). The engine
 * charges exactly these and nothing else; the paths differ only by which mechanisms they go through
 * (docs/virtual-engine.md, "The kernel, modelled from its own mechanism"):
 *
 *   uffd     vCPU: faultUs (+ missingWriteUs: a write, MISSING), mmap_lock x (mmapLocksPerUffdFault - 1), ctx refcount,
 *            fault_pending_wqh.lock [wqOpUs: enqueue], fd_wqh.lock [wqOpUs + per registered
 *            reader: walkPerWaiterUs, + ttwu per sleeping one], sleep ─▶ reader: wakeupUs, poll()
 *            [syscallUs + pollUs, f_count, fd_wqh.lock twice], read() [syscallUs + readUs, f_count,
 *            fd_wqh.lock ⊃ fault_pending_wqh.lock: take the oldest, refile] (an empty read takes
 *            both locks too) ─▶ UFFDIO_COPY | CONTINUE [f_count, mm_users, VMA lock,
 *            map_changing_lock, copy], wake [fault_pending_wqh.lock: walkPerWaiterUs per cold queued
 *            entry, walkWarmUs per warm one, + ttwu per match] ─▶ vCPU: wakeupUs, retry [ctx put,
 *            mmap_lock, mmu_lock], resume
 *   exit     vCPU: faultUs + exitUs, then (resolver 'vcpu') the continue itself [the shared
 *            uffd's f_count, mm_users, VMA lock, map_changing_lock, copy],
 *            reentryUs, stage-2 map [mmu_lock]; or (resolver 'fetcher') post the record to the
 *            page fetcher (postUs / receiveUs) and sleep until it installed the page
 *
 * A lock here is a FIFO spinlock or an mm-wide cache line (src/virtual/cache-line.ts): waiters keep
 * their core; taking it when another core held it last costs a line transfer (lineUs, growing by
 * lineGrowth per further core spinning on it; docs/kernel-model.md). Every step runs on a core: `cores` are
 * shared by vCPUs and destination service threads, FIFO when none is free. The network is the Link
 * of src/model/link.ts, configured by the run's options.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { Errors } from '../errors.js';
import { readJsonFile } from '../files.js';
import { sourcePath } from '../paths.js';

const us = (what: string) => z.number().min(0).max(1e6).describe(what);

const count = (what: string) => z.number().int().min(0).max(64).describe(what);

/** One cost profile: every field documented, every field required (a profile says where each came from). */
export const CostModelSchema = z.strictObject({
  cores: z.number().int().min(1).max(65536).describe('physical cores shared by vCPU threads and destination service threads'),
  faultUs: us('a stage-2 fault up to the point where it exits or calls into the slow GUP: trap, KVM lookup, a fast GUP that fails'),
  missingWriteUs: us(
    'uffd MISSING on anonymous memory, a write fault: the page do_anonymous_page allocates, zeroes and charges, then frees when it finds the range registered, before it calls handle_userfault (a read fault takes the zero-page branch, which checks first)',
  ),
  exitUs: us('exit mode: KVM_RUN returning to userspace with KVM_EXIT_MEMORY_FAULT'),
  reentryUs: us('exit mode: KVM_RUN entered again once userspace resolved the exit'),
  postUs: us('a record or request handed to another userspace thread (MessagePort post; a request put on the socket)'),
  receiveUs: us('the page fetcher receives one record or one arrived frame'),
  syscallUs: us('a kernel crossing: entry and return of poll(), read() or an ioctl'),
  pollUs: us('uffd: poll() beyond the crossing: adding and removing itself on fd_wqh (the lock part is wqOpUs)'),
  readUs: us('uffd: read() beyond the crossing: building and copying out the 32-byte uffd_msg'),
  wqOpUs: us('uffd: one wait-queue list operation inside its spinlock (add, delete, refile)'),
  lineUs: us('a contended cache line moving to another core: taking a lock or an mm-wide line another core held last'),
  lineGrowth: z
    .number()
    .min(0)
    .max(16)
    .describe('the fraction of lineUs each further core requesting a line at the same time adds to one transfer (src/virtual/cache-line.ts)'),
  walkPerWaiterUs: us(
    "a wake walk visiting one queued entry that is cold for the walker: it lives on its faulting thread's stack and was written since the walker last read it (a remote line)",
  ),
  walkWarmUs: us("a wake walk visiting one queued entry still in the walker's cache: it read it on its last walk and nobody wrote it since"),
  ttwuUs: us('try_to_wake_up as the waker pays it for the first thread it wakes in one walk (IPI included)'),
  ttwuNextUs: us('try_to_wake_up for each further thread woken in the same walk'),
  wakeupUs: us('a woken thread until it runs again (the wake-up latency, not paid by the waker)'),
  copyUs: us('UFFDIO_COPY of one 4 KiB page, DONTWAKE (allocate, copy, map), one copier; scales with the page size'),
  copyPerCopierUs: us('UFFDIO_COPY: extra per 4 KiB page for each other thread copying at the same time'),
  continueUs: us('UFFDIO_CONTINUE (MINOR, shmem): map one page already in the page cache, one thread'),
  continuePerCopierUs: us('UFFDIO_CONTINUE: extra for each other thread doing it at the same time'),
  zeropageUs: us('UFFDIO_ZEROPAGE of one 4 KiB page, one thread'),
  uffdWakeUs: us('UFFDIO_WAKE (or the wake at the end of a copy) beyond its walk: the ioctl itself'),
  memcpyUs: us('precopy: one 4 KiB page written straight into guest RAM (no userfaultfd yet)'),
  mmapLocksPerUffdFault: count(
    'uffd path: mmap_lock read acquisitions per fault on the vCPU (NOWAIT GUP, the VMA look-up after it fails, blocking GUP, the retry)',
  ),
  mmapLockLines: count('cache-line transfers per mmap_lock read acquisition (the rwsem count: inc and dec)'),
  mmuLockLines: count('cache-line transfers per stage-2 map (kvm->mmu_lock read: inc and dec)'),
  accessUs: us('one guest access to a present page'),
  spin: z.boolean().describe("waiting threads spin the run's spin/serviceSpin time before sleeping (the threaded engine) or sleep at once (the kernel)"),
});

export type CostModel = z.infer<typeof CostModelSchema>;

/** A cost profile file: the costs the engine uses, where each came from, and the raw measurements. */
export const CostProfileSchema = z.strictObject({
  $comment: z.string().optional(),
  /** ISO date of the measurement. */
  date: z.string(),
  /** Machine facts of the host measured (CPU model, cores, kernel, Node). */
  machine: z.record(z.string(), z.unknown()),
  /** 'kernel' (the real userfaultfd path) or 'threads' (the threaded engine's own costs). */
  basis: z.enum(['kernel', 'threads']),
  /** A short name for results and tables: 'this-host', 'large-host', or what calibrate was told. */
  name: z.string().min(1).max(64),
  /** Runs use the running host's core count (a measured host), or costs.cores (a modelled one). */
  coresFromHost: z.boolean(),
  costs: CostModelSchema,
  /** The other profile measured in the same calibration (predicts the threaded engine). */
  threads: CostModelSchema.optional(),
  /** Per cost field: the measurement or formula it came from. */
  sources: z.record(z.string(), z.string()),
  /** Raw measurements (micro-benchmarks, simulate() runs, native runs). */
  measured: z.record(z.string(), z.unknown()),
});

export type CostProfile = z.infer<typeof CostProfileSchema>;

/** Validates a parsed profile; a bad field is a BAD_INPUT naming it. */
export function parseCostProfile(data: unknown, file: string): CostProfile {
  const r = CostProfileSchema.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = issue.path.length ? issue.path.join('.') : '(profile)';
    const msg = issue.code === 'unrecognized_keys' ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}` : issue.message;
    throw Errors.badInput(`costs ${file}: ${path}`, msg);
  }
  return r.data;
}

/** Reads and validates a cost profile file (`--costs FILE`). */
export function loadCostProfile(file: string): CostProfile {
  return parseCostProfile(readJsonFile(file, 'costs').data, file);
}

/** The shipped profiles: src/virtual/profiles/NAME.json (found from src/ or dist/src/). */
export function profilesDir(): string {
  return sourcePath('src', 'virtual', 'profiles');
}

export type ProfileName = 'this-host' | 'large-host';
const cache = new Map<string, CostProfile>();
/** A shipped profile: this host's measured costs, or the modelled large host's. */
export function shippedProfile(name: ProfileName = 'this-host'): CostProfile {
  let p = cache.get(name);
  if (!p) {
    p = loadCostProfile(join(profilesDir(), `${name}.json`));
    cache.set(name, p);
  }
  return p;
}

/** The costs a run uses: the profile's, with the cores of the running host (measured profiles) unless --cores says. */
export function costsOf(profile: CostProfile, cores?: number): CostModel {
  return { ...profile.costs, cores: cores ?? (profile.coresFromHost ? availableParallelism() : profile.costs.cores) };
}

/** Cost of copying or installing a page of `pageSize` bytes, given the 4 KiB figure. */
export function perPage(costPer4KiBUs: number, pageSize: number): number {
  return costPer4KiBUs * (pageSize / 4096);
}

/**
 * The virtual engine's cost profile of what a dilated threaded run models: the link (the same Link,
 * configured by the options), the guest's compute per access (`accessUs`, the value the threaded run
 * paced its vCPUs to), and nothing else. Every other cost is the simulator's own work, which
 * dilation takes out of modelled time, so it is 0; and every thread has a core of its own (a paced
 * vCPU needs 1/D of one, the services little more). docs/dilation.md says why this and
 * not the measured `threads` profile (which prices the undilated simulator's own costs).
 */
export function dilatedThreadsCostModel(accessUs: number, threads: number): CostModel {
  const zero = Object.fromEntries(Object.keys(CostModelSchema.shape).map((k) => [k, 0])) as unknown as CostModel;
  return { ...zero, cores: threads, accessUs, spin: false };
}

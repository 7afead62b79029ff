/**
 * The virtual engine's cost model: what the kernel and the VMM spend per fault, one parameter per
 * mechanism, all in microseconds of one core's time unless said otherwise. The engine charges
 * exactly these and nothing else, so the uffd variants and exit mode differ only through which of
 * these steps their fault path takes (see src/virtual/engine.ts):
 *
 *   exit (fetcher)  vCPU: faultUs + exitUs + postUs, sleep ─▶ fetcher: wakeupUs, receiveUs, mm line
 *                   (mmHoldUs), installUs ─▶ vCPU: wakeupUs, resume
 *   exit (vCPU)     vCPU: faultUs + exitUs, mm line (mmHoldUs), copyUs, resume (demand_paging_test:
 *                   the vCPU thread resolves its own exit and re-enters)
 *   uffd            vCPU: faultUs, queue lock [lockHoldUs + enqueueUs + readers x wakePerEntryUs],
 *                   sleep ─▶ every polling reader: wakeupUs, queue lock [lockHoldUs + slots x
 *                   scanPerEntryUs], readUs; one gets the message: mm line, copyUs, queue lock
 *                   [lockHoldUs + entries x wakePerEntryUs] ─▶ vCPU: wakeupUs, resume
 *
 * A contended lock (the uffd queue's, the mm line) passes to the next spinner after lockHandoverUs,
 * and spinners keep their core. Every step above runs on a core: `cores` are shared by vCPUs and
 * destination service threads, and a thread that wants one when none is free waits in FIFO order.
 * The network is the Link of src/network.ts, configured by the run's options.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { Errors } from '../errors.js';

const us = (what: string) => z.number().min(0).max(1e6).describe(what);

/** One cost profile: every field documented, every field required (a profile says where each came from). */
export const CostModelSchema = z.strictObject({
  cores: z.number().int().min(1).max(65536).describe('physical cores shared by vCPU threads and destination service threads'),
  faultUs: us('a stage-2 fault taken by the host kernel (trap, lookup, handle_userfault entry and return), both modes'),
  exitUs: us('exit mode: KVM_RUN returning to userspace with KVM_EXIT_MEMORY_FAULT, plus the re-entry'),
  postUs: us('exit mode: the vCPU posts its memory_fault record to the page fetcher (also: a request sent to the source)'),
  receiveUs: us('the page fetcher receives one record or one arrived frame'),
  enqueueUs: us('uffd: putting the fault on the uffd wait queue, under the queue lock'),
  readUs: us('uffd: a handler read() syscall, outside the queue lock'),
  scanPerEntryUs: us('uffd: read() scanning the queue under its lock, per vCPU slot (0 for the kernel: list_last_entry is O(1))'),
  copyUs: us('UFFDIO_COPY of one 4 KiB page (allocate, copy, map), outside the queue lock; scales with the page size'),
  installUs: us('the page fetcher installs one 4 KiB page (copy + publish); scales with the page size'),
  wakePerEntryUs: us('the wake after a copy (and the poll wake on enqueue) walks the wait queue under its lock: per entry'),
  lockHoldUs: us('fixed critical-section time of every uffd queue lock acquisition'),
  lockHandoverUs: us('a contended lock, released: until the next spinner holds it (a cache-line transfer)'),
  mmHoldUs: us('per install, the mm-wide shared cache line every fault resolution touches (serialised)'),
  wakeupUs: us('a sleeping thread woken: until it is runnable again (futex wake, IPI, schedule)'),
  accessUs: us('one guest access to a present page'),
  spin: z.boolean().describe('waiting threads spin the run\'s spin/serviceSpin time before sleeping (the threaded engine) or sleep at once (the kernel)'),
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
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) {
    throw Errors.badInput('costs', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let data: unknown;
  try { data = JSON.parse(text); } catch (e) {
    throw Errors.badInput('costs', `${file} is not valid JSON: ${(e as Error).message}`);
  }
  return parseCostProfile(data, file);
}

/** Where the built-in profile lives: src/virtual/default-costs.json (found from src/ or dist/src/). */
export function defaultCostsPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'src', 'virtual', 'default-costs.json');
    const parent = dirname(dir);
    if (parent === dir) throw new Error('repo root not found above src/virtual');
    dir = parent;
  }
}

let cached: CostProfile | null = null;
/** The built-in profile (measured on this machine by `postcopy-sim calibrate`, date in the file). */
export function defaultCostProfile(): CostProfile {
  cached ??= loadCostProfile(defaultCostsPath());
  return cached;
}

/** Cost of copying or installing a page of `pageSize` bytes, given the 4 KiB figure. */
export function perPage(costPer4KiBUs: number, pageSize: number): number {
  return costPer4KiBUs * (pageSize / 4096);
}

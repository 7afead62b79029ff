// Goal: each mechanism of the virtual engine's kernel model charges what it should, where a small
// scenario's time can be worked out on paper, and threads install what QEMU's would.
// Method: runVirtual() with cost models in which only the mechanism under test costs anything (and
// powers of two, so sums are exact up to the latency histogram's 3 significant digits); counters
// from the result where a time alone would not tell.
import { describe, expect, it } from 'vitest';
import { resolveOptions, type OptionsInput } from '../src/index.js';
import type { CostModel } from '../src/virtual/costs.js';
import { ZERO as ZERO_COSTS, onePagePerVcpu } from './helpers/virtual-costs.js';
import { runVirtual, type VirtualOptions } from '../src/virtual/engine.js';

const ZERO: CostModel = { ...ZERO_COSTS, cores: 16 };
const run = (input: OptionsInput, costs: CostModel, extra: VirtualOptions = {}) =>
  runVirtual({ ...resolveOptions({ engine: 'virtual', ...input }), ...extra }, costs);
const pages = onePagePerVcpu;

describe('mm-wide and per-uffd lines', () => {
  it('uffd: mmap_lock on the vCPU (NOWAIT and blocking GUP, the retry), ctx refcount, f_count, mm_users, the VMA lock, map_changing_lock, mmu_lock', () => {
    // Only line transfers cost: 1 us each, on every lock word and shared counter. vCPU: the GUPs
    // move the mmap_lock line (2; the second GUP finds it local), handle_userfault's ctx refcount
    // (2), fault_pending_wqh.lock (1), fd_wqh.lock (the reader added itself there: 1); the reader:
    // fd_wqh to leave poll (1), fault_pending_wqh in read() (1), the copy's mm_users, VMA lock and
    // map_changing_lock (2 each; its f_count is still its own from poll); its wake walk finds
    // fault_pending_wqh local; the vCPU's retry: the ctx put (its own line), mmap_lock (still its
    // own: the copy took the VMA's lock, not mmap_lock), mmu_lock (2). 2+2+1+1+1+1+6+2 = 16.
    const r = run({ ...pages(1), mode: 'uffd' }, { ...ZERO, lineUs: 1 });
    expect(r.faultLatencyUs.max).toBeCloseTo(16, 1);
  });
  it('exit: none on the vCPU path before the exit; the CONTINUE through the shared uffd, one mmu_lock on re-entry', () => {
    // f_count, mm_users, the VMA lock, map_changing_lock, mmu_lock: 2 transfers each
    const r = run({ ...pages(1), mode: 'exit' }, { ...ZERO, lineUs: 1 }, { exitResolver: 'vcpu' });
    expect(r.faultLatencyUs.max).toBeCloseTo(10, 1);
  });
  it('many vCPUs serialise on the lines: 8 exits at once, each copy waits for the ones before it', () => {
    // Each vCPU's copy takes the uffd file's f_count (2 transfers of 1 us) after the others: the last
    // one has it at 16; mm_users, the VMA lock, map_changing_lock and mmu_lock pipeline behind: +8.
    const r = run({ ...pages(8), mode: 'exit' }, { ...ZERO, lineUs: 1 }, { exitResolver: 'vcpu' });
    expect(r.faultLatencyUs.max).toBeCloseTo(24, 1);
  });
  it("a lock word's transfer costs more with a waiter spinning on it; an atomic counter's does not", () => {
    // 8 vCPUs fault at once on one uffd: fault_pending_wqh.lock and fd_wqh.lock hand over with a
    // head waiter spinning (k = 2), so lineGrowth 1 makes each hand-over dearer. Exits touch only
    // atomic counters and mmu_lock's count: growth changes nothing there.
    const uffd = (g: number) => run({ ...pages(8), mode: 'uffd', handlers: 1 }, { ...ZERO, lineUs: 1, lineGrowth: g }).faultLatencyUs.max;
    expect(uffd(1)).toBeGreaterThan(uffd(0));
    const exits = (g: number) => run({ ...pages(8), mode: 'exit' }, { ...ZERO, lineUs: 1, lineGrowth: g }, { exitResolver: 'vcpu' }).faultLatencyUs.max;
    expect(exits(1)).toBeCloseTo(exits(0), 1);
  });
});

describe('the page a write fault allocates before handle_userfault', () => {
  it('uffd MISSING: a write fault pays missingWriteUs on the vCPU before it queues, a read fault does not', () => {
    // do_anonymous_page: a read fault takes the zero-page branch, which checks the registration
    // first; a write fault allocates, zeroes and frees a page, then calls handle_userfault.
    const c = { ...ZERO, faultUs: 1, missingWriteUs: 4 };
    const at = (writeRatio: number, extra: OptionsInput = {}) => run({ ...pages(1), mode: 'uffd', handlers: 1, writeRatio, ...extra }, c).faultLatencyUs.max;
    expect(at(0)).toBeCloseTo(1, 1);
    expect(at(1)).toBeCloseTo(5, 1);
    // MINOR (shmem): the page is in the page cache, nothing is allocated; exits never reach the GUP
    expect(at(1, { uffdMode: 'minor' })).toBeCloseTo(1, 1);
    expect(run({ ...pages(1), mode: 'exit', writeRatio: 1 }, c, { exitResolver: 'vcpu' }).faultLatencyUs.max).toBeCloseTo(1, 1);
  });
});

describe('the uffd wait queues', () => {
  it('wake_up_poll wakes every reader asleep in poll(); on a many-core host each sleeper kicks its own idle core', () => {
    // 4 readers asleep in poll() (the fault comes 1 us later), 16 cores: the vCPU pays ttwuUs for
    // each (4) under fd_wqh; the copy's wake walk wakes the vCPU (1): 1 + 4 + 1.
    const c = { ...ZERO, faultUs: 1, ttwuUs: 1, ttwuNextUs: 0.5 };
    const r = run({ ...pages(1), mode: 'uffd', handlers: 4 }, c);
    expect(r.uffd).toMatchObject({ reads: 1 });
    expect(r.faultLatencyUs.max).toBeCloseTo(6, 1);
    const h = r.services.filter((s) => s.role === 'handler');
    expect(h.reduce((a, s) => a + ('uffdReads' in s ? s.uffdReads : 0), 0)).toBe(1);
  });
  it('with one idle core the first sleeper kicks it and the others queue there (ttwuNextUs)', () => {
    // 2 cores, the vCPU on one: 1 + 3 x 0.5 under fd_wqh; then the vCPU's own wake (1): 1 + 2.5 + 1.
    const c = { ...ZERO, cores: 2, faultUs: 1, ttwuUs: 1, ttwuNextUs: 0.5 };
    expect(run({ ...pages(1), mode: 'uffd', handlers: 4 }, c).faultLatencyUs.max).toBeCloseTo(4.5, 1);
  });
  it('a woken poller stays on fd_wqh until it runs: later wake_up_polls walk it again but do not wake it again', () => {
    // 3 vCPUs fault at 1 us, one reader asleep in poll() that takes 64 us to run once woken. The
    // first enqueue walks it (1) and wakes it (ttwu 8): fd_wqh held 1..10. The next two still walk
    // its entry (1 each) but pay no wake: held 10..11 and 11..12, so they wait 9 and 10 for it (19).
    // Were the woken reader off the queue, they would wait 9 and 9 (18); were it woken again, 9 and 18.
    const c = { ...ZERO, faultUs: 1, walkPerWaiterUs: 1, ttwuUs: 8, wakeupUs: 64 };
    const r = run({ ...pages(3), mode: 'uffd', handlers: 1 }, c);
    expect(r.uffd!.reads).toBe(3);
    expect(r.uffd!.lockWaitUs).toBeCloseTo(19, 1);
  });
  it('the wake walk visits every queued entry; entries the walker read last time and nobody wrote since are warm', () => {
    // 4 vCPUs fault at once on one uffd with one reader: the copies' walks see 4, 3, 2, 1 entries.
    // Each enqueue walks the reader's poll entry (1 each, 4 on fd_wqh, one after the other); the
    // reader's first walk finds all 4 cold (4); it only refiled them since, so the next walks are
    // warm (0.5 each: 3 + 2 + 1 entries). The last vCPU: 4 + 4 + 1.5 + 1 + 0.5 = 11.
    const r = run({ ...pages(4), mode: 'uffd', handlers: 1 }, { ...ZERO, walkPerWaiterUs: 1, walkWarmUs: 0.5 });
    expect(r.uffd).toMatchObject({ reads: 4, wakeWalks: 4, wakeWalkEntries: 4 + 3 + 2 + 1 });
    expect(r.faultLatencyUs.max).toBeCloseTo(11, 1);
  });
  it('entries written by others since the last walk are cold again', () => {
    // Two readers walk in turn: each walk follows the other reader's, so every entry is cold.
    const one = run({ ...pages(4), mode: 'uffd', handlers: 1 }, { ...ZERO, walkPerWaiterUs: 1, walkWarmUs: 0 }).faultLatencyUs.max;
    const two = run({ ...pages(4), mode: 'uffd', handlers: 2 }, { ...ZERO, walkPerWaiterUs: 1, walkWarmUs: 0 }).faultLatencyUs.max;
    expect(two).toBeGreaterThan(one);
  });
  it('read() takes fd_wqh.lock, then fault_pending_wqh.lock inside it; an empty read takes both too', () => {
    // Only wqOpUs costs (1 us): 2 readers, one fault. Both wake; each read holds fd_wqh for
    // 2 (an op before the nested lock, one inside): the second read, empty, waits for the first.
    const r = run({ ...pages(1), mode: 'uffd', handlers: 2 }, { ...ZERO, wqOpUs: 1 });
    expect(r.uffd!.reads).toBe(1);
    expect(r.uffd!.contended).toBeGreaterThan(0);
  });
});

describe('the copy ioctls', () => {
  it('UFFDIO_CONTINUE with --uffd-mode minor, UFFDIO_ZEROPAGE for a zero page, UFFDIO_COPY otherwise', () => {
    const c = { ...ZERO, copyUs: 8, continueUs: 2, zeropageUs: 1 };
    expect(run({ ...pages(1), mode: 'exit' }, c, { exitResolver: 'vcpu' }).faultLatencyUs.max).toBeCloseTo(8, 1);
    expect(run({ ...pages(1), mode: 'exit', uffdMode: 'minor' }, c, { exitResolver: 'vcpu' }).faultLatencyUs.max).toBeCloseTo(2, 1);
    expect(run({ ...pages(1), mode: 'exit', zeroFraction: 1 }, c, { exitResolver: 'vcpu' }).faultLatencyUs.max).toBeCloseTo(1, 1);
  });
  it('a copy costs more for each other thread copying at the same time', () => {
    // 3 vCPUs start their copies at once: the first sees 0 others (8), the second 1 (8 + 4), the third 2 (8 + 8).
    const r = run({ ...pages(3), mode: 'exit' }, { ...ZERO, copyUs: 8, copyPerCopierUs: 4 }, { exitResolver: 'vcpu' });
    expect(r.faultLatencyUs.max).toBeCloseTo(16, 1);
    expect(r.faultLatencyUs.count).toBe(3);
  });
});

describe('KVM_RUN exit and re-entry, and who pays a wake-up', () => {
  it('exit resolved on the vCPU: fault, exit, re-entry; no wake-up at all', () => {
    const r = run({ ...pages(1), mode: 'exit' }, { ...ZERO, faultUs: 1, exitUs: 2, reentryUs: 4, wakeupUs: 64, ttwuUs: 64 }, { exitResolver: 'vcpu' });
    expect(r.faultLatencyUs.max).toBeCloseTo(7, 1);
  });
  it('the waker pays try_to_wake_up, the woken pays its wake-up latency', () => {
    // exit via the fetcher: the fetcher sleeps (woken: 16 latency), installs, wakes the vCPU (ttwu
    // 2 on the fetcher, then 16 latency for the vCPU).
    const r = run({ ...pages(1), mode: 'exit' }, { ...ZERO, wakeupUs: 16, ttwuUs: 2 });
    expect(r.faultLatencyUs.max).toBeCloseTo(16 + 2 + 16, 1);
  });
});

describe('who installs what, as QEMU does it', () => {
  const link: OptionsInput = { vcpus: 2, memory: '1MiB', workload: 'random', accesses: 200, seed: 3, bandwidth: '1Gbit', zeroFraction: 0 };
  const installed = (r: ReturnType<typeof run>, role: string) =>
    r.services.filter((s) => s.role === role).reduce((a, s) => a + ('installedDemand' in s ? s.installedDemand : 0), 0);
  it('uffd over a link: handlers only ask; the listen thread installs the demanded pages (vanilla)', () => {
    const r = run({ ...link, mode: 'uffd', strategy: 'linear' }, { ...ZERO, copyUs: 1 });
    expect(r.verified).toBe(true);
    expect(installed(r, 'handler')).toBe(0);
    expect(installed(r, 'fetcher')).toBe(r.pagesDemand);
  });
  it('preempt: a preempt-channel thread installs the demanded pages that come on the urgent socket', () => {
    // a send buffer smaller than the guest, or every page is queued (sent) before any request
    const r = run({ ...link, memory: '16MiB', sendBuffer: '64KiB', mode: 'uffd', strategy: 'preempt' }, { ...ZERO, copyUs: 1 });
    expect(r.verified).toBe(true);
    expect(installed(r, 'preempt')).toBe(r.pagesUrgent);
    expect(r.pagesUrgent).toBeGreaterThan(0);
  });
  it('exit resolver vcpu over a link: each vCPU asks and installs its own page', () => {
    const r = run({ ...link, mode: 'exit', exitResolver: 'vcpu', strategy: 'preempt' }, { ...ZERO, copyUs: 1 });
    expect(r.verified).toBe(true);
    expect(r.services.some((s) => s.role === 'preempt')).toBe(false);
    expect(r.requests).toBeGreaterThan(0);
    expect(installed(r, 'fetcher')).toBe(0);
  });
  it('--wake-batch: DONTWAKE copies on the listen thread, one wake walk per run of pages', () => {
    const base: OptionsInput = { vcpus: 4, memory: '4MiB', workload: 'random', accesses: 300, seed: 5, mode: 'uffd', strategy: 'linear', bandwidth: '10Gbit' };
    const one = run(base, { ...ZERO, copyUs: 1 });
    const batched = run({ ...base, wakeBatch: 16 }, { ...ZERO, copyUs: 1 });
    expect(batched.verified && one.verified).toBe(true);
    expect(batched.uffd!.wakeWalks).toBeLessThan(one.uffd!.wakeWalks);
  });
});

// Goal: each mechanism of the virtual engine's kernel model charges what it should, where a small
// scenario's time can be worked out on paper, and threads install what QEMU's would.
// Method: runVirtual() with cost models in which only the mechanism under test costs anything (and
// powers of two, so sums are exact up to the latency histogram's 3 significant digits); counters
// from the result where a time alone would not tell.
import { describe, expect, it } from 'vitest';
import { resolveOptions, type OptionsInput } from '../src/index.js';
import type { CostModel } from '../src/virtual/costs.js';
import { runVirtual, type VirtualOptions } from '../src/virtual/engine.js';

const ZERO: CostModel = {
  cores: 16, faultUs: 0, exitUs: 0, reentryUs: 0, postUs: 0, receiveUs: 0, syscallUs: 0, pollUs: 0, readUs: 0, wqOpUs: 0, lineUs: 0,
  walkPerWaiterUs: 0, walkWarmUs: 0, lineGrowth: 0, ttwuUs: 0, ttwuNextUs: 0, wakeupUs: 0, copyUs: 0, copyPerCopierUs: 0, continueUs: 0, continuePerCopierUs: 0,
  zeropageUs: 0, uffdWakeUs: 0, memcpyUs: 0, mmapLocksPerUffdFault: 3, mmapLockLines: 2, mmuLockLines: 2, accessUs: 0, spin: false,
};
const run = (input: OptionsInput, costs: CostModel, extra: VirtualOptions = {}) => runVirtual({ ...resolveOptions({ engine: 'virtual', ...input }), ...extra }, costs);
/** n vCPUs, one page each, one access each, no network, no zero pages. */
const pages = (n: number): OptionsInput => ({ vcpus: n, memory: n * 4096, workload: 'sequential', partition: true, accesses: 1, network: 'none', writeRatio: 0, zeroFraction: 0 });

describe('mmap_lock and mmu_lock: mm-wide lines', () => {
  it('uffd: three mmap_lock acquisitions on the vCPU (two before handle_userfault, one on the retry), one in UFFDIO_COPY, one mmu_lock', () => {
    // Only line transfers cost: 1 us each, on the mm-wide lines and on every lock word. vCPU: two
    // GUPs (the first moves the mmap_lock line: 2 transfers; the second finds it local) 2; enqueue:
    // fault_pending_wqh.lock 1, fd_wqh.lock (the reader added itself there) 1; the reader: fd_wqh to
    // leave poll 1, fault_pending_wqh in read() 1, the copy's mmap_lock 2 (its wake walk finds
    // fault_pending_wqh local); the vCPU's retry: mmap_lock 2, mmu_lock 2. 2+1+1+1+1+2+2+2 = 12.
    const r = run({ ...pages(1), mode: 'uffd' }, { ...ZERO, lineUs: 1 });
    expect(r.faultLatencyUs.max).toBeCloseTo(12, 1);
  });
  it('exit: none on the vCPU path before the exit; one in the copy, one mmu_lock on re-entry', () => {
    const r = run({ ...pages(1), mode: 'exit' }, { ...ZERO, lineUs: 1 }, { exitResolver: 'vcpu' });
    expect(r.faultLatencyUs.max).toBeCloseTo(4, 1);
  });
  it('many vCPUs serialise on the line: 8 exits at once, each copy waits for the ones before it', () => {
    // Each vCPU's copy takes the mmap_lock line (2 transfers of 1 us) after the others: the last one
    // waits 7 x 2, then its own 2 (16); the mmu_lock line pipelines behind: its turn is at 16, +2.
    const r = run({ ...pages(8), mode: 'exit' }, { ...ZERO, lineUs: 1 }, { exitResolver: 'vcpu' });
    expect(r.faultLatencyUs.max).toBeCloseTo(18, 1);
  });
});

describe('the uffd wait queues', () => {
  it('wake_up_poll wakes every reader asleep in poll(), the waker pays try_to_wake_up for each; all but one read nothing', () => {
    // 4 readers asleep in poll(), one fault: the vCPU pays ttwu 1 + 3 x 0.5 = 2.5 under fd_wqh.
    const c = { ...ZERO, ttwuUs: 1, ttwuNextUs: 0.5 };
    const r = run({ ...pages(1), mode: 'uffd', handlers: 4 }, c);
    expect(r.uffd).toMatchObject({ reads: 1 });
    expect(r.faultLatencyUs.max).toBeCloseTo(2.5 + 1 /* the copy's wake walk wakes the vCPU: ttwu */, 1);
    const h = r.services.filter((s) => s.role === 'handler');
    expect(h.reduce((a, s) => a + ('uffdReads' in s ? s.uffdReads : 0), 0)).toBe(1);
  });
  it('the wake walk visits every queued entry, pending or read, under fault_pending_wqh.lock', () => {
    // 4 vCPUs fault at once on one uffd with one reader: the copies' walks see 4, 3, 2, 1 entries.
    const r = run({ ...pages(4), mode: 'uffd', handlers: 1 }, { ...ZERO, walkPerWaiterUs: 1 });
    expect(r.uffd).toMatchObject({ reads: 4, wakeWalks: 4, wakeWalkEntries: 4 + 3 + 2 + 1 });
    // the first enqueue's wake_up_poll walks the one reader in poll() (1); the last vCPU served then
    // waits for the walks before its page's: 4 + 3 + 2, and its own 1: 11
    expect(r.faultLatencyUs.max).toBeCloseTo(11, 1);
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
  const installed = (r: ReturnType<typeof run>, role: string) => r.services.filter((s) => s.role === role).reduce((a, s) => a + ('installedDemand' in s ? s.installedDemand : 0), 0);
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

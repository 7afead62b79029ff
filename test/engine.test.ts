// Goal: the threaded engine migrates real bytes correctly in every fault path, proves it on every
// run (verified), catches a broken install order, and turns failures into diagnosed errors.
// Method: small guests (a few MiB) on real worker threads; assertions on behaviour, never timings.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulate, SimError, type OptionsInput } from '../src/index.js';
import { UNDILATED } from './helpers/dilation.js';

async function failure(o: OptionsInput): Promise<SimError> {
  try {
    await simulate(o);
  } catch (e) {
    expect(e).toBeInstanceOf(SimError);
    return e as SimError;
  }
  throw new Error('expected the run to fail');
}

describe('both fault paths migrate every page intact', () => {
  const cases: Array<[string, OptionsInput]> = [
    // Over the link a push can beat every access (the start gun does not order a vCPU's first touch
    // before the source's first page), so a case whose guest is small or read in push order would
    // fault 0 times on a loaded host. So the link cases run at 1 Gbit/s (an 8 MiB guest takes 67 ms
    // to push, not 6.7 ms) and read pages out of push order, or run with no network.
    ['exit, zipf, link', { mode: 'exit', workload: 'zipf', bandwidth: '1Gbit' }],
    ['exit, sequential partitioned, no network', { mode: 'exit', workload: 'sequential', partition: true, network: 'none', accesses: 512 }],
    ['exit, random, 2MiB pages', { mode: 'exit', workload: 'random', pageSize: '2MiB', memory: '16MiB', accesses: 2000, bandwidth: '1Gbit' }],
    ['uffd, 1 handler, zipf', { mode: 'uffd', workload: 'zipf', bandwidth: '1Gbit' }],
    ['uffd, 2 handlers, random, no network', { mode: 'uffd', handlers: 2, workload: 'random', network: 'none', accesses: 3000 }],
    ['uffd per vCPU, random partitioned', { mode: 'uffd', uffdPerVcpu: true, partition: true, workload: 'random', accesses: 2000, bandwidth: '1Gbit' }],
    ['uffd, 2MiB pages', { mode: 'uffd', workload: 'random', pageSize: '2MiB', memory: '16MiB', accesses: 2000, bandwidth: '1Gbit' }],
    [
      'exit, several memslots with a hole',
      {
        mode: 'exit',
        workload: 'random',
        network: 'none',
        accesses: 2000,
        memslots: [
          { base: 0, size: '2MiB' },
          { base: '1GiB', size: '2MiB' },
        ],
      },
    ],
    ['no postcopy (all present)', { mode: 'none', accesses: 5000 }],
    ['exit resolved on the vCPU thread, no network', { mode: 'exit', exitResolver: 'vcpu', network: 'none', workload: 'random', accesses: 3000 }],
  ];
  it.each(cases)('%s', async (_name, o) => {
    const r = await simulate({ vcpus: 2, memory: '8MiB', tailAccesses: 2000, seed: 7, timeDilation: UNDILATED, ...o });
    expect(r.verifyErrors).toEqual([]);
    expect(r.verified).toBe(true);
    if (r.mode === 'none') {
      expect(r.faults).toBe(0);
      return;
    }
    expect(r.faults).toBeGreaterThan(0);
    expect(r.faultLatencyUs.count).toBe(r.faults);
    expect(r.faultsByFlags.read + r.faultsByFlags.write + r.faultsByFlags.exec).toBe(r.faults);
    // Every page arrived exactly once; faults either asked for a page or merged into a request.
    expect(r.pagesDemand + r.pagesPushed).toBe(r.pages);
    expect(r.duplicatePages).toBe(0);
    // A handler reads at most one message per fault, and a demanded page means one was read. A fault
    // may read nothing: a push can land first, and its copy wakes the waiter off the queue (a
    // sequential partitioned guest over the link faulted 1-4 times undilated, once with 0 reads).
    if (r.mode === 'uffd') {
      expect(r.uffd!.reads).toBeLessThanOrEqual(r.faults);
      if (r.pagesDemand > 0) expect(r.uffd!.reads).toBeGreaterThan(0);
    }
    expect(r.vcpuBlocktimeMs).toHaveLength(2);
    expect(r.timeline.length).toBeGreaterThan(0);
  });

  it('sends zero pages as a flag, not as bytes', async () => {
    const r = await simulate({ vcpus: 1, memory: '8MiB', zeroFraction: 1, accesses: 100 });
    expect(r.verified).toBe(true);
    expect(r.zeroPages).toBe(r.pages);
    expect(r.bytesToDest).toBeLessThan(r.pages * 200);
  });

  it('partitioned sequential touches each page once: faults equal pages (demand_paging_test)', async () => {
    const r = await simulate({ vcpus: 2, memory: '4MiB', workload: 'sequential', partition: true, accesses: 512, network: 'none', writeRatio: 0 });
    expect(r.faults).toBe(1024);
    expect(r.pagesDemand).toBe(1024);
  });
});

describe('the proof catches what it must', () => {
  it('a page published before it is copied is caught', async () => {
    const r = await simulate({
      vcpus: 2,
      memory: '4MiB',
      workload: 'sequential',
      partition: true,
      network: 'none',
      writeRatio: 0,
      accesses: 512,
      unsafePublishBeforeCopyUs: 200,
    });
    expect(r.verified).toBe(false);
    expect(r.verifyErrors.join(' ')).toMatch(/source has/);
  });
});

describe('failures become diagnosed errors, and runs end', () => {
  it.each([
    ['source-dies', /source host died: injected fault/],
    ['fetcher-dies', /page fetcher died: injected fault/],
    ['vcpu-dies', /vCPU 0 died: injected fault/],
  ] as const)('%s', async (injectFault, re) => {
    const e = await failure({ vcpus: 2, memory: '8MiB', accesses: 50_000, injectFault });
    expect(e.code).toBe('WORKER_DIED');
    expect(e.message).toMatch(re);
  });
  it('a dead uffd handler', async () => {
    const e = await failure({ vcpus: 2, memory: '8MiB', mode: 'uffd', workload: 'random', bandwidth: '1Gbit', injectFault: 'handler-dies' });
    expect(e.message).toMatch(/uffd handler 0 died/);
  });
  it('a page that never arrives trips the watchdog, naming the vCPU and the gpa', async () => {
    const e = await failure({ vcpus: 2, memory: '4MiB', bandwidth: '100kbit', watchdog: '40ms', workload: 'random' });
    expect(e.code).toBe('PAGE_NEVER_ARRIVED');
    expect(e.message).toMatch(/^vCPU \d waited \d+ ms on the page at gpa 0x[0-9a-f]+, which never arrived$/);
  });
  it('a trace access outside every memslot is bad input naming the line, found before the run starts', async () => {
    const file = join(tmpdir(), `pcs-trace-${process.pid}.txt`);
    writeFileSync(file, '# two good accesses, then a hole\n0 R 0x1000\n1 W 0x2000\n0 X 0x50000000\n');
    const e = await failure({ vcpus: 2, memory: '4MiB', workload: 'trace', trace: file });
    expect(e.code).toBe('BAD_INPUT');
    expect(e.message).toBe(`trace ${file}:4: gpa 0x50000000 is outside every memslot (guest memory ends at 0x400000; a bigger --memory?)`);
  });
});

describe('traces', () => {
  it('replays R/W/X accesses and reports the EXEC flag', async () => {
    const file = join(tmpdir(), `pcs-trace-ok-${process.pid}.txt`);
    writeFileSync(file, '0 X 0x0\n0 R 0x1000\n1 W 0x2004\n1 R 0x2008\n');
    const r = await simulate({ vcpus: 2, memory: '1MiB', workload: 'trace', trace: file, network: 'none' });
    expect(r.verified).toBe(true);
    expect(r.accesses).toBe(4);
    expect(r.faultsByFlags).toEqual({ read: 1, write: 1, exec: 1 });
  });
  it('a malformed line is bad input naming the line', async () => {
    const file = join(tmpdir(), `pcs-trace-bad-${process.pid}.txt`);
    writeFileSync(file, '0 R 0x0\n0 Q 0x1000\n');
    const e = await failure({ vcpus: 1, memory: '1MiB', workload: 'trace', trace: file });
    expect(e.code).toBe('BAD_INPUT');
    expect(e.message).toBe(`trace ${file}:2: access "Q" must be R, W or X`);
  });
});

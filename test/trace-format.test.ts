// Goal: traces are read the same way everywhere, v1 and v2, plain or gzipped, and streamed: the
// spool keeps each vCPU's accesses in order with the recorded gaps, the cursor replays them a chunk
// at a time (and starts over past the end), a v2 header sets the run's vCPUs and memory, and every
// bad trace is one BAD_INPUT line naming file and line: a malformed line, a truncated gzip, a gpa
// outside every memslot, a time that goes back.
// Method: write small trace files to a temporary directory and read them through the model's own
// entry points (prepareTrace, TraceCursor, resolveOptions), as the engines do.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SimError } from '../src/errors.js';
import { Locality } from '../src/model/locality.js';
import { formatAccess, formatHeader, parseAccess, AccessLine } from '../src/model/trace-format.js';
import { TraceCursor } from '../src/trace/cursor.js';
import { openTrace, prepareTrace } from '../src/trace/replay.js';
import { resolveOptions, type OptionsInput } from '../src/options.js';

const dir = mkdtempSync(join(tmpdir(), 'pcs-trace-format-'));
let n = 0;
function file(text: string | Buffer, ext = '.txt'): string {
  const f = join(dir, `t${n++}${ext}`);
  writeFileSync(f, text);
  return f;
}

const V2 =
  `${formatHeader({ version: 2, source: 'test', pageSize: 4096, vcpus: 2, memoryBytes: 1 << 20, areas: [{ gpa: 0, bytes: 1 << 20, prot: 'rw-p', name: '//anon' }] })}` +
  '0.000 0 R 0x0\n5.500 1 W 0x1000\n10.000 0 X 0x2000\n12.250 0 R 0x3000\n20.000 1 R 0x4008\n';

async function spooled(input: OptionsInput) {
  const o = await prepareTrace(resolveOptions({ workload: 'trace', ...input }));
  return o.traceSpool!.vcpus.map((t) => {
    const c = new TraceCursor(t, 1);
    return Array.from({ length: t.length }, () => {
      c.next();
      return [c.gpa, c.access, c.gapUs];
    });
  });
}

async function badInput(input: OptionsInput): Promise<string> {
  try {
    await prepareTrace(resolveOptions({ workload: 'trace', ...input }));
  } catch (e) {
    expect(e).toBeInstanceOf(SimError);
    expect((e as SimError).code).toBe('BAD_INPUT');
    expect((e as SimError).exitCode).toBe(2);
    return (e as Error).message;
  }
  throw new Error('expected BAD_INPUT');
}

describe('trace format', () => {
  it('formats and parses an access line', () => {
    const a = new AccessLine();
    expect(parseAccess(formatAccess(12.5, 3, 1, 0x7f000).trim(), 2, a)).toBeNull();
    expect(a).toMatchObject({ timeUs: 12.5, vcpu: 3, access: 1, gpa: 0x7f000 });
    expect(parseAccess('0 X 4096', 1, a)).toBeNull();
    expect(a).toMatchObject({ timeUs: 0, vcpu: 0, access: 2, gpa: 4096 });
    expect(parseAccess('0 R 4096', 2, a)).toMatch(/expected "<time_us> <vcpu> <R\|W\|X> <gpa>"/);
  });
  it('keeps a multi-line source on one header line', () => {
    expect(formatHeader({ version: 2, source: 'python3 -c "a\nb"', pageSize: 4096, vcpus: 1, memoryBytes: undefined, areas: [] })).toContain(
      '# source: python3 -c "a b"\n',
    );
  });
});

describe('spool and cursor', () => {
  it('v2: each vCPU gets its accesses in order, with the recorded gap before each', async () => {
    const [v0, v1] = await spooled({ trace: file(V2) });
    expect(v0).toEqual([
      [0, 0, 0],
      [0x2000, 2, 10],
      [0x3000, 0, 2.25],
    ]);
    expect(v1).toEqual([
      [0x1000, 1, 5.5],
      [0x4008, 0, 14.5],
    ]); // vCPU 1 starts 5.5 us into the trace
  });
  it('reads the same trace gzipped (by its magic bytes, whatever its name)', async () => {
    expect(await spooled({ trace: file(gzipSync(V2), '.dat') })).toEqual(await spooled({ trace: file(V2) }));
  });
  it('v1 traces still read, with no gaps', async () => {
    const [v0, v1] = await spooled({ trace: file('# hand-written\n0 X 0x0\n1 W 4096\n0 R 0x1000 # comment\n'), vcpus: 2, memory: '1MiB' });
    expect(v0).toEqual([
      [0, 2, 0],
      [0x1000, 0, 0],
    ]);
    expect(v1).toEqual([[4096, 1, 0]]);
  });
  it('the cursor reads in chunks and starts over past the end; timing scales or vanishes', async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `${i * 2} 0 R 0x${(i * 4096).toString(16)}`).join('\n');
    const f = file(`${formatHeader({ version: 2, source: 't', pageSize: 4096, vcpus: 1, memoryBytes: 5000 * 4096, areas: [] })}${lines}\n`);
    const o = await prepareTrace(resolveOptions({ workload: 'trace', trace: f }));
    const t = o.traceSpool!.vcpus[0]!;
    const c = openTrace(t, { traceTiming: 'recorded', traceTimeScale: 3 });
    for (let i = 0; i < 5003; i++) c.next();
    expect(c.gpa).toBe(2 * 4096); // the third access of the second pass
    expect(c.gapUs).toBe(6);
    const fast = openTrace(t, { traceTiming: 'asap', traceTimeScale: 3 });
    fast.next();
    fast.next();
    expect(fast.gapUs).toBe(0);
  });
  it('a v2 header sets vCPUs and memory unless given; a v1 file changes nothing', () => {
    const f = file(V2);
    expect(resolveOptions({ workload: 'trace', trace: f })).toMatchObject({ vcpus: 2, memoryBytes: 1 << 20 });
    expect(resolveOptions({ workload: 'trace', trace: f, vcpus: 3, memory: '8MiB' })).toMatchObject({ vcpus: 3, memoryBytes: 8 << 20 });
    expect(resolveOptions({ workload: 'trace', trace: f, strategy: 'hugepage' }).memoryBytes).toBe(2 << 20); // rounded up to the page
    expect(resolveOptions({ workload: 'trace', trace: file('0 R 0\n') })).toMatchObject({ vcpus: 4, memoryBytes: 64 << 20 });
  });
});

describe('bad traces: one line naming file and line, exit code 2', () => {
  it('a malformed line', async () => {
    const f = file(V2.replace('12.250 0 R 0x3000', '12.250 0 Q 0x3000'));
    expect(await badInput({ trace: f })).toBe(`trace ${f}:11: access "Q" must be R, W or X`);
  });
  it('a truncated gzip', async () => {
    const big = V2 + Array.from({ length: 20000 }, (_, i) => `${30 + i} 0 R 0x${((i % 256) * 4096).toString(16)}`).join('\n');
    const gz = gzipSync(big);
    const f = file(gz.subarray(0, gz.length - 100), '.gz');
    expect(await badInput({ trace: f })).toMatch(new RegExp(`^trace ${f}:\\d+: the gzip stream ends early: the file is truncated$`));
  });
  it('a gpa outside every memslot', async () => {
    const f = file(V2.replace('20.000 1 R 0x4008', '20.000 1 R 0x100000'));
    expect(await badInput({ trace: f })).toBe(`trace ${f}:12: gpa 0x100000 is outside every memslot (guest memory ends at 0x100000; a bigger --memory?)`);
  });
  it('a time that goes back, a vCPU the run lacks, a header without vcpus', async () => {
    const back = file(V2.replace('12.250 0 R', '9.000 0 R'));
    expect(await badInput({ trace: back })).toBe(`trace ${back}:11: time 9 goes back (vCPU 0's previous access was at 10)`);
    expect(await badInput({ trace: file(V2), vcpus: 1 })).toMatch(/:9: vcpu 1 does not exist \(the run has 1 vCPUs\)$/);
    const headless = file('# postcopy-sim trace v2\n# source: x\n0 0 R 0x0\n');
    expect(() => resolveOptions({ workload: 'trace', trace: headless })).toThrow(`trace ${headless}:3: the v2 header names no vcpus (# vcpus: N)`);
  });
  it('a file that is not there', async () => {
    expect(() => resolveOptions({ workload: 'trace', trace: join(dir, 'missing.txt') })).toThrow(/^trace: cannot read .*missing\.txt: ENOENT$/);
  });
});

describe('locality', () => {
  it('counts where each vCPU first touches next, relative to its previous first touch', () => {
    const l = new Locality(4);
    for (const [v, p, t] of [
      [0, 10, 0],
      [0, 11, 1],
      [0, 9, 3],
      [0, 9, 4],
      [1, 100, 0],
      [1, 200, 2],
      [0, 12, 9],
    ] as const)
      l.add(v, p, t);
    expect(l.summary()).toMatchObject({ accesses: 7, firstTouches: 6, nextPage: 0.25, forwardNear: 0.5, backwardNear: 0.25, far: 0.25, gapUsP50: 2 });
  });
});

// Goal: perf's page-fault samples become a trace as promised: every VMA packed into guest memory in
// order, keeping the gaps between the pages touched inside it; a later map over part of an earlier
// one wins (as the dynamic loader does); faults outside every VMA get areas of their own; threads
// become vCPUs in order of their first fault; times between faults are kept; kernel addresses are
// dropped; a malformed perf script line is one BAD_INPUT line naming file and line. The converted
// trace replays verified in both engines.
// Method: perf script text in the exact shape perf 6.1 prints (copied from a real `sort` recording,
// addresses shortened), converted with `trace import`'s function, then read back and run.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { simulate } from '../src/index.js';
import { convertPerfScript } from '../src/trace/convert.js';
import { parsePerfLine } from '../src/trace/perf-script.js';
import { VmaLayout } from '../src/trace/vma-layout.js';

const dir = mkdtempSync(join(tmpdir(), 'pcs-perf-'));

const PERF = `
            sort 100/100  1000.000010: PERF_RECORD_MMAP2 100/100: [0x7ffd00000000(0x21000) @ 0x7ffffffde000 00:00 0 0]: rw-p [stack]
            sort 100/100  1000.000020: PERF_RECORD_MMAP2 100/100: [0x555500000000(0x10000) @ 0 fe:00 260879 0]: r--p /usr/bin/sort
            sort 100/100  1000.000030: PERF_RECORD_MMAP2 100/100: [0x555500003000(0x4000) @ 0x3000 fe:00 260879 0]: r-xp /usr/bin/sort
            sort 100/100  1000.000040: page-faults:     555500003010
            sort 100/100  1000.000050: PERF_RECORD_MMAP2 100/100: [0x7f0000000000(0x100000) @ 0x7f0000000000 00:00 0 0]: rw-p //anon
            sort 100/100  1000.000060: page-faults:     7f0000000000
            sort 100/100  1000.000065: page-faults:     ffffffff81775dda
            sort 100/100  1000.000070: page-faults:     7f0000005008
            sort 100/102  1000.000075: PERF_RECORD_COMM: sort:102/102
            sort 100/102  1000.000080: page-faults:     7f0000003000
            sort 100/100  1000.000090: page-faults:     7ffd00020ff8
            sort 100/100  1000.000100: page-faults:     7ffcfffff000
            sort 100/102  1000.000110: page-faults:     555500000040
`;

function perfFile(text: string): string {
  const f = join(dir, `perf-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(f, text);
  return f;
}

describe('perf script lines', () => {
  it('parses samples and maps, skips other records, rejects anything else', () => {
    expect(parsePerfLine('  sort 100/102  1000.000080: page-faults:     7f0000003000')).toEqual({
      kind: 'sample',
      pid: 100,
      tid: 102,
      timeUs: 1000000080,
      addr: 0x7f0000003000,
    });
    expect(parsePerfLine('py 7/7 5.25: 1 page-faults:u: 1000 foo+0x1 (/x)')).toMatchObject({ kind: 'sample', addr: 0x1000, timeUs: 5250000 });
    expect(parsePerfLine('sort 1/1 2.0: PERF_RECORD_MMAP2 1/1: [0x1000(0x2000) @ 0 00:00 0 0]: r-xp /bin/x y')).toEqual({
      kind: 'mmap',
      pid: 1,
      start: 0x1000,
      bytes: 0x2000,
      prot: 'r-xp',
      name: '/bin/x y',
    });
    expect(parsePerfLine('swapper 0/0 0.0: PERF_RECORD_MMAP -1/0: [0xffffffff81000000(0x1277288) @ 0xffffffff81000000]: x [kernel.kallsyms]_text')).toEqual({
      kind: 'skip',
    });
    expect(parsePerfLine('sort 1/1 2.0: cycles: 1000')).toEqual({ kind: 'skip' });
    expect(parsePerfLine('# a perf header line')).toEqual({ kind: 'skip' });
    // The default perf script output has no pid/tid pair and shows the ip, not the data address.
    expect(parsePerfLine('sort 32461  1225.975522:  1 page-faults:  ffffffff81775dda elf_load+0x28a ([kernel.kallsyms])')).toMatch(/^not a perf script line/);
  });
});

describe('the layout', () => {
  it('packs touched extents in address order, keeps the gaps inside, lets a later map win', () => {
    const l = new VmaLayout();
    l.addVma(1, 0x10000, 0x10000, 'r--p', '/bin/a');
    l.addVma(1, 0x13000, 0x2000, 'r-xp', '/bin/a'); // the loader's text segment over the whole-file map
    for (const a of [0x10000, 0x13100, 0x14000, 0x1f000, 0x900000]) l.touch(1, a);
    l.pack();
    expect(l.areas().map((a) => [a.gpa, a.firstPage, a.lastPage, a.prot])).toEqual([
      [0x0, 0x10, 0x10, 'r--p'],
      [0x1000, 0x13, 0x14, 'r-xp'],
      [0x3000, 0x1f, 0x1f, 'r--p'],
      [0x4000, 0x900, 0x900, 'rw-p'],
    ]);
    expect(VmaLayout.gpaIn(l.areaOf(1, 0x14010)!, 0x14010)).toBe(0x2010);
    expect(l.memoryBytes).toBe(0x5000);
  });
});

describe('convert', () => {
  it('writes a v2 trace: areas, threads as vCPUs, relative times, R/W/X by mapping', async () => {
    const out = join(dir, 'sort.trace.gz');
    const r = await convertPerfScript(perfFile(PERF), out, 'perf record -- sort');
    expect(r).toMatchObject({ accesses: 7, vcpus: 2, droppedKernel: 1, durationUs: 70, memoryBytes: 0xa000 });
    const text = gunzipSync(readFileSync(out)).toString('utf8');
    const lines = text.split('\n');
    expect(lines.slice(0, 5)).toEqual([
      '# postcopy-sim trace v2',
      '# source: perf record -- sort',
      '# page-size: 4096',
      '# vcpus: 2',
      `# memory: ${r.memoryBytes}`,
    ]);
    const accesses = lines.filter((l) => l && !l.startsWith('#'));
    // sort text: 1 page at 0; the anon area: pages 0..5 of it; the stack: its top page, and one below the map.
    expect(accesses).toEqual([
      '0.000 0 X 0x1010',
      '20.000 0 W 0x2000',
      '30.000 0 W 0x7008',
      '40.000 1 W 0x5000',
      '50.000 0 W 0x9ff8',
      '60.000 0 W 0x8000',
      '70.000 1 R 0x40',
    ]);
    expect(text).toContain('# area: 0x1000 0x1000 r-xp /usr/bin/sort\n');
    expect(text).toContain('# area: 0x8000 0x1000 rw-p [unmapped]\n');
  });
  it('a malformed line is one line naming the file and line', async () => {
    const f = perfFile(`${PERF}this is not perf output\n`);
    await expect(convertPerfScript(f, join(dir, 'x.trace'), 's')).rejects.toThrow(new RegExp(`^perf script ${f}:15: not a perf script line`));
  });
  it('the converted trace replays, verified, in both engines', async () => {
    const out = join(dir, 'replay.trace');
    await convertPerfScript(perfFile(PERF), out, 'perf record -- sort');
    for (const engine of ['threads', 'virtual'] as const) {
      const r = await simulate({ workload: 'trace', trace: out, engine, network: 'none' });
      expect(r.verified).toBe(true);
      expect(r.vcpus).toBe(2);
      expect(r.accesses).toBe(7);
      expect(r.faultsByFlags).toEqual({ read: 1, write: 5, exec: 1 });
    }
  });
});

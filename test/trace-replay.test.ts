// Goal: both engines replay a trace with its recorded timing, scaled by --trace-time-scale, or as
// fast as the guest can go with --trace-timing asap; and both make the same decisions on the
// regions workload.
// Method: a tiny v2 trace whose accesses are milliseconds apart, run with network none (no link,
// so nothing but the recorded gaps makes time pass). Time is only asserted in the virtual engine,
// where it is virtual and exact; the threaded engine must replay it verified in every mode.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulate, type OptionsInput, type RunResult } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'pcs-replay-'));
const trace = join(dir, 'slow.trace');
// vCPU 0 touches three pages 1 ms and 2 ms apart; vCPU 1 starts 2.5 ms in.
writeFileSync(
  trace,
  '# postcopy-sim trace v2\n# source: test\n# page-size: 4096\n# vcpus: 2\n# memory: 65536\n' +
    '0 0 R 0x0\n1000 0 W 0x1000\n2500 1 R 0x2000\n3000 0 R 0x3000\n',
);

const run = (o: OptionsInput) => simulate({ workload: 'trace', trace, network: 'none', ...o });

describe('recorded timing', () => {
  it('virtual: guest time spans the recorded 3 ms, twice that at scale 2, far less with asap', async () => {
    const recorded = await run({ engine: 'virtual' });
    const slow = await run({ engine: 'virtual', traceTimeScale: 2 });
    const asap = await run({ engine: 'virtual', traceTiming: 'asap' });
    for (const r of [recorded, slow, asap]) expect(r.verified).toBe(true);
    expect(recorded.guestMs).toBeGreaterThanOrEqual(3);
    expect(recorded.guestMs).toBeLessThan(3.5);
    expect(slow.guestMs).toBeGreaterThanOrEqual(6);
    expect(slow.guestMs).toBeLessThan(6.5);
    expect(asap.guestMs).toBeLessThan(0.5);
  });
  it('threads: replays verified with recorded, scaled and asap timing', async () => {
    for (const o of [{}, { traceTimeScale: 0.5 }, { traceTiming: 'asap' as const }]) {
      const r: RunResult = await run({ engine: 'threads', ...o });
      expect(r.verified).toBe(true);
      expect(r.accesses).toBe(4);
      expect(r.faults).toBe(4);
    }
  });
});

describe('regions in both engines', () => {
  it('one vCPU, network none, fixed accesses: the same faults, split the same way', async () => {
    const o: OptionsInput = { workload: 'regions', vcpus: 1, memory: '16MiB', network: 'none', accesses: 20000, seed: 5 };
    const [t, v] = [await simulate({ ...o, engine: 'threads' }), await simulate({ ...o, engine: 'virtual' })];
    expect(t.verified && v.verified).toBe(true);
    expect(v.faults).toBe(t.faults);
    expect(v.faultsByFlags).toEqual(t.faultsByFlags);
    expect(t.faults).toBeGreaterThan(100);
  });
});

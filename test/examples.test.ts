// Goal: the shipped example scenarios and traces stay valid as options evolve, and the traces
// recorded from real programs (examples/traces/) replay, verified, in both engines.
// Method: resolve every scenario; spool the hand-written v1 trace; replay each recorded trace with
// its recorded timing in the threaded and the virtual engine and check the run proved itself.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readScenario } from '../src/cli/args.js';
import { simulate } from '../src/index.js';
import { prepareTrace } from '../src/trace/replay.js';
import { resolveOptions } from '../src/options.js';
import { traceStats } from '../src/trace/stats.js';
import { UNDILATED } from './helpers/dilation.js';

const dir = join(import.meta.dirname, '..', 'examples');

it.each(readdirSync(dir).filter((f) => f.endsWith('.json')))('%s resolves', (f) => {
  const o = resolveOptions(readScenario(join(dir, f)) as never);
  expect(o.pages).toBeGreaterThan(0);
});

it('the hand-written v1 trace spools', async () => {
  const o = await prepareTrace(resolveOptions({ workload: 'trace', trace: join(dir, 'trace.txt'), vcpus: 2, memory: '4MiB' }));
  expect(o.traceSpool!.vcpus.map((x) => x.length)).toEqual([4, 4]);
});

const traces = readdirSync(join(dir, 'traces')).filter((f) => f.endsWith('.trace.gz'));

describe('recorded traces', () => {
  it('there are at least three, each well under 1 MB', async () => {
    expect(traces.length).toBeGreaterThanOrEqual(3);
    for (const f of traces) {
      const s = await traceStats(join(dir, 'traces', f));
      expect(s.header.version).toBe(2);
      expect(s.header.source).toMatch(/^perf record -e page-faults -c 1 -d -- /);
      expect(s.locality.firstTouches).toBeGreaterThan(1000);
    }
  });
  it.each(traces)('%s replays verified in both engines', async (f) => {
    // The first trace runs time-dilated (the trace's access probe, paced replay) at a fixed D=4:
    // auto's fault and pipeline probes are test/dilation.test.ts's, and cost this test ~30 s. The
    // rest run undilated, which replays the same accesses in a fraction of the wall time.
    const timeDilation = f === traces[0] ? 4 : UNDILATED;
    for (const engine of ['threads', 'virtual'] as const) {
      const r = await simulate({ workload: 'trace', trace: join(dir, 'traces', f), engine, ...(engine === 'threads' ? { timeDilation } : {}) });
      if (engine === 'threads') expect(r.dilation.accessUs > 0).toBe(timeDilation > 1); // paced only when dilated
      expect(r.verifyErrors).toEqual([]);
      expect(r.verified).toBe(true);
      expect(r.accesses).toBeGreaterThan(1000);
    }
  });
});

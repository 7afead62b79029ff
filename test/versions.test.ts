// Goal: versioned pages make a stale page visible to the proof. The guest's precopy writes change
// the source's pages (each write raises the page's version, and the image is keyed by it), and every
// guest read and the end-of-run check compare against the version the guest must see. Each bug the
// old proof could not see is injected and must be caught: a resend skipped, a discard lost, an old
// version installed over a newer one; the same run without the bug verifies.
// Method: hybrid on the threaded engine, undilated (correctness does not depend on time), a
// partitioned sequential guest that writes half its accesses: its precopy writes move forward
// through memory, so a page written in round 0 (resent in round 1) is not written again before the
// switch, and a bug on it is not hidden by a later discard. The model's dirtying is unit-tested too.
import { describe, expect, it } from 'vitest';
import { simulate, type OptionsInput } from '../src/index.js';
import { PrecopyRounds } from '../src/model/precopy.js';
import { resolveOptions } from '../src/options.js';
import { AccessStream, vcpuRange } from '../src/model/workload.js';

/** The model's precopy reads no trace in these runs. */
const noTrace = () => null;

const HYBRID: OptionsInput = {
  strategy: 'hybrid', vcpus: 2, memory: '32MiB', workload: 'sequential', writeRatio: 0.5, partition: true, dirtyRate: '16MiB',
  precopyRounds: 2, bandwidth: '1Gbit', timeDilation: 1, accesses: 20_000, seed: 3,
};

describe('the proof sees stale pages', () => {
  it('without a bug, a hybrid run with resends and discards verifies', async () => {
    const r = await simulate(HYBRID);
    expect(r.verifyErrors).toEqual([]);
    expect(r.pagesResent).toBeGreaterThan(0);
    expect(r.pagesDiscarded).toBeGreaterThan(0);
  });
  it.each([
    ['skip-resend'],
    ['lose-discard'],
    ['install-old-version'],
  ] as const)('%s is caught', async (injectBug) => {
    const r = await simulate({ ...HYBRID, injectBug });
    expect(r.verified).toBe(false);
    expect(r.verifyErrors.join('\n')).toMatch(/a stale copy: version \d+, the guest must see version \d+/);
  });
  it('bug injection is refused where there is nothing to break', () => {
    expect(() => resolveOptions({ injectBug: 'lose-discard' })).toThrow(/injectBug: needs strategy hybrid/);
    expect(() => resolveOptions({ ...HYBRID, engine: 'virtual', injectBug: 'skip-resend' } as OptionsInput)).toThrow(/injectBug/);
  });
});

describe('precopy dirties the pages the guest writes', () => {
  it('runs the vCPUs\' own workload: only pages the workload writes, at the dirty rate', () => {
    const opts = resolveOptions({ vcpus: 2, memory: '16MiB', workload: 'zipf', writeRatio: 0.3, dirtyRate: '4MiB', seed: 4 });
    const rounds = new PrecopyRounds(opts, noTrace);
    rounds.versions = new Uint8Array(opts.pages);
    const dirty = rounds.dirtied(250_000); // 4 MiB/s for 0.25 s: 256 page writes
    // The same streams the vCPUs build: the set of pages they write in their first accesses.
    const written = new Set<number>();
    for (let v = 0; v < 2; v++) {
      const s = new AccessStream('zipf', vcpuRange(opts, v), opts, v);
      for (let i = 0; i < 2000; i++) { s.next(); if (s.write) written.add(s.page); }
    }
    expect(dirty.length).toBeGreaterThan(20);
    expect(dirty.length).toBeLessThanOrEqual(256);
    for (const p of dirty) expect(written.has(p)).toBe(true);
    for (const p of dirty) expect(rounds.versions[p]).toBe(1);
    expect(rounds.versions.reduce((a, b) => a + b, 0)).toBe(dirty.length);
  });
  it('a guest that never writes dirties nothing', () => {
    const rounds = new PrecopyRounds(resolveOptions({ vcpus: 2, memory: '16MiB', writeRatio: 0, dirtyRate: '1GiB' }), noTrace);
    expect(rounds.dirtied(1_000_000)).toEqual([]);
  });
});

// Goal: versioned pages make a stale page visible to the proof, in both engines. The guest's
// precopy writes change the source's pages (each write raises the page's version, and the image is
// keyed by it), and every guest read and the end-of-run check compare against the version the guest
// must see. Each bug the old proofs could not see is injected into each engine and must be caught: a
// resend skipped, a discard lost, an old version installed over a newer one; the same run without the
// bug verifies. The threaded engine sees it in the page's bytes, the virtual one in the version the
// installed frame carried (src/virtual/frame.ts).
// Method: hybrid on each engine (the threaded one undilated: correctness does not depend on time), a
// partitioned sequential guest that writes half its accesses: its precopy writes move forward
// through memory, so a page written in round 0 (resent in round 1) is not written again before the
// switch, and a bug on it is not hidden by a later discard. The CLI's --inject-bug is checked on the
// issue's virtual run. The model's dirtying is unit-tested too.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { simulate, type OptionsInput } from '../src/index.js';
import { oldCopyPage, PrecopyRounds } from '../src/model/precopy.js';
import { resolveOptions } from '../src/options.js';
import { AccessStream, vcpuRange } from '../src/model/workload.js';

/** The model's precopy reads no trace in these runs. */
const noTrace = () => null;

const HYBRID: OptionsInput = {
  strategy: 'hybrid',
  vcpus: 2,
  memory: '32MiB',
  workload: 'sequential',
  writeRatio: 0.5,
  partition: true,
  dirtyRate: '16MiB',
  precopyRounds: 2,
  bandwidth: '1Gbit',
  accesses: 20_000,
  seed: 3,
};
const ENGINES = {
  threads: { ...HYBRID, engine: 'threads', timeDilation: 1 },
  virtual: { ...HYBRID, engine: 'virtual' },
} as const satisfies Record<string, OptionsInput>;

describe.each(['threads', 'virtual'] as const)("the %s engine's proof sees stale pages", (engine) => {
  it('without a bug, a hybrid run with resends and discards verifies', async () => {
    const r = await simulate(ENGINES[engine]);
    expect(r.engine).toBe(engine);
    expect(r.verifyErrors).toEqual([]);
    expect(r.verified).toBe(true);
    expect(r.pagesResent).toBeGreaterThan(0);
    expect(r.pagesDiscarded).toBeGreaterThan(0);
  });
  it.each([['skip-resend'], ['lose-discard'], ['install-old-version']] as const)('%s is caught', async (injectBug) => {
    const r = await simulate({ ...ENGINES[engine], injectBug });
    expect(r.engine).toBe(engine);
    expect(r.verified).toBe(false);
    expect(r.verifyErrors.join('\n')).toMatch(/a stale copy: version \d+, the guest must see version \d+/);
  });
});

describe('injecting a bug', () => {
  it('is refused where there is nothing to break', () => {
    expect(() => resolveOptions({ injectBug: 'lose-discard' })).toThrow(/injectBug: needs strategy hybrid/);
    expect(() => resolveOptions({ engine: 'virtual', injectBug: 'skip-resend' })).toThrow(/injectBug: needs strategy hybrid/);
  });
  it("on the command line: the issue's virtual hybrid run with a lost discard says not verified (exit 1)", () => {
    const args = ['run', '--engine', 'virtual', '--strategy', 'hybrid', '--memory', '64MiB', '--write-ratio', '0.4', '--dirty-rate', '256MiB', '--json'];
    const cli = (...more: string[]) => spawnSync(process.execPath, ['dist/src/cli/main.js', ...args, ...more], { encoding: 'utf8' });
    const bad = cli('--inject-bug', 'lose-discard');
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout).verified).toBe(false);
    const good = cli();
    expect(good.status).toBe(0);
    expect(JSON.parse(good.stdout).verified).toBe(true);
  });
  it('install-old-version picks, in both engines, the first written page that is not stale', () => {
    const versions = Uint8Array.from([0, 2, 1, 0, 3]);
    expect(oldCopyPage(versions, [1])).toBe(2);
    expect(oldCopyPage(versions, [])).toBe(1);
    expect(oldCopyPage(versions, [1, 2, 4])).toBe(-1);
  });
});

describe('precopy dirties the pages the guest writes', () => {
  it("runs the vCPUs' own workload: only pages the workload writes, at the dirty rate", () => {
    const opts = resolveOptions({ vcpus: 2, memory: '16MiB', workload: 'zipf', writeRatio: 0.3, dirtyRate: '4MiB', seed: 4 });
    const rounds = new PrecopyRounds(opts, noTrace);
    rounds.versions = new Uint8Array(opts.pages);
    const dirty = rounds.dirtied(250_000); // 4 MiB/s for 0.25 s: 256 page writes
    // The same streams the vCPUs build: the set of pages they write in their first accesses.
    const written = new Set<number>();
    for (let v = 0; v < 2; v++) {
      const s = new AccessStream('zipf', vcpuRange(opts, v), opts, v);
      for (let i = 0; i < 2000; i++) {
        s.next();
        if (s.write) written.add(s.page);
      }
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

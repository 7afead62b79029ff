// Goal: the mechanism micro-benchmarks (native/uffd_mech.c via native/mech.ts) build, run and hand
// back every cost in a usable shape on any machine: numbers where the kernel allows, a one-line
// skip reason where cc, userfaultfd or MINOR faults are missing, never a throw or a hang.
// Method: one quick run (short loops, one run, at most 2 contenders) shared by the structural
// checks; the line fit on synthetic points; the skip paths forced with a repo root that has no
// C source and with arguments the program refuses. Assertions on shape, never on a timing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fitLine, measureMechanisms, type MechanismCosts, type Skipped, type Sweep } from '../native/mech.js';

type Outcome = ReturnType<typeof measureMechanisms>;
let outcome: Outcome;

beforeAll(() => {
  outcome = measureMechanisms({ quick: true, runs: 1, maxContenders: 2, maxReaders: 2, maxFillThreads: 2 });
});

function expectOneLineReason(s: Skipped): void {
  expect(s.skipped).toBe(true);
  expect(s.reason.length).toBeGreaterThan(0);
  expect(s.reason).not.toMatch(/\n/);
}

function isSkipped(v: unknown): v is Skipped {
  return typeof v === 'object' && v !== null && (v as Skipped).skipped === true;
}

/** Ascending contender counts starting at `first`, positive finite ns, a finite fitted line. */
function expectSweep(s: Sweep, first: number, last: number): void {
  expect(s.points[0]!.contenders).toBe(first);
  expect(s.points[s.points.length - 1]!.contenders).toBe(last);
  for (let i = 1; i < s.points.length; i++) expect(s.points[i]!.contenders).toBeGreaterThan(s.points[i - 1]!.contenders);
  for (const p of s.points) {
    expect(Number.isFinite(p.ns)).toBe(true);
    expect(p.ns).toBeGreaterThan(0);
    expect(p.nsMin).toBeLessThanOrEqual(p.ns);
    expect(p.nsMax).toBeGreaterThanOrEqual(p.ns);
  }
  expect(Number.isFinite(s.fit.baseNs)).toBe(true);
  expect(Number.isFinite(s.fit.slopeNsPerContender)).toBe(true);
  expect(s.fit.method).toMatch(/least squares/);
}

describe('measureMechanisms (quick run)', () => {
  it('returns costs or one skip reason, and names the host', () => {
    if (isSkipped(outcome)) return expectOneLineReason(outcome);
    const c = outcome as MechanismCosts;
    expect(c.quick).toBe(true);
    expect(c.runs).toBe(1);
    expect(c.host.cpus).toBeGreaterThan(0);
    expect(c.host.cpuModel.length).toBeGreaterThan(0);
    expect(c.host.note).toMatch(/CPU host/);
  });

  it('measures what needs no userfaultfd on every Linux host', () => {
    if (isSkipped(outcome)) return;
    const c = outcome as MechanismCosts;
    // wake and mmaplock use only eventfd, poll and mincore; cacheline needs two CPUs.
    expect(isSkipped(c.wake)).toBe(false);
    expect(isSkipped(c.mmapLock)).toBe(false);
    if (c.host.allowedCpus < 2) expect(isSkipped(c.cacheLine)).toBe(true);
    else expect(isSkipped(c.cacheLine)).toBe(false);
  });

  it('gives every case monotone contender sweeps or a one-line skip reason', () => {
    if (isSkipped(outcome)) return;
    const c = outcome as MechanismCosts;
    const check = <T>(v: T | Skipped, body: (t: T) => void): void => (isSkipped(v) ? expectOneLineReason(v) : body(v as T));
    check(c.wake, (w) => {
      expectSweep(w.writeNsBySleepers, 0, 2);
      expect(typeof w.sleepersOnOtherCpus).toBe('boolean');
    });
    check(c.walk, (w) => expectSweep(w.wakeIoctlNsByWaiters, 0, 2));
    check(c.emptyRead, (e) => {
      expectSweep(e.loopCpuNsByReaders, 1, 2);
      expect(e.pollOnlyNs).toBeGreaterThan(0);
      expect(e.emptyReadOnlyNs).toBeGreaterThan(0);
    });
    for (const fill of [c.copy, c.zeropage, c.continue]) check(fill, (f) => expectSweep(f.nsPerPageByThreads, 1, 2));
    check(c.mmapLock, (m) => expectSweep(m.mincoreCpuNsByThreads, 1, 2));
    check(c.cacheLine, (l) => {
      expectSweep(l.sharedLineNsPerAdd, 1, 2);
      expectSweep(l.ownLineNsPerAdd, 1, 2);
    });
    // wakelat: a wake on one CPU (no IPI) and across two, each a measured number
    check(c.wakeLatency!, (w) => {
      expect(w.eventfdPairNs).toBeGreaterThan(0);
      expect(w.sameCpuWakeNs).toBeGreaterThan(0);
      expect(Number.isFinite(w.otherCpuWakeNs)).toBe(true);
    });
    // writefault: both faults measured, and the write's extra is their difference (the page it allocates)
    check(c.writeFault!, (f) => {
      expect(f.readFaultNs).toBeGreaterThan(0);
      expect(f.writeFaultNs).toBeGreaterThan(0);
      expect(f.writeExtraNs).toBeGreaterThan(0);
    });
  });
});

describe('fitLine', () => {
  it('recovers an exact line and leaves the 0 point out', () => {
    const pt = (contenders: number, ns: number) => ({ contenders, ns, nsMin: ns, nsMax: ns });
    const f = fitLine([pt(0, 1), pt(1, 110), pt(2, 120), pt(4, 140)]);
    expect(f.baseNs).toBeCloseTo(100, 9);
    expect(f.slopeNsPerContender).toBeCloseTo(10, 9);
  });
  it('gives slope 0 for a single contender count', () => {
    const f = fitLine([{ contenders: 1, ns: 50, nsMin: 50, nsMax: 50 }]);
    expect(f).toMatchObject({ baseNs: 50, slopeNsPerContender: 0 });
  });
});

describe('skip paths', () => {
  it('skips with one line when the C source is missing', () => {
    const root = mkdtempSync(join(tmpdir(), 'postcopy-mech-'));
    try {
      writeFileSync(join(root, 'package.json'), '{}');
      const r = measureMechanisms({ quick: true, runs: 1, repoRoot: root });
      expect(isSkipped(r)).toBe(true);
      expectOneLineReason(r as Skipped);
      expect((r as Skipped).reason).toMatch(/not found/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('answers bad arguments with one skip line and exit 2', () => {
    const binary = join('native', 'build', 'uffd_mech');
    if (!existsSync(binary)) return; // no compiler here: the quick run above already skipped
    for (const args of [['nosuch'], ['copy', '9'], ['wake', '0']]) {
      const r = spawnSync(binary, args, { encoding: 'utf8', timeout: 10_000 });
      expect(r.status).toBe(2);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({ skipped: true, reason: 'bad arguments' });
    }
  });
});

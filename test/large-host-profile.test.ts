// Goal: the large-host derivation applies one rule to both sides of a wake, and to every cost of
// a kind: neither side copies this VM's IPI-laden measurement, both are a no-IPI measurement plus
// one cross-socket line transfer, and the shipped profile is what the script derives.
// Method: deriveLargeHost() (scripts/large-host-profile.mjs) on this host's shipped profile and on
// copies with one input changed at a time.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script without types
import { CROSS_SOCKET_LINE_US, deriveLargeHost } from '../scripts/large-host-profile.mjs';

const host = JSON.parse(readFileSync('src/virtual/profiles/this-host.json', 'utf8'));
const derive = (h: unknown) => deriveLargeHost(h).costs as Record<string, number>;
const withCosts = (patch: Record<string, number>) => ({ ...host, costs: { ...host.costs, ...patch } });
const withSameCpuWake = (ns: number) => ({
  ...host,
  measured: {
    ...host.measured,
    kernel: {
      ...host.measured.kernel,
      mechanisms: { ...host.measured.kernel.mechanisms, wakeLatency: { ...host.measured.kernel.mechanisms.wakeLatency, sameCpuWakeNs: ns } },
    },
  },
});

describe('the wake rule', () => {
  it('both sides are a no-IPI measurement plus one line transfer', () => {
    const c = derive(host);
    const wl = host.measured.kernel.mechanisms.wakeLatency;
    const wakerNoIpi = host.costs.ttwuNextUs;
    expect(c.ttwuUs).toBeCloseTo(wakerNoIpi + CROSS_SOCKET_LINE_US, 4);
    expect(c.wakeupUs).toBeCloseTo(wl.sameCpuWakeNs / 1000 - wakerNoIpi + CROSS_SOCKET_LINE_US, 4);
    // the waker's and the woken side's no-IPI parts add up to the whole measured wake on one CPU
    expect(c.ttwuUs + c.wakeupUs - 2 * CROSS_SOCKET_LINE_US).toBeCloseTo(wl.sameCpuWakeNs / 1000, 4);
  });
  it("neither side copies this VM's cross-CPU wake costs (IPI + VM exit)", () => {
    const base = derive(host);
    const moved = derive(withCosts({ ttwuUs: 99, wakeupUs: 99 }));
    expect(moved.ttwuUs).toBe(base.ttwuUs);
    expect(moved.wakeupUs).toBe(base.wakeupUs);
  });
  it('a slower no-IPI wake moves the woken side; a slower further-wake moves the waker and is taken off the woken side', () => {
    const base = derive(host);
    expect(derive(withSameCpuWake(host.measured.kernel.mechanisms.wakeLatency.sameCpuWakeNs + 1000)).wakeupUs).toBeCloseTo(base.wakeupUs + 1, 4);
    const w = derive(withCosts({ ttwuNextUs: host.costs.ttwuNextUs + 1 }));
    expect(w.ttwuUs).toBeCloseTo(base.ttwuUs + 1, 4);
    expect(w.wakeupUs).toBeCloseTo(base.wakeupUs - 1, 4);
  });
  it('refuses a host profile without the no-IPI wake measurement', () => {
    const { wakeLatency: _, ...mech } = host.measured.kernel.mechanisms;
    expect(() => deriveLargeHost({ ...host, measured: { ...host.measured, kernel: { ...host.measured.kernel, mechanisms: mech } } })).toThrow(/wakeLatency/);
  });
});

describe('one rule per kind', () => {
  it('every cross-core line costs the same transfer: lock words, cold wait entries on top of a warm read', () => {
    const c = derive(host);
    expect(c.lineUs).toBe(CROSS_SOCKET_LINE_US);
    expect(c.walkPerWaiterUs).toBeCloseTo(c.walkWarmUs + c.lineUs, 4);
  });
  it('the shipped large-host profile is what the script derives, and every changed cost says where it came from', () => {
    const shipped = JSON.parse(readFileSync('src/virtual/profiles/large-host.json', 'utf8'));
    const p = deriveLargeHost(host);
    expect(shipped.costs).toEqual(p.costs);
    for (const k of Object.keys(p.costs)) if (p.costs[k] !== host.costs[k]) expect(p.sources[k], k).toBeTypeOf('string');
    expect(JSON.stringify(p.sources)).not.toMatch(/fitted/);
  });
});

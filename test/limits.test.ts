// Goal: every extreme input is refused up front (issue 23, "Bounds up front"): one line on stderr
// naming the field, exit code 2, no stack trace and no hang; numbers are decimal; flags an engine
// would ignore are errors; a slowed link has a positive rate and an unlimited one survives JSON;
// the documented limits are the enforced ones.
// Method: each input of the list through the CLI as a child process (a hang fails on the
// spawn's timeout, no wall time is asserted); the options API for the round trip; the docs'
// generator in --check mode; the virtual table check with a small room.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { LIMITS, checkLimits } from '../src/limits.js';
import { resolveOptions } from '../src/options.js';
import { checkTablesFit, virtualTableBytes } from '../src/virtual/tables.js';

const cli = (...args: string[]) => spawnSync(process.execPath, ['dist/src/cli/main.js', ...args], { encoding: 'utf8', timeout: 30_000 });

describe('extreme inputs: one line naming the field, exit 2', () => {
  it.each([
    [['run', '--memory', '100000TiB'], 'memory'],
    [['run', '--engine', 'virtual', '--memory', '64TiB'], 'memory'],
    [['run', '--engine', 'virtual', '--memory', '1TiB'], 'memory'],
    [['run', '--latency', '1000000s'], 'latency'],
    // the longest latency allowed, on the threaded engine: its wire ring would hold 10 s of a 10 Gbit/s link
    [['run', '--latency', '10s'], 'latency'],
    [['run', '--bandwidth', '1'], 'bandwidth'],
    [['run', '--engine', 'virtual', '--bandwidth', '1bit'], 'bandwidth'],
    [['run', '--accesses', String(2 ** 53 - 1)], 'accesses'],
    [['run', '--send-buffer', '0'], 'sendBuffer'],
    [['run', '--send-buffer', '4KiB'], 'sendBuffer'],
    [['run', '--msg-overhead', '1TiB'], 'msgOverhead'],
    [['run', '--dirty-rate', '1TiB', '--strategy', 'hybrid'], 'dirtyRate'],
    [['run', '--watchdog', '0'], 'watchdog'],
    [['run', '--inject', 'bandwidth@10ms+5ms:0'], 'inject.0'],
    [['run', '--inject', 'bandwidth@10ms+5ms:1bit'], 'inject.0'],
    [['run', '--vcpus', '0x2'], 'vcpus'],
    [['run', '--seed', '0x10'], 'seed'],
    [['run', '--write-ratio', ''], 'writeRatio'],
    [['run', '--engine', 'virtual', '--time-dilation', '2'], 'timeDilation'],
    [['run', '--engine', 'virtual', '--watchdog', '1s'], 'watchdog'],
    [['run', '--profile', 'large-host'], 'profile'],
  ])('%j', (args, field) => {
    const r = cli(...args);
    expect(r.error).toBeUndefined(); // no hang: the spawn's timeout did not fire
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^postcopy-sim: error: ${field.replace('.', '\\.')}: [^\\n]+\\n$`));
    expect(r.stdout).toBe('');
  });
});

describe('the bounds themselves', () => {
  it('each documented maximum is accepted and one past it refused, naming the field', () => {
    for (const l of LIMITS) {
      expect(() => checkLimits({ [l.field]: l.max })).not.toThrow();
      expect(() => checkLimits({ [l.field]: l.max * 2 + 1 })).toThrow(new RegExp(`^${l.field}: must be`));
      if (l.min !== undefined && l.min > 0) expect(() => checkLimits({ [l.field]: l.min! / 2 })).toThrow(new RegExp(`^${l.field}: must be`));
    }
  });
  it("an unlimited link is within bounds, and a slowed link's unlimited rate survives JSON", () => {
    expect(resolveOptions({ bandwidth: 'unlimited' }).bandwidthBps).toBe(Infinity);
    const once = resolveOptions({ inject: ['bandwidth@10ms+5ms:unlimited', 'bandwidth@30ms+5ms:20Mbit'] });
    const again = resolveOptions({ inject: JSON.parse(JSON.stringify(once.inject)) });
    expect(again.inject).toEqual(once.inject);
    expect(again.inject[0]!.bandwidthBps).toBe(Infinity);
  });
  it('decimal numbers are still numbers', () => {
    expect(resolveOptions({ vcpus: ' 3 ', writeRatio: '.5', zipfExponent: '1e0' } as never)).toMatchObject({ vcpus: 3, writeRatio: 0.5, zipfExponent: 1 });
  });
  it('the watchdog and the profile default where they apply', () => {
    expect(resolveOptions({}).watchdogUs).toBe(20e6);
    expect(resolveOptions({ engine: 'virtual' }).profile).toBe('this-host');
  });
  it('a virtual guest whose tables do not fit is refused before they are allocated', () => {
    const o = resolveOptions({ engine: 'virtual', memory: '64GiB' });
    expect(virtualTableBytes(o)).toBeGreaterThan(o.pages * 80);
    expect(() => checkTablesFit(o, virtualTableBytes(o) - 1)).toThrow(/^memory: a 64GiB guest at 4KiB pages needs .* of tables/);
    expect(() => checkTablesFit(o, virtualTableBytes(o))).not.toThrow();
  });
  it("docs/cli.md's limits table is the one in the code (written by scripts/cli-limits.mjs)", () => {
    const r = spawnSync(process.execPath, ['scripts/cli-limits.mjs', '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

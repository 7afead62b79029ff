// Goal: the page-state table and installPage behave like the stage-2 table and UFFDIO_COPY:
// copy-then-publish, EEXIST on a present page, waiters woken; memslot translation finds holes.
import { describe, expect, it } from 'vitest';
import { allocateMemslots, EEXIST, GuestMemory, INSTALLED } from '../src/threads/guest-memory.js';
import { PAGE_MISSING, PAGE_PRESENT, PAGE_REQUESTED } from '../src/threads/layout.js';
import { resolveOptions } from '../src/options.js';

function memory(o = {}) {
  const opts = resolveOptions({ memory: '64KiB', vcpus: 1, ...o });
  return new GuestMemory(opts, new SharedArrayBuffer(opts.pages * 4), allocateMemslots(opts));
}

describe('GuestMemory', () => {
  it('installs a page whole and refuses a second copy (EEXIST)', () => {
    const mem = memory();
    const src = Int32Array.from({ length: 1024 }, (_, i) => i + 1);
    expect(mem.markRequested(3)).toBe(true);
    expect(mem.markRequested(3)).toBe(false);
    expect(mem.state(3)).toBe(PAGE_REQUESTED);
    expect(mem.installPage(3, src)).toBe(INSTALLED);
    expect(mem.state(3)).toBe(PAGE_PRESENT);
    expect(mem.slotWords[0]![3 * 1024 + 1023]).toBe(1024);
    // A late duplicate must not overwrite what the guest wrote since.
    mem.slotWords[0]![3 * 1024 + 5] = -7;
    expect(mem.installPage(3, new Int32Array(1024))).toBe(EEXIST);
    expect(mem.slotWords[0]![3 * 1024 + 5]).toBe(-7);
    expect(mem.state(4)).toBe(PAGE_MISSING);
  });

  it('a zero page becomes present without a payload', () => {
    const mem = memory();
    expect(mem.installPage(0, null)).toBe(INSTALLED);
    expect(mem.isPresent(0)).toBe(true);
  });

  it('translates gpas through memslots and reports holes', () => {
    const mem = memory({
      memslots: [
        { base: 0, size: '16KiB' },
        { base: '1MiB', size: '8KiB' },
      ],
    });
    expect(mem.pages).toBe(6);
    expect(mem.pageOfGpa(0x2000)).toBe(2);
    expect(mem.pageOfGpa(0x100000)).toBe(4);
    expect(mem.gpaOfPage(5)).toBe(0x101000);
    expect(mem.pageOfGpa(0x8000)).toBe(-1);
    expect(() => mem.pageOfGpaOrThrow(0x8000, 2)).toThrow(/vCPU 2 accessed gpa 0x8000, which is outside every memslot/);
    expect(mem.slotOfPage(5)).toBe(1);
  });
});

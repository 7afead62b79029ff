// Goal: the wire ring delivers frames in order with their fields, page bytes and arrival time,
// refuses frames it has no room for, and stays right across its wraps, including the wrap of its
// 32-bit positions after 4 GiB have passed (the bug that killed guests over 4 GiB); the source's
// SIMD derivation into a ring's slot writes exactly the model's page.
// Method: one thread plays writer and reader; frames carry their sequence number in every field and
// payload word, so a frame read at the wrong offset or out of order shows. The 2^32 test starts
// every position just below 2^32 and pushes frames across it.
import { expect, it } from 'vitest';
import { allocateWire, pow2AtLeast, slotWrap, WireRing, wireLayout } from '../src/threads/wire.js';
import { PageDeriver } from '../src/threads/page-deriver.js';
import { SourceImage } from '../src/model/image.js';
import { pageKey } from '../src/model/rng.js';

const SLOT_BYTES = 4096;

/** Writes frame `i` (every third without a page), reading everything when full; returns frames read. */
function pump(ring: WireRing, frames: number, startRead = 0): number {
  let nextRead = startRead;
  const drain = () => {
    for (let t = ring.peek(); t >= 0; t = ring.peek()) {
      const n = nextRead++;
      expect([t, ring.kind, ring.a, ring.b, ring.c]).toEqual([n * 1.5, 2, n, n ^ 0x55, -n | 0]);
      if (n % 3 === 0) expect(ring.payloadView()).toBeNull();
      else {
        const view = ring.payloadView()!;
        expect(view.length).toBe(SLOT_BYTES / 4);
        expect([view[0], view[1023]]).toEqual([n, ~n]);
        expect(ring.payload[ring.payloadWordAt + 1023]).toBe(~n);
      }
      ring.consume();
    }
    ring.release();
  };
  for (let i = startRead; i < startRead + frames; i++) {
    let at = ring.reserve(2, i, i ^ 0x55, -i, i % 3 !== 0, i * 1.5);
    if (at < 0) {
      ring.publish();
      drain();
      at = ring.reserve(2, i, i ^ 0x55, -i, i % 3 !== 0, i * 1.5);
    }
    expect(at).toBeGreaterThanOrEqual(0);
    if (i % 3 !== 0) {
      ring.payload[at] = i;
      ring.payload[at + 1023] = ~i;
    }
    if (i % 7 === 0) ring.publish();
  }
  ring.publish();
  drain();
  return nextRead - startRead;
}

it('round-trips frames in order with their page bytes, across many wraps of both areas', () => {
  const ring = new WireRing(allocateWire({ recordBytes: 1024, slots: 4, slotBytes: SLOT_BYTES }));
  expect(pump(ring, 2000)).toBe(2000);
  expect(ring.used()).toBe(0);
});

it('keeps every frame right across the 2^32 wrap of its positions', () => {
  // Just below 2^32: the record positions cross it after a few hundred frames, the slot positions later.
  const start = 2 ** 32 - 704; // records are 8-byte aligned, so positions are multiples of 8
  const ring = new WireRing(allocateWire({ recordBytes: 4096, slots: 8, slotBytes: SLOT_BYTES }, start));
  expect(pump(ring, 3000)).toBe(3000);
  // Slot positions wrap at slotWrap(slots), a multiple of the slot count: start just below it, with a
  // slot count that is no power of two.
  const slots = new WireRing(allocateWire({ recordBytes: 4096, slots: 6, slotBytes: SLOT_BYTES }, 2 ** 32 - 704, slotWrap(6) - 5));
  expect(pump(slots, 100)).toBe(100);
});

it('sizes the record area as a power of two (a 32-bit position maps to the same offset across its wrap), the slots as needed', () => {
  const l = wireLayout(4 * 1024 * 1024 + 62_500 + 8 * SLOT_BYTES, SLOT_BYTES);
  expect(l.slots).toBe(Math.ceil((4 * 1024 * 1024 + 62_500 + 8 * SLOT_BYTES) / SLOT_BYTES));
  expect(l.recordBytes).toBe(pow2AtLeast(l.recordBytes));
  expect(slotWrap(l.slots) % l.slots).toBe(0);
  expect(() => allocateWire({ recordBytes: 3000, slots: 4, slotBytes: SLOT_BYTES })).toThrow(/power of two/);
});

it('reserve/publish: a frame is invisible until published', () => {
  const ring = new WireRing(allocateWire(wireLayout(16 * SLOT_BYTES, SLOT_BYTES)));
  const at = ring.reserve(2, 7, 0, 0, true, 3);
  expect(at).toBeGreaterThanOrEqual(0);
  expect(ring.peek()).toBe(-1);
  ring.payload[at] = 42;
  ring.publish();
  expect(ring.peek()).toBe(3);
  expect(ring.payloadView()![0]).toBe(42);
});

it('a full slot area refuses a page but still takes a frame without one', () => {
  const ring = new WireRing(allocateWire({ recordBytes: 4096, slots: 2, slotBytes: SLOT_BYTES }));
  expect(ring.reserve(2, 0, 0, 0, true, 0)).toBeGreaterThanOrEqual(0);
  expect(ring.reserve(2, 1, 0, 0, true, 0)).toBeGreaterThanOrEqual(0);
  expect(ring.reserve(2, 2, 0, 0, true, 0)).toBe(-1);
  expect(ring.write(3, 1, 0, 0, 0, [5, 6, 7], 3)).toBe(true);
  expect(ring.peek()).toBe(0);
  ring.consume();
  ring.peek();
  ring.consume();
  expect(ring.peek()).toBe(0);
  expect([ring.kind, ring.extraWords, ring.rec[ring.extraAt + 2]]).toEqual([3, 3, 7]);
});

it('rejects a record larger than half the record area', () => {
  const ring = new WireRing(allocateWire({ recordBytes: 1024, slots: 0, slotBytes: 0 }));
  expect(() => ring.write(3, 0, 0, 0, 0, new Int32Array(200), 200)).toThrow(/does not fit/);
});

it.each([[4096], [2 * 1024 * 1024]])('derives a %i-byte page into a slot exactly as the model derives it', (pageSize) => {
  const memory = allocateWire(wireLayout(4 * pageSize, pageSize)) as WebAssembly.Memory;
  const ring = new WireRing(memory);
  const deriver = PageDeriver.create(memory, ring)!;
  expect(deriver).not.toBeNull();
  const image = new SourceImage(9, pageSize, 0);
  const want = new Int32Array(pageSize / 4);
  for (const [page, version] of [
    [0, 0],
    [12345, 0],
    [12345, 3],
  ] as const) {
    const at = ring.reserve(2, page, 0, version, true, 0);
    deriver.fill(pageKey(9, page, version), at);
    image.fillPage(page, want, 0, version);
    expect(ring.payload.subarray(at, at + want.length)).toEqual(want);
  }
});

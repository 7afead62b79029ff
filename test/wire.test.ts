// Goal: the wire ring delivers frames in order with their header, aligned payload and arrival time,
// refuses frames it has no room for, and survives wrap-around.
import { expect, it } from 'vitest';
import { WireRing, wireBytes } from '../src/threads/wire.js';

const header = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff);

it('round-trips frames in order, payload 8-byte aligned, across many wraps', () => {
  const ring = new WireRing(new SharedArrayBuffer(wireBytes(4096 + 512)));
  const payload = new Int32Array(256);
  let nextRead = 0;
  for (let i = 0; i < 500; i++) {
    payload.fill(i);
    const h = header(1 + (i % 13));
    if (!ring.write(h, i % 3 === 0 ? null : payload, i * 1.5)) {
      // Full: drain everything, then the write must succeed.
      for (let t = ring.peek(); t >= 0; t = ring.peek()) {
        expect(t).toBe(nextRead * 1.5);
        expect([...ring.header()]).toEqual([...header(1 + (nextRead % 13))]);
        expect((ring.payloadWordAt * 4) % 8).toBe(0);
        if (nextRead % 3 === 0) expect(ring.payloadBytes).toBe(0);
        else { expect(ring.payloadBytes).toBe(1024); expect(ring.words[ring.payloadWordAt + 255]).toBe(nextRead); }
        ring.consume();
        nextRead++;
      }
      expect(ring.write(h, i % 3 === 0 ? null : payload, i * 1.5)).toBe(true);
    }
  }
  for (let t = ring.peek(); t >= 0; t = ring.peek()) { ring.consume(); nextRead++; }
  expect(nextRead).toBe(500);
  expect(ring.used()).toBe(0);
});

it('reserve/publish: a frame is invisible until published', () => {
  const ring = new WireRing(new SharedArrayBuffer(wireBytes(1 << 16)));
  const at = ring.reserve(header(4), 16, 3);
  expect(at).toBeGreaterThan(0);
  expect(ring.peek()).toBe(-1);
  ring.words[at] = 42;
  ring.publish();
  expect(ring.peek()).toBe(3);
  expect(ring.words[ring.payloadWordAt]).toBe(42);
});

it('rejects a frame larger than half the ring', () => {
  const ring = new WireRing(new SharedArrayBuffer(wireBytes(1024)));
  expect(() => ring.write(header(4), new Int32Array(200), 0)).toThrow(/does not fit/);
});

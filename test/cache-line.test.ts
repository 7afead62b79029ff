// Goal: a modelled cache line charges what coherence charges: nothing for a warm re-read or a
// re-write by its sole owner, one transfer when another core writes it, transfers on one line one
// after the other, and more per transfer when more cores ask for the line at once.
// Method: CacheLine and Serial (src/virtual/cache-line.ts, src/virtual/kernel.ts) driven by hand
// with powers of two, so every time is exact.
import { describe, expect, it } from 'vitest';
import { CacheLine, transferUs } from '../src/virtual/cache-line.js';
import { Serial } from '../src/virtual/kernel.js';

const FLAT = { lineUs: 1, lineGrowth: 0 };
const GROWING = { lineUs: 1, lineGrowth: 0.5 };

describe('line ownership', () => {
  it('a warm re-read costs nothing; the first read is a transfer', () => {
    const l = new CacheLine('entry');
    l.write(0, 0, FLAT); // its vCPU wrote it
    expect(l.read(1, 10, FLAT)).toBe(11); // the walker pulls it over
    expect(l.read(1, 20, FLAT)).toBe(20); // and hits on it next time
    expect(l.hits).toBe(1);
  });
  it('a write by another core invalidates the readers: the next read is a transfer again', () => {
    const l = new CacheLine('entry');
    l.read(1, 0, FLAT);
    l.write(0, 10, FLAT);
    expect(l.read(1, 20, FLAT)).toBe(21);
  });
  it('a write from another core costs a transfer; a re-write by the sole owner is free', () => {
    const l = new CacheLine('count');
    expect(l.write(0, 0, FLAT)).toBe(1);
    expect(l.write(0, 5, FLAT)).toBe(5);
    expect(l.write(1, 5, FLAT)).toBe(6);
    expect(l.transfers).toBe(2);
  });
  it('an owner that others read since must take the line back (invalidate them)', () => {
    const l = new CacheLine('count');
    l.write(0, 0, FLAT);
    l.read(1, 10, FLAT);
    expect(l.write(0, 20, FLAT)).toBe(21);
  });
  it('transfers on one line are serialised', () => {
    const l = new CacheLine('count');
    expect(l.write(0, 0, FLAT)).toBe(1);
    expect(l.write(1, 0, FLAT)).toBe(2);
    expect(l.write(2, 0, FLAT)).toBe(3);
  });
});

describe('transfer cost grows with contenders', () => {
  it('is the base with one requester, linear in the others', () => {
    expect(transferUs(GROWING, 1)).toBe(1);
    expect(transferUs(GROWING, 2)).toBe(1.5);
    expect(transferUs(GROWING, 5)).toBe(3);
    expect(transferUs(FLAT, 256)).toBe(1);
  });
  it('more cores asking at once cost more per transfer', () => {
    const alone = new CacheLine('a'),
      crowd = new CacheLine('b');
    alone.write(0, 0, GROWING);
    const one = alone.write(1, 100, GROWING) - 100; // nobody else in flight: 1
    for (let i = 0; i < 4; i++) crowd.write(i, 0, GROWING); // 4 requests at once: 1, 1.5, 2, 2.5
    const last = crowd.write(4, 0, GROWING); // the fifth waits for 7 us, then pays 3
    expect(one).toBe(1);
    expect(last).toBe(1 + 1.5 + 2 + 2.5 + 3);
    expect(crowd.peakContenders).toBe(5);
  });
  it('a lock word counts the sections queued on it as contenders', () => {
    const s = new Serial('fd_wqh');
    expect(s.take(0, 0, 4, GROWING)).toBe(5); // transfer 1, hold 4
    expect(s.take(1, 0, 4, GROWING)).toBe(10.5); // queued behind one section: waits to 5, 1.5, hold 4
    expect(s.take(1, 20, 4, GROWING)).toBe(24); // still its own: no transfer
    expect(s.take(0, 100, 4, GROWING)).toBe(105); // nobody queued any more: the base
  });
  it("a queued spinlock's word has at most 2 requesters (the head waiter spins on it, the rest on their MCS nodes)", () => {
    const s = new Serial('fd_wqh');
    let end = 0;
    for (let i = 0; i < 6; i++) end = s.take(i, 0, 4, GROWING);
    // 1 + 4, then five hand-overs each at the k = 2 price (1.5), never more: 5 + 5 x 5.5
    expect(end).toBe(5 + 5 * 5.5);
  });
  it('an atomic counter has no spinning readers: a transfer costs the base however many queue', () => {
    const s = new Serial('mm_users');
    let end = 0;
    for (let i = 0; i < 6; i++) end = s.line(i, 0, 2, GROWING);
    expect(end).toBe(6 * 2);
  });
});

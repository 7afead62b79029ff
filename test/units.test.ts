// Goal: the unit parsers accept what users type and reject the rest with a message naming the value.
import { describe, expect, it } from 'vitest';
import { formatBytes, parseDuration, parseRate, parseSize } from '../src/units.js';

describe('parseSize', () => {
  it.each([
    ['4096', 4096],
    ['4KiB', 4096],
    ['2MiB', 2 ** 21],
    ['1GiB', 2 ** 30],
    ['64M', 64 * 2 ** 20],
    ['1.5GiB', 1.5 * 2 ** 30],
    ['1kb', 1000],
  ])('%s', (text, bytes) => expect(parseSize(text)).toBe(bytes));
  it.each(['-1', 'abc', '1.5B', '12 parsecs', ''])('rejects %s', (text) => expect(() => parseSize(text)).toThrow(RangeError));
});

describe('parseRate', () => {
  it('reads bits per second', () => {
    expect(parseRate('10Gbit')).toBe(10e9);
    expect(parseRate('25Gbps')).toBe(25e9);
    expect(parseRate('800Mbit')).toBe(800e6);
    expect(parseRate('unlimited')).toBe(Infinity);
    expect(parseRate(0)).toBe(Infinity);
  });
  it('rejects garbage', () => {
    expect(() => parseRate('fast')).toThrow(/not a rate/);
    expect(() => parseRate('10GiB')).toThrow(/unknown rate unit/);
  });
});

describe('parseDuration', () => {
  it('reads microseconds', () => {
    expect(parseDuration('50us')).toBe(50);
    expect(parseDuration('1.5ms')).toBe(1500);
    expect(parseDuration('2s')).toBe(2e6);
    expect(parseDuration('800ns')).toBeCloseTo(0.8);
    expect(parseDuration('7')).toBe(7);
  });
  it('rejects negative or unitless junk', () => expect(() => parseDuration('-5us')).toThrow(/not a duration/));
});

it('formatBytes', () => {
  expect(formatBytes(4096)).toBe('4KiB');
  expect(formatBytes(2 ** 30)).toBe('1GiB');
  expect(formatBytes(1536)).toBe('1.5KiB');
});

/**
 * Parsing of the human units the CLI and scenario files accept: sizes (`256MiB`, `4KiB`, `2M`),
 * link rates (`10Gbit`, `25Gbps` in bits; `1GB/s`, `100MBps`, `1GiB/s` in bytes) and durations (`50us`, `1.5ms`, `2s`).
 * Every parser throws a RangeError whose message says what was wrong; callers prefix the field name.
 */

import { clip } from './errors.js';

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/** Bytes from `4096`, `4KiB`, `2MiB`, `1GiB`, `1.5GiB`. Bare `K/M/G/T` are binary (as in `-b 64M`). */
export function parseSize(text: string | number): number {
  if (typeof text === 'number') return checkWhole(text, text);
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) throw new RangeError(`"${clip(String(text))}" is not a size (try 4KiB, 256MiB, 1GiB)`);
  const unit = SIZE_UNITS[m[2]!.toLowerCase()];
  if (unit === undefined) throw new RangeError(`"${clip(String(text))}" has an unknown size unit "${m[2]}" (use B, KiB, MiB, GiB, TiB)`);
  return checkWhole(Number(m[1]) * unit, text);
}

function checkWhole(bytes: number, text: string | number): number {
  if (!Number.isFinite(bytes) || bytes < 0 || !Number.isInteger(bytes)) {
    throw new RangeError(`"${clip(String(text))}" is not a whole, non-negative number of bytes`);
  }
  return bytes;
}

const PREFIX: Record<string, number> = { '': 0, k: 1, m: 2, g: 3, t: 4 };

/**
 * Multiplier from a rate unit to bits per second. Case matters for the b: `b` is a bit, `B` a byte.
 * Bits: `bit`, `Gbit`, `Gbps`, `Gb/s` (and `Gibit` binary). Bytes: `GBps`, `GB/s`, `GiB/s`, `MiBps`.
 * The prefix letter may be either case (`gbit` = `Gbit`); `bit` may be spelled in any case.
 */
function rateUnit(u: string): number | undefined {
  let m = /^([kmgt]?)(i?)bits?(\/s|ps)?$/i.exec(u);
  let bits = 1;
  if (!m) {
    m = /^([kKmMgGtT]?)(i?)([bB])(\/s|ps)$/.exec(u);
    if (!m) return undefined;
    bits = m[3] === 'B' ? 8 : 1;
  }
  const base = m[2] ? 1024 : 1000;
  if (m[2] && !m[1]) return undefined;
  return bits * base ** PREFIX[m[1]!.toLowerCase()]!;
}

/**
 * Bits per second from `10Gbit`, `25Gbps` (gigabits), `10GBps` or `10GB/s` (gigabytes: 80 Gbit/s),
 * `100MiB/s`; a bare number is bits per second; `0` or `inf`/`unlimited` means an infinitely fast link.
 */
export function parseRate(text: string | number): number {
  if (typeof text === 'number') {
    if (!(text >= 0)) throw new RangeError(`${clip(String(text))} is not a non-negative rate`);
    return text === 0 ? Infinity : text;
  }
  const t = text.trim();
  if (/^(inf|unlimited|0)$/i.test(t)) return Infinity;
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z/]*)$/.exec(t);
  if (!m) throw new RangeError(`"${clip(String(text))}" is not a rate (try 10Gbit, 25Gbps, 1GB/s, or unlimited)`);
  const unit = m[2] ? rateUnit(m[2]) : 1;
  if (unit === undefined) {
    throw new RangeError(`"${clip(String(text))}" has an unknown rate unit "${m[2]}" (bits: Gbit, Gbps, Gb/s; bytes: GB/s, GBps, GiB/s; b is a bit, B a byte)`);
  }
  const bps = Number(m[1]) * unit;
  if (!(bps > 0)) throw new RangeError(`"${clip(String(text))}" must be a positive rate`);
  return bps;
}

const TIME_UNITS: Record<string, number> = { ns: 1e-3, us: 1, µs: 1, ms: 1e3, s: 1e6 };

/** Microseconds from `50us`, `1.5ms`, `2s`, `800ns`. A bare number is microseconds. */
export function parseDuration(text: string | number): number {
  if (typeof text === 'number') {
    if (!(text >= 0) || !Number.isFinite(text)) throw new RangeError(`${clip(String(text))} is not a non-negative duration`);
    return text;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s)?\s*$/.exec(text);
  if (!m) throw new RangeError(`"${clip(String(text))}" is not a duration (try 50us, 1.5ms, 2s)`);
  return Number(m[1]) * TIME_UNITS[m[2] ?? 'us']!;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1 && n % 1024 === 0) {
    n /= 1024;
    i++;
  }
  if (n >= 1024 && i < units.length - 1) {
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    return `${n.toFixed(1)}${units[i]}`;
  }
  return `${n}${units[i]}`;
}

export function formatRate(bps: number): string {
  if (!Number.isFinite(bps)) return 'unlimited';
  if (bps >= 1e9) return `${+(bps / 1e9).toFixed(2)}Gbit`;
  if (bps >= 1e6) return `${+(bps / 1e6).toFixed(2)}Mbit`;
  return `${bps}bit`;
}

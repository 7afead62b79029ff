/**
 * Seeded randomness and the content hash. Everything random in a run derives from one seed, so a run
 * can be replayed, and the source image is a pure function of (seed, page, word): nothing is stored,
 * any page can be re-derived to check it, and a 1 TiB guest costs no memory on the source side.
 */

/** murmur3's 32-bit finaliser: a cheap, well-mixed bijection on int32. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/**
 * Per-page key of the source image at `version` (a page the guest wrote on the source during precopy
 * changes version): hashed once per page, so filling a page costs one xor per word. Version 0 is the
 * image every run starts with.
 */
export function pageKey(seed: number, page: number, version = 0): number {
  return fmix32(seed ^ Math.imul(page, 0x9e3779b1) ^ Math.imul(version, 0x85ebca77));
}

/**
 * Word `word` of the page whose key is `key`: distinct for every word of a page and, through the
 * well-mixed key, unrelated across pages, so a torn copy (zeros), a stale page or a page installed
 * at the wrong place all fail the check. One multiply per word, because the source derives 1024 of
 * them per 4 KiB page it sends (a full mix per word measured 2.1 us per page).
 */
export function keyedWord(key: number, word: number): number {
  return (key ^ Math.imul(word + 1, 0x9e3779b1)) | 0;
}

/**
 * keyedWord(key, w) = key ^ WORD_MIX[w]: the per-word half precomputed once, so deriving a page is one
 * xor and one store per word (0.55 us per 4 KiB unrolled, against 1.0 us with the multiply per word).
 */
export function wordMixTable(words: number): Int32Array {
  const t = new Int32Array(words);
  for (let w = 0; w < words; w++) t[w] = Math.imul(w + 1, 0x9e3779b1);
  return t;
}

/** The source image's 32-bit word `word` of guest page `page` (global page index) at `version`. */
export function sourceWord(seed: number, page: number, word: number, version = 0): number {
  return keyedWord(pageKey(seed, page, version), word);
}

/**
 * The word vCPU `vcpu` writes into its slot of `page` on its `count`-th write to that page (count
 * 1..255, wrapping past 1). Derived, so the proof keeps a one-byte write count per page and vCPU
 * instead of every tag; odd, so it never equals a zero page's word.
 */
export function writeTag(seed: number, vcpu: number, page: number, count: number): number {
  return fmix32(seed ^ Math.imul(page, 0x27d4eb2f) ^ Math.imul(count, 0x165667b1) ^ (vcpu << 24)) | 1;
}

/** Whether `page` is an all-zero page in the source image (a fixed fraction of pages, chosen by hash). */
export function isZeroPage(seed: number, page: number, zeroFraction: number): boolean {
  if (zeroFraction <= 0) return false;
  const h = fmix32(fmix32(page ^ 0x243f6a88) ^ seed) >>> 0;
  return h / 4294967296 < zeroFraction;
}

/**
 * xorshift128+-style 32-bit generator (xoshiro128**). State lives in an Int32Array so that next()
 * allocates nothing: vCPU access loops call it once or twice per access.
 */
export class Rng {
  private readonly s = new Int32Array(4);
  constructor(seed: number, stream = 0) {
    // splitmix-style seeding so nearby seeds and streams give unrelated sequences.
    let x = fmix32(seed ^ Math.imul(stream + 1, 0x9e3779b9));
    for (let i = 0; i < 4; i++) {
      x = fmix32(x + 0x6d2b79f5 + i);
      this.s[i] = x || 0x1234567 + i;
    }
  }
  /** Uniform uint32 as a non-negative number. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9);
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result >>> 0;
  }
  /** Uniform float in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }
  /** Uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * Zipf(s) over ranks 0..n-1 by rejection-inversion (Hörmann & Derflinger), O(1) per sample with no
 * table, so it works on million-page guests without allocating. Rank 0 is the hottest.
 */
export class Zipf {
  private readonly hIntegralX1: number;
  private readonly hIntegralN: number;
  private readonly sBound: number;
  private readonly q: number;
  constructor(
    private readonly n: number,
    exponent: number,
  ) {
    if (!(n >= 1)) throw new RangeError('zipf needs n >= 1');
    if (!(exponent > 0)) throw new RangeError('zipf exponent must be > 0');
    // The closed forms below divide by (1 - q); q = 1 is their limit, so nudge it.
    this.q = exponent === 1 ? 1.000001 : exponent;
    this.hIntegralX1 = this.hIntegral(1.5) - 1;
    this.hIntegralN = this.hIntegral(n + 0.5);
    this.sBound = 2 - this.hIntegralInverse(this.hIntegral(2.5) - this.h(2));
  }
  sample(rng: Rng): number {
    for (;;) {
      const u = this.hIntegralN + rng.next() * (this.hIntegralX1 - this.hIntegralN);
      const x = this.hIntegralInverse(u);
      let k = Math.floor(x + 0.5);
      if (k < 1) k = 1;
      else if (k > this.n) k = this.n;
      if (k - x <= this.sBound || u >= this.hIntegral(k + 0.5) - this.h(k)) return k - 1;
    }
  }
  private h(x: number): number {
    return Math.exp(-this.q * Math.log(x));
  }
  private hIntegral(x: number): number {
    const logX = Math.log(x);
    return helper2((1 - this.q) * logX) * logX;
  }
  private hIntegralInverse(x: number): number {
    let t = x * (1 - this.q);
    if (t < -1) t = -1;
    return Math.exp(helper1(t) * x);
  }
}

function helper1(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x * (0.5 - x * (1 / 3 - 0.25 * x));
}
function helper2(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x * 0.5 * (1 + x * (1 / 3) * (1 + 0.25 * x));
}

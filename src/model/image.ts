/**
 * The source host's memory image, derived, never stored: word w of page p at version v is
 * sourceWord(seed, p, w, v), and a configurable fraction of pages start all zeros. A page's version
 * starts at 0 and grows each time the guest writes it on the source (hybrid's precopy, see
 * precopy.ts), so a stale copy differs from the current one in every word; a page the guest wrote is
 * no longer all zeros (else a stale zero page would look like its current self). Any thread can
 * re-derive any page at any version to check it, and guest size costs the source nothing.
 */
import { isZeroPage, keyedWord, pageKey, wordMixTable } from './rng.js';

/** Page `page` is all zeros at `version`: a zero page of the image that the guest never wrote. */
export function isZeroAt(seed: number, page: number, zeroFraction: number, version: number): boolean {
  return version === 0 && isZeroPage(seed, page, zeroFraction);
}

export class SourceImage {
  readonly wordsPerPage: number;
  private readonly mix: Int32Array;
  constructor(
    readonly seed: number,
    readonly pageSize: number,
    readonly zeroFraction: number,
  ) {
    this.wordsPerPage = pageSize >>> 2;
    this.mix = wordMixTable(this.wordsPerPage);
  }
  /** All zeros at `version`: a zero page the guest never wrote. */
  isZero(page: number, version = 0): boolean {
    return isZeroAt(this.seed, page, this.zeroFraction, version);
  }
  /** The expected value of one word (0 on a zero page). */
  word(page: number, word: number, version = 0): number {
    return this.isZero(page, version) ? 0 : keyedWord(pageKey(this.seed, page, version), word);
  }
  /**
   * Fills `out` (wordsPerPage int32s from `at`) with the page's content at `version`. The hot path of
   * every pushed page: unrolled by 8 (wordsPerPage is a multiple of 1024), allocates nothing.
   */
  fillPage(page: number, out: Int32Array, at = 0, version = 0): void {
    if (this.isZero(page, version)) {
      out.fill(0, at, at + this.wordsPerPage);
      return;
    }
    const key = pageKey(this.seed, page, version);
    const t = this.mix;
    for (let w = 0, o = at; w < this.wordsPerPage; w += 8, o += 8) {
      out[o] = key ^ t[w]!;
      out[o + 1] = key ^ t[w + 1]!;
      out[o + 2] = key ^ t[w + 2]!;
      out[o + 3] = key ^ t[w + 3]!;
      out[o + 4] = key ^ t[w + 4]!;
      out[o + 5] = key ^ t[w + 5]!;
      out[o + 6] = key ^ t[w + 6]!;
      out[o + 7] = key ^ t[w + 7]!;
    }
  }
}

/**
 * A destination-side copy of the image for network 'none' (demand_paging_test copies from a buffer it
 * prepared): fill() derives a page into one reusable buffer and returns the frame flags it would
 * have travelled with.
 */
export class LocalImage {
  readonly words: Int32Array;
  constructor(
    private readonly image: SourceImage,
    pageSize: number,
  ) {
    this.words = new Int32Array(pageSize >>> 2);
  }
  /** Fills `words` with the page unless it is a zero page; returns PAGE_FLAG_DEMAND, plus ZERO (1) for a zero page. */
  fill(page: number): number {
    if (this.image.isZero(page)) return 2 | 1;
    this.image.fillPage(page, this.words);
    return 2;
  }
}

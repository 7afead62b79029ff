/**
 * The source host's memory image, derived, never stored: word w of page p is sourceWord(seed, p, w),
 * and a configurable fraction of pages are all zeros. Any thread can re-derive any page to check it,
 * and guest size costs the source nothing.
 */
import { isZeroPage, keyedWord, pageKey, sourceWord } from './rng.js';

export class SourceImage {
  readonly wordsPerPage: number;
  constructor(readonly seed: number, readonly pageSize: number, readonly zeroFraction: number) {
    this.wordsPerPage = pageSize >>> 2;
  }
  isZero(page: number): boolean {
    return isZeroPage(this.seed, page, this.zeroFraction);
  }
  /** The expected value of one word (0 on a zero page). */
  word(page: number, word: number): number {
    return this.isZero(page) ? 0 : sourceWord(this.seed, page, word);
  }
  /** Fills `out` (wordsPerPage int32s) with the page's content. */
  fillPage(page: number, out: Int32Array, at = 0): void {
    if (this.isZero(page)) { out.fill(0, at, at + this.wordsPerPage); return; }
    const key = pageKey(this.seed, page);
    for (let w = 0; w < this.wordsPerPage; w++) out[at + w] = keyedWord(key, w);
  }
}

/**
 * A destination-side copy of the image for network 'none' (demand_paging_test copies from a buffer it
 * prepared): fill() derives a page into one reusable buffer and returns the frame flags it would
 * have travelled with.
 */
export class LocalImage {
  readonly words: Int32Array;
  readonly bytes: Uint8Array;
  constructor(private readonly image: SourceImage, pageSize: number) {
    this.words = new Int32Array(pageSize >>> 2);
    this.bytes = new Uint8Array(this.words.buffer);
  }
  /** Fills `bytes` with the page unless it is a zero page; returns PAGE_FLAG_DEMAND, plus ZERO (1) for a zero page. */
  fill(page: number): number {
    if (this.image.isZero(page)) return 2 | 1;
    this.image.fillPage(page, this.words);
    return 2;
  }
}

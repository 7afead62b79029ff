/**
 * The end-of-run proof: every page of destination memory is present and equals the source image at
 * the version the guest must see (the source's at the switch; 0 without precopy), except each
 * vCPU's write slot, which must hold that vCPU's last write to the page. Pure over the shared
 * buffers, so the engine can split it across threads.
 */
import { WRITE_SLOT_BASE } from './layout.js';
import type { SharedState, VerifyReport } from './protocol.js';
import type { SourceImage } from '../model/image.js';
import { keyedWord, pageKey, writeTag } from '../model/rng.js';
import { openShared } from './shared.js';

export function verifyPages(shared: SharedState, firstPage: number, endPage: number): VerifyReport {
  const { opts, mem, image, versions } = openShared(shared);
  const writeCounts = shared.writeCountSabs.map((s) => new Uint8Array(s));
  const wpp = mem.wordsPerPage;
  const report: VerifyReport = { pagesChecked: 0, pagesNotPresent: 0, pagesWrong: 0, firstProblem: null };
  for (let page = firstPage; page < endPage; page++) {
    report.pagesChecked++;
    if (!mem.isPresent(page)) {
      report.pagesNotPresent++;
      report.firstProblem ??= `page ${page} (gpa 0x${mem.gpaOfPage(page).toString(16)}) never arrived`;
      continue;
    }
    const slot = mem.slotOfPage(page);
    const words = mem.slotWords[slot]!;
    const base = mem.pageWordBase(page, slot);
    const version = versions === null ? 0 : versions[page]!;
    const zero = image.isZero(page, version);
    const key = pageKey(opts.seed, page, version);
    let bad = -1;
    for (let w = 0; w < wpp; w++) {
      let want = zero ? 0 : keyedWord(key, w);
      const v = w - WRITE_SLOT_BASE;
      if (v >= 0 && v < writeCounts.length) {
        const n = writeCounts[v]![page]!;
        if (n !== 0) want = writeTag(opts.seed, v, page, n);
      }
      if (words[base + w] !== want) {
        bad = w;
        break;
      }
    }
    if (bad >= 0) {
      report.pagesWrong++;
      report.firstProblem ??=
        `page ${page} (gpa 0x${mem.gpaOfPage(page).toString(16)}) word ${bad} differs from the expected image` +
        describeStaleRead(image, page, bad, words[base + bad]!, version);
    }
  }
  return report;
}

/**
 * When a word read from `page` is an older version's (a skipped resend, a lost discard, an old copy
 * installed over a newer one), says which; '' otherwise. Cold path: only for a failed check.
 */
export function describeStaleRead(image: SourceImage, page: number, word: number, got: number, version: number): string {
  for (let old = version - 1; old >= 0; old--) {
    if (image.word(page, word, old) === got) return ` (a stale copy: version ${old}, the guest must see version ${version})`;
  }
  return '';
}

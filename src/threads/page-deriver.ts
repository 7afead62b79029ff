/**
 * The source's page derivation on the wire, in WebAssembly SIMD. The content is the model's
 * (src/model/image.ts: word w of a page is key ^ mix[w]); this only computes it 16 bytes at a time,
 * straight into a payload slot of a wire ring whose memory is a shared WebAssembly.Memory. Measured
 * on this VM: 0.12 us per 4 KiB page against 0.6 us for the best JavaScript loop (unrolled by 8),
 * which was most of the pipeline's host time per page (bench `pipeline`).
 *
 * The module, hand-assembled (the WAT it encodes):
 *
 *   (module
 *     (import "env" "mem" (memory 0 65536 shared))
 *     (func (export "derive") (param $key i32) (param $dst i32) (param $tab i32) (param $n i32)
 *       (local $k v128) (local $end i32)
 *       (local.set $k (i32x4.splat (local.get $key)))
 *       (local.set $end (i32.add (local.get $dst) (local.get $n)))
 *       (loop $l
 *         (v128.store (local.get $dst) (v128.xor (v128.load (local.get $tab)) (local.get $k)))
 *         (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
 *         (local.set $tab (i32.add (local.get $tab) (i32.const 16)))
 *         (br_if $l (i32.lt_u (local.get $dst) (local.get $end))))))
 *
 * `n` is a multiple of 16 (a page is 4 KiB or 2 MiB) and every address is in bounds (the ring's
 * slots and its table are inside the memory), so the loop needs no guards of its own.
 */
import { wordMixTable } from '../model/rng.js';
import type { WireRing } from './wire.js';

const leb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const section = (id: number, bytes: number[]) => [id, ...leb(bytes.length), ...bytes];
const name = (s: string) => [s.length, ...[...s].map((c) => c.charCodeAt(0))];
const I32 = 0x7f,
  V128 = 0x7b,
  GET = 0x20,
  SET = 0x21,
  SIMD = 0xfd;

const BODY = [
  0x02,
  0x01,
  V128,
  0x01,
  I32, // locals: $k v128, $end i32
  GET,
  0,
  SIMD,
  0x11,
  SET,
  4, // $k = i32x4.splat($key)
  GET,
  1,
  GET,
  3,
  0x6a,
  SET,
  5, // $end = $dst + $n
  0x03,
  0x40, // loop
  GET,
  1,
  GET,
  2,
  SIMD,
  0x00,
  0,
  0,
  GET,
  4,
  SIMD,
  0x51,
  SIMD,
  0x0b,
  0,
  0, // v128.store($dst, v128.load($tab) ^ $k)
  GET,
  1,
  0x41,
  16,
  0x6a,
  SET,
  1, // $dst += 16
  GET,
  2,
  0x41,
  16,
  0x6a,
  SET,
  2, // $tab += 16
  GET,
  1,
  GET,
  5,
  0x49,
  0x0d,
  0, // br_if $l ($dst < $end)
  0x0b,
  0x0b,
];

const MODULE_BYTES = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00,
  ...section(1, [0x01, 0x60, 0x04, I32, I32, I32, I32, 0x00]), // type: (i32 i32 i32 i32) -> ()
  ...section(2, [0x01, ...name('env'), ...name('mem'), 0x02, 0x03, 0x00, ...leb(65536)]), // import: shared memory 0..65536
  ...section(3, [0x01, 0x00]), // function 0 has type 0
  ...section(7, [0x01, ...name('derive'), 0x00, 0x00]), // export it
  ...section(10, [0x01, ...leb(BODY.length), ...BODY]),
]);

let compiled: WebAssembly.Module | null | undefined;
function module(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(MODULE_BYTES);
    } catch {
      compiled = null;
    } // no SIMD: the caller derives in JavaScript
  }
  return compiled;
}

/** Derives pages into one wire ring's payload slots; null from create() when WebAssembly SIMD is missing. */
export class PageDeriver {
  private readonly derive: (key: number, dst: number, tab: number, n: number) => void;
  private readonly payloadByte: number;
  private readonly tableByte: number;
  private readonly pageBytes: number;

  private constructor(instance: WebAssembly.Instance, ring: WireRing) {
    this.derive = instance.exports.derive as (key: number, dst: number, tab: number, n: number) => void;
    this.payloadByte = ring.payload.byteOffset;
    this.tableByte = ring.table.byteOffset;
    this.pageBytes = ring.slotBytes;
    ring.table.set(wordMixTable(ring.slotBytes >>> 2)); // the model's per-word half of the content
  }

  static create(memory: WebAssembly.Memory, ring: WireRing): PageDeriver | null {
    const m = module();
    if (m === null || ring.slotBytes === 0 || ring.table.length * 4 !== ring.slotBytes) return null;
    return new PageDeriver(new WebAssembly.Instance(m, { env: { mem: memory } }), ring);
  }

  /** Writes the page whose image key is `key` at word `payloadWordAt` of the ring's payload. Allocates nothing. */
  fill(key: number, payloadWordAt: number): void {
    this.derive(key, this.payloadByte + payloadWordAt * 4, this.tableByte, this.pageBytes);
  }
}

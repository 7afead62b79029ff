/**
 * One vCPU's replay of a spooled trace (spool.ts): reads its fixed-size records a chunk at a
 * time into one buffer allocated up front, so the vCPU's access loop allocates nothing and the
 * trace is never held whole. Both engines read through it: the threaded vCPU on its worker thread,
 * the virtual one in its event loop. Replaying past the end (--accesses longer than the trace)
 * starts over from the first record, as v1 traces always did.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { assert } from '../errors.js';
import type { TraceSource, VcpuTrace } from '../model/trace-source.js';
import { Access } from '../model/uapi.js';

export type { VcpuTrace };

/** Bytes per record: gpa (float64), the gap before this access in us (float32), access (uint8), 3 pad. */
export const RECORD_BYTES = 16;
export const REC_GPA = 0;
export const REC_GAP = 8;
export const REC_ACCESS = 12;

/** Records read per chunk: 32 KiB, so 1024 vCPUs' buffers stay at 32 MiB. */
const CHUNK_RECORDS = 2048;

export class TraceCursor implements TraceSource {
  gpa = 0;
  access: Access = Access.Read;
  /** Guest time before this access, in us, already scaled (0 with --trace-timing asap). */
  gapUs = 0;
  private readonly buf: Buffer;
  private readonly view: DataView;
  private readonly capacity: number;
  private inBuf = 0;
  private pos = 0;
  private nextRecord = 0;

  /** `scale` multiplies every recorded gap (0: as fast as the guest can go). */
  constructor(
    readonly trace: VcpuTrace,
    private readonly scale: number,
  ) {
    this.capacity = Math.max(1, Math.min(CHUNK_RECORDS, trace.length));
    this.buf = Buffer.alloc(this.capacity * RECORD_BYTES);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  next(): void {
    if (this.pos === this.inBuf) this.fill();
    const at = this.pos++ * RECORD_BYTES;
    const v = this.view;
    this.gpa = v.getFloat64(at + REC_GPA, true);
    this.gapUs = v.getFloat32(at + REC_GAP, true) * this.scale;
    this.access = v.getUint8(at + REC_ACCESS) as Access;
  }

  /** The next chunk; opening the file per chunk keeps no descriptor alive between accesses. */
  private fill(): void {
    const t = this.trace;
    assert(t.length > 0, 'a vCPU with no trace records was asked for one');
    if (this.nextRecord >= t.length) this.nextRecord = 0;
    const n = Math.min(this.capacity, t.length - this.nextRecord);
    const fd = openSync(t.file, 'r');
    let got: number;
    try {
      got = readSync(fd, this.buf, 0, n * RECORD_BYTES, this.nextRecord * RECORD_BYTES);
    } finally {
      closeSync(fd);
    }
    assert(got === n * RECORD_BYTES, `trace spool ${t.file} ended early (${got} of ${n * RECORD_BYTES} bytes)`);
    this.nextRecord += n;
    this.inBuf = n;
    this.pos = 0;
  }
}

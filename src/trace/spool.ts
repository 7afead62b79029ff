/**
 * A trace decoded once for the engines, while it streams in: each vCPU's accesses become fixed-size
 * binary records (cursor.ts) in a file of its own under a temporary directory, so a vCPU
 * replays its accesses without parsing text, and neither the text nor the records are ever held in
 * memory whole. Every line is checked here, before the run starts, so a bad trace is one line naming
 * the file and line (exit code 2) rather than a failure half way through a migration:
 *   - a malformed line, a vCPU the run does not have, a time that goes back for one vCPU;
 *   - a gpa outside every memslot (the guest would have no memory there);
 *   - a truncated or corrupt gzip stream (lines.ts).
 *
 * Spools are cached per (file, size, mtime, vCPUs, memory layout) for the life of the process, so
 * `compare` and the table generators decode a trace once for all their runs, and removed at exit.
 */
import { appendFileSync, mkdtempSync, rmSync, type Stats, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Errors } from '../errors.js';
import type { ResolvedOptions } from '../model/config.js';
import { pageOfGpa } from '../model/memslots.js';
import type { AccessLine } from '../model/trace-format.js';
import type { TraceSpool } from '../model/trace-source.js';
import { REC_ACCESS, REC_GAP, REC_GPA, RECORD_BYTES } from './cursor.js';
import { forEachAccess } from './read.js';

export type { TraceSpool };

const spools = new Map<string, Promise<TraceSpool>>();
const dirs: string[] = [];

/** The options with `traceSpool` set (decoding the trace, or reusing this process's spool of it). */
export async function prepareTrace<T extends ResolvedOptions>(opts: T): Promise<T> {
  if (opts.workload !== 'trace' || opts.traceSpool) return opts;
  const file = opts.trace!;
  let st: Stats;
  try {
    st = statSync(file);
  } catch (e) {
    throw Errors.badInput('trace', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const layout = opts.memslots.map((m) => `${m.baseGpa}+${m.sizeBytes}`).join(',');
  const key = `${resolve(file)}|${st.size}|${st.mtimeMs}|${opts.vcpus}|${opts.pageSize}|${layout}`;
  let p = spools.get(key);
  if (!p) {
    p = spool(file, key, opts);
    spools.set(key, p);
    p.catch(() => spools.delete(key));
  }
  return { ...opts, traceSpool: await p };
}

/** Per-vCPU record buffers, flushed to their files when full. */
class Writers {
  readonly files: string[];
  readonly lengths: number[];
  private readonly bufs: Buffer[];
  private readonly used: number[];
  private readonly lastUs: Float64Array;
  constructor(
    dir: string,
    vcpus: number,
    readonly chunkRecords = 4096,
  ) {
    this.files = Array.from({ length: vcpus }, (_, v) => join(dir, `vcpu-${v}.rec`));
    for (const f of this.files) writeFileSync(f, '');
    this.lengths = new Array<number>(vcpus).fill(0);
    this.bufs = Array.from({ length: vcpus }, () => Buffer.alloc(chunkRecords * RECORD_BYTES));
    this.used = new Array<number>(vcpus).fill(0);
    this.lastUs = new Float64Array(vcpus).fill(NaN);
  }
  /** The time of `vcpu`'s previous access (NaN before its first). */
  last(vcpu: number): number {
    return this.lastUs[vcpu]!;
  }
  add(a: AccessLine, startUs: number): void {
    const v = a.vcpu;
    const prev = Number.isNaN(this.lastUs[v]!) ? startUs : this.lastUs[v]!;
    this.lastUs[v] = a.timeUs;
    const buf = this.bufs[v]!,
      at = this.used[v]! * RECORD_BYTES;
    buf.writeDoubleLE(a.gpa, at + REC_GPA);
    buf.writeFloatLE(a.timeUs - prev, at + REC_GAP);
    buf.writeUInt8(a.access, at + REC_ACCESS);
    this.lengths[v]!++;
    if (++this.used[v]! === this.chunkRecords) this.flush(v);
  }
  flush(v: number): void {
    if (this.used[v]) appendFileSync(this.files[v]!, this.bufs[v]!.subarray(0, this.used[v]! * RECORD_BYTES));
    this.used[v] = 0;
  }
}

async function spool(file: string, key: string, opts: ResolvedOptions): Promise<TraceSpool> {
  const dir = mkdtempSync(join(tmpdir(), 'postcopy-sim-trace-'));
  rememberForExit(dir);
  const w = new Writers(dir, opts.vcpus);
  let startUs = NaN; // the trace's first access: every vCPU's first gap is measured from it
  const end = memoryEnd(opts);
  const header = await forEachAccess(file, (a, where) => {
    if (a.vcpu >= opts.vcpus) throw Errors.badInput(where, `vcpu ${a.vcpu} does not exist (the run has ${opts.vcpus} vCPUs)`);
    if (pageOfGpa(opts.memslots, opts.pageSize, a.gpa) < 0) {
      throw Errors.badInput(where, `gpa 0x${a.gpa.toString(16)} is outside every memslot (guest memory ends at 0x${end.toString(16)}; a bigger --memory?)`);
    }
    if (a.timeUs < w.last(a.vcpu)) throw Errors.badInput(where, `time ${a.timeUs} goes back (vCPU ${a.vcpu}'s previous access was at ${w.last(a.vcpu)})`);
    if (Number.isNaN(startUs)) startUs = a.timeUs;
    w.add(a, startUs);
  });
  for (let v = 0; v < opts.vcpus; v++) w.flush(v);
  if (w.lengths.every((n) => n === 0)) throw Errors.badInput(`trace ${file}`, 'holds no accesses');
  let lastUs = startUs;
  for (let v = 0; v < opts.vcpus; v++) if (w.last(v) > lastUs) lastUs = w.last(v);
  return { key, dir, header, vcpus: w.files.map((f, v) => ({ file: f, length: w.lengths[v]! })), recordedUs: lastUs - startUs };
}

/** The end of the highest memslot, for the error message. */
function memoryEnd(opts: ResolvedOptions): number {
  let end = 0;
  for (const m of opts.memslots) end = Math.max(end, m.baseGpa + m.sizeBytes);
  return end;
}

function rememberForExit(dir: string): void {
  if (dirs.length === 0)
    process.once('exit', () => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });
  dirs.push(dir);
}

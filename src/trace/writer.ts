/**
 * Writes a trace file a chunk at a time: text is buffered up to 1 MiB and appended, gzipped when the
 * file name ends in .gz. Each chunk is its own gzip member; gzip readers (ours, gzip -d, zcat)
 * read concatenated members as one stream, and 1 MiB members compress within a percent of one long
 * stream. Written synchronously so the converter can call it from its line callback; written to a
 * temporary name and renamed at the end, so a failed conversion leaves no half file behind, nor an
 * interrupted one: Ctrl-C and SIGTERM end the process with process.exit (src/cli/main.ts), which runs
 * the 'exit' listener that removes the temporary file.
 */
import { appendFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const CHUNK_CHARS = 1 << 20;

export class TraceWriter {
  private readonly tmp: string;
  private readonly gzip: boolean;
  private parts: string[] = [];
  private chars = 0;
  bytesWritten = 0;

  constructor(readonly file: string) {
    this.gzip = file.endsWith('.gz');
    this.tmp = `${file}.partial-${process.pid}`;
    writeFileSync(this.tmp, '');
    process.once('exit', this.onExit);
  }

  private readonly onExit = () => rmSync(this.tmp, { force: true });

  write(text: string): void {
    this.parts.push(text);
    this.chars += text.length;
    if (this.chars >= CHUNK_CHARS) this.flush();
  }

  /** Flushes and moves the file into place. */
  close(): void {
    this.flush();
    renameSync(this.tmp, this.file);
    process.off('exit', this.onExit);
  }

  /** Removes the partial file (after a failure). */
  abandon(): void {
    rmSync(this.tmp, { force: true });
    process.off('exit', this.onExit);
  }

  private flush(): void {
    if (this.chars === 0) return;
    const text = Buffer.from(this.parts.join(''), 'utf8');
    const bytes = this.gzip ? gzipSync(text, { level: 9 }) : text;
    appendFileSync(this.tmp, bytes);
    this.bytesWritten += bytes.length;
    this.parts = [];
    this.chars = 0;
  }
}

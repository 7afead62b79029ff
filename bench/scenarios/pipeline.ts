/**
 * pipeline: what one pushed page costs the host, the floor under every link rate the threaded
 * engine can keep full.
 *
 * What it measures: the real code of both ends of the wire (the source host's postcopy loop choosing,
 * queueing and deriving each 4 KiB page onto a wire ring: SourceHost.serve; the receiver taking
 * frames off in the fetcher's batches and the fetcher installing them: FrameReceiver +
 * FaultResolver.onPage, UFFDIO_COPY and publish), run in one thread over a link nothing waits on
 * (src/threads/pipeline-rig.ts), over a 64 MiB guest, several passes. Reported: host time per page
 * as the CPU time the process spent (median and best pass: this machine is shared, and wall time
 * also counts the time other processes had the core), the wall time, and the wall time's two halves.
 * The passes come after the JIT warm-up a run's source and fetcher do before the start gun
 * (src/threads/warm-up.ts): without it a run's first ~16 k pages cost 4-14 us each, and a small
 * guest's passes had that inside their median.
 *
 * Why one thread: the sum of both ends is the host time a page costs, whatever cores it is spread
 * on; on two cores the source and the fetcher overlap, so a link needs a page every
 * max(source, destination) us, not every sum (the network scenario measures that end to end).
 */
import { measurePipeline } from '../../src/threads/pipeline-probe.js';
import { envelope, MiB, resolveBenchOptions, writeResult, type BenchOptions, type ResultEnvelope } from '../common.js';

export interface PipelineOptions extends BenchOptions {
  /** Guest pushed per pass, MiB. @default 64; quick 16 */
  memoryMiB?: number;
  /** Passes. @default 7; quick 3 */
  passes?: number;
}

export interface PipelineBody {
  pageSize: number;
  memoryMiB: number;
  passes: Array<{ cpuUs: number; perPageUs: number; sourceUs: number; destinationUs: number }>;
  /** CPU us per page: median and best pass. */
  medianUs: number;
  bestUs: number;
  /** Wall us per page, median pass. */
  wallMedianUs: number;
  /** Medians of the two halves: derive onto the wire; off the wire and installed. */
  sourceUs: number;
  destinationUs: number;
}

export type PipelineResult = ResultEnvelope<'pipeline', PipelineBody>;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

export async function runPipeline(opts: PipelineOptions = {}): Promise<PipelineResult> {
  const o = resolveBenchOptions(opts);
  const t0 = performance.now();
  const memoryMiB = opts.memoryMiB ?? (o.quick ? 16 : 64);
  const passes = measurePipeline(4096, memoryMiB * MiB, opts.passes ?? (o.quick ? 3 : 7));
  const body: PipelineBody = {
    pageSize: 4096,
    memoryMiB,
    passes,
    medianUs: median(passes.map((p) => p.cpuUs)),
    bestUs: Math.min(...passes.map((p) => p.cpuUs)),
    wallMedianUs: median(passes.map((p) => p.perPageUs)),
    sourceUs: median(passes.map((p) => p.sourceUs)),
    destinationUs: median(passes.map((p) => p.destinationUs)),
  };
  o.log(
    `pipeline: ${body.medianUs.toFixed(3)} us of CPU per 4 KiB page (best ${body.bestUs.toFixed(3)}; wall ${body.wallMedianUs.toFixed(3)}: source ${body.sourceUs.toFixed(3)}, destination ${body.destinationUs.toFixed(3)})`,
  );
  const note = `one thread runs both ends of the wire (real code, a link nothing waits on, after the services' warm-up); ${memoryMiB} MiB guest per pass`;
  const result = envelope('pipeline', o, t0, [note], body);
  writeResult(o.outDir, result);
  return result;
}

/**
 * Runtime floors: the cheapest possible round trip between two real worker threads for each
 * way the simulator can hand a fault from a vCPU to its fetcher and back, plus the cost of
 * installing a page. No simulated guest, no network model: these are the lower bounds that
 * every simulated fault pays on this runtime and machine.
 *
 * How it maps to the kernel experiment (native/uffd_paging.c):
 *   a round trip here = vCPU faults, the handler learns of it, resolves it, the vCPU wakes;
 *   - atomicsBlocking    both sides sleep in Atomics.wait at once: the analogue of a vCPU
 *                        sleeping in handle_userfault() and a handler sleeping in poll();
 *   - atomicsSpin        both sides spin on Atomics.load for up to spinUs first: the
 *                        KVM_EXIT_MEMORY_FAULT shape, where the vCPU thread stays runnable;
 *   - messagePort        request by postMessage, receiver asleep in its event loop ('message'
 *                        handler), reply by postMessage: the naive worker design;
 *   - messagePortPolled  request by postMessage + doorbell, receiver polling
 *                        receiveMessageOnPort (spin, then Atomics.wait on the doorbell), reply
 *                        by Atomics with a spinning requester: the uffd_msg read() loop;
 *   - pageCopy           one 4 KiB (and one 2 MiB) Uint8Array.prototype.set into a
 *                        SharedArrayBuffer: the UFFDIO_COPY of the simulator.
 *
 * Each round-trip floor runs in a fresh pair of workers (bench/floor-peer.ts): a warm-up,
 * then `durationMs` of measured round trips recorded in ns into a perf_hooks histogram by the
 * requester. Every wait has a timeout and the workers are terminated in `finally`, so a lost
 * wake-up costs a bounded delay and an error, never a hang.
 */
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { builtUrl } from '../src/paths.js';

/** The four ways of waiting that are measured as round trips. */
export type FloorMode = 'atomicsBlocking' | 'atomicsSpin' | 'messagePort' | 'messagePortPolled';
export const FLOOR_MODES: readonly FloorMode[] = ['atomicsBlocking', 'atomicsSpin', 'messagePort', 'messagePortPolled'];

export interface RoundTripFloor {
  p50Us: number;
  p99Us: number;
  /** Measured round trips / measured wall time (the one-vCPU fault-rate ceiling). */
  roundTripsPerSec: number;
  /** Round trips recorded after the warm-up. */
  samples: number;
}

export interface PageCopyFloor {
  /** ns per 4 KiB `Uint8Array.prototype.set` into a SharedArrayBuffer. */
  page4kNs: number;
  /** ns per 2 MiB `Uint8Array.prototype.set` into a SharedArrayBuffer. */
  page2mNs: number;
}

export interface Floors {
  atomicsBlocking: RoundTripFloor;
  atomicsSpin: RoundTripFloor;
  messagePort: RoundTripFloor;
  messagePortPolled: RoundTripFloor;
  pageCopy: PageCopyFloor;
  /** Measured time per floor, after the warm-up. */
  durationMs: number;
  /** Spin budget before Atomics.wait (atomicsSpin, and both sides of messagePortPolled). */
  spinUs: number;
  /** CPUs available to this process: a blocking wake across CPUs is what the floors price. */
  cpus: number;
}

export interface FloorOptions {
  /** Measured time per floor, in milliseconds. @default 300 */
  durationMs?: number;
  /** Spin budget before falling back to Atomics.wait, in microseconds. @default 20 */
  spinUs?: number;
}

// ---- Protocol shared with bench/floor-peer.ts (type-only on the worker side, except the
// layout constants, which it imports from here). -------------------------------------------

/**
 * Control words in the SharedArrayBuffer, one Int32 each, each on its own 64-byte line so that
 * the requester's and the responder's words never share a cache line:
 *
 *   Int32 index:  0           16           32           48
 *                 [REQUEST ]  [RESPONSE]   [DOORBELL]   [STOP    ]
 *                 requester   responder    requester    requester
 *                 writes      writes       bumps        sets 1 at the end
 */
export const CTL_REQUEST = 0;
export const CTL_RESPONSE = 16;
export const CTL_DOORBELL = 32;
export const CTL_STOP = 48;
export const CTL_BYTES = 64 * Int32Array.BYTES_PER_ELEMENT;

/** workerData of a floor peer. */
export interface PeerConfig {
  role: 'requester' | 'responder';
  mode: FloorMode;
  ctl: SharedArrayBuffer;
  /** The channel between the two peers (each gets one end). */
  port: MessagePort;
  spinUs: number;
  warmupMs: number;
  durationMs: number;
  /** A single round trip longer than this is an error, not a sample. */
  roundTripTimeoutMs: number;
  /** A peer gives up and returns after this long, whatever happened to the other side. */
  lifetimeMs: number;
}

/** Main thread → requester. */
export interface GoMessage {
  kind: 'go';
}

/** Peer → main thread. */
export type PeerMessage =
  | { kind: 'ready' }
  | { kind: 'result'; samples: number; elapsedMs: number; p50Ns: number; p99Ns: number }
  | { kind: 'error'; message: string };

// ---- Main-thread side --------------------------------------------------------------------

const DEFAULT_DURATION_MS = 300;
const DEFAULT_SPIN_US = 20;
const MAX_WARMUP_MS = 100;
const STARTUP_TIMEOUT_MS = 10_000;
const ROUND_TRIP_TIMEOUT_MS = 2_000;
/** Beyond warm-up + duration: one stuck round trip plus scheduling slack. */
const RUN_GRACE_MS = ROUND_TRIP_TIMEOUT_MS + 3_000;
/** Large enough that the copies are not served from L1/L2 (they cycle through it). */
const COPY_TARGET_BYTES = 16 * 1024 * 1024;
const PAGE_4K = 4096;
const PAGE_2M = 2 * 1024 * 1024;

/** The peer thread, always from the build (src/paths.ts). */
const PEER_URL = builtUrl('bench/floor-peer.js');

/** Collects one worker's messages so the main thread can await them in order, with a
 * timeout, without ever leaving a rejected promise unobserved. */
class PeerHandle {
  private readonly inbox: PeerMessage[] = [];
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly name: string,
    readonly worker: Worker,
  ) {
    worker.on('message', (m: PeerMessage) => {
      this.inbox.push(m);
      this.wake?.();
    });
    worker.on('error', (e: Error) => {
      this.failure ??= new Error(`${name} failed: ${e.message}`);
      this.wake?.();
    });
    worker.on('exit', (code: number) => {
      this.failure ??= new Error(`${name} exited early (code ${code})`);
      this.wake?.();
    });
  }

  async next<K extends 'ready' | 'result'>(kind: K, timeoutMs: number): Promise<Extract<PeerMessage, { kind: K }>> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      // The inbox first: a message that arrived before an exit still counts.
      const i = this.inbox.findIndex((m) => m.kind === kind || m.kind === 'error');
      if (i >= 0) {
        const m = this.inbox.splice(i, 1)[0]!;
        if (m.kind === 'error') throw new Error(`${this.name}: ${m.message}`);
        return m as Extract<PeerMessage, { kind: K }>;
      }
      if (this.failure !== undefined) throw this.failure;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`${this.name}: no '${kind}' within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }
}

async function measureRoundTrip(mode: FloorMode, durationMs: number, spinUs: number): Promise<RoundTripFloor> {
  const warmupMs = Math.min(MAX_WARMUP_MS, durationMs);
  const ctl = new SharedArrayBuffer(CTL_BYTES);
  const { port1, port2 } = new MessageChannel();
  const common = {
    mode,
    ctl,
    spinUs,
    warmupMs,
    durationMs,
    roundTripTimeoutMs: ROUND_TRIP_TIMEOUT_MS,
    lifetimeMs: STARTUP_TIMEOUT_MS + warmupMs + durationMs + RUN_GRACE_MS,
  };
  const requesterData: PeerConfig = { ...common, role: 'requester', port: port1 };
  const responderData: PeerConfig = { ...common, role: 'responder', port: port2 };
  const requester = new PeerHandle(`${mode} requester`, new Worker(PEER_URL, { workerData: requesterData, transferList: [port1] }));
  const responder = new PeerHandle(`${mode} responder`, new Worker(PEER_URL, { workerData: responderData, transferList: [port2] }));
  try {
    // Both sides set up before the clock starts, so thread start-up is not a round trip.
    await Promise.all([requester.next('ready', STARTUP_TIMEOUT_MS), responder.next('ready', STARTUP_TIMEOUT_MS)]);
    const go: GoMessage = { kind: 'go' };
    requester.worker.postMessage(go);
    const r = await requester.next('result', warmupMs + durationMs + RUN_GRACE_MS);
    if (r.samples === 0 || r.elapsedMs <= 0) throw new Error(`${mode}: no round trip completed`);
    return {
      p50Us: r.p50Ns / 1000,
      p99Us: r.p99Ns / 1000,
      roundTripsPerSec: r.samples / (r.elapsedMs / 1000),
      samples: r.samples,
    };
  } finally {
    // Both ports were transferred to the workers; terminating the workers closes them.
    await Promise.all([requester.worker.terminate(), responder.worker.terminate()]);
  }
}

/** Mean ns for one `dst.set(src, offset)` of `src.length` bytes, cycling through `dst`. */
function copyNs(dst: Uint8Array, src: Uint8Array, budgetMs: number): number {
  const slots = Math.floor(dst.length / src.length);
  const batch = Math.max(1, Math.floor((256 * 1024) / src.length)); // ~256 KiB per clock read
  let slot = 0;
  const run = (ms: number): number => {
    let copies = 0;
    const t0 = performance.now();
    const end = t0 + ms;
    let now = t0;
    do {
      for (let i = 0; i < batch; i++) {
        dst.set(src, slot * src.length);
        slot = slot + 1 === slots ? 0 : slot + 1;
      }
      copies += batch;
      now = performance.now();
    } while (now < end);
    return ((now - t0) * 1e6) / copies;
  };
  run(Math.min(20, budgetMs)); // warm-up: JIT and the first pass over the target
  return run(budgetMs);
}

function measurePageCopy(durationMs: number): PageCopyFloor {
  const dst = new Uint8Array(new SharedArrayBuffer(COPY_TARGET_BYTES));
  dst.fill(1); // first-touch the target now, so page faults of the SAB are not timed
  const src4k = new Uint8Array(PAGE_4K).map((_, i) => i & 0xff);
  const src2m = new Uint8Array(PAGE_2M).map((_, i) => (i * 7) & 0xff);
  const page4kNs = copyNs(dst, src4k, durationMs / 2);
  const page2mNs = copyNs(dst, src2m, durationMs / 2);
  // The last copy landed somewhere in dst: check one 2 MiB slot really holds the source.
  if (dst[PAGE_2M - 1] !== src2m[PAGE_2M - 1]) throw new Error('pageCopy: target does not hold the copied page');
  return { page4kNs, page2mNs };
}

/**
 * Measures every floor in turn (about 4 × (durationMs + warm-up + worker start) plus the copy).
 * Rejects if a floor cannot be measured (a worker fails to start, a round trip times out).
 */
export async function measureFloors(opts: FloorOptions = {}): Promise<Floors> {
  const durationMs = opts.durationMs ?? DEFAULT_DURATION_MS;
  const spinUs = opts.spinUs ?? DEFAULT_SPIN_US;
  if (!Number.isFinite(durationMs) || durationMs <= 0) throw new RangeError('opts.durationMs must be a positive number');
  if (!Number.isFinite(spinUs) || spinUs < 0) throw new RangeError('opts.spinUs must be a non-negative number');
  const rt = {} as Record<FloorMode, RoundTripFloor>;
  for (const mode of FLOOR_MODES) rt[mode] = await measureRoundTrip(mode, durationMs, spinUs);
  return {
    ...rt,
    pageCopy: measurePageCopy(durationMs),
    durationMs,
    spinUs,
    cpus: availableParallelism(),
  };
}

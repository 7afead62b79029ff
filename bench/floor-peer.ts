/**
 * One side of a runtime-floor round trip (see floors.ts, which starts two of these). It is a thread
 * entry, but bench logic, so it lives here and not in workers/.
 *
 * The requester plays the faulting vCPU: it issues a request, waits for the answer and records
 * the round trip in ns. The responder plays the fault handler: it waits for a request and
 * answers at once, with no work in between, so what is measured is only the cost of waking
 * and being woken: the part of a userfaultfd fault that is neither the copy nor the network.
 *
 * Hot loops allocate nothing per round trip on our side: sequence numbers are small integers,
 * the timestamps are doubles, the histogram is preallocated. The only per-message allocation
 * is inside Node (structured clone, and the `{ message }` wrapper of receiveMessageOnPort),
 * which is part of what the messagePort floors price.
 */
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { CTL_DOORBELL, CTL_REQUEST, CTL_RESPONSE, CTL_STOP, type GoMessage, type PeerConfig, type PeerMessage } from './floors.js';

/** Longest single Atomics.wait: short enough that STOP and deadlines are noticed promptly. */
const WAIT_SLICE_MS = 50;
/** Histogram range in ns: 1 ns .. 60 s, 3 significant digits. */
const HISTOGRAM_MAX_NS = 60_000_000_000;

const cfg = workerData as PeerConfig;
const ctl = new Int32Array(cfg.ctl);
const port = cfg.port;
const spinMs = cfg.spinUs / 1000;
const lifetimeEndMs = performance.now() + cfg.lifetimeMs;

function post(m: PeerMessage): void {
  parentPort!.postMessage(m);
}

/**
 * Returns ctl[index] once it differs from `old`, or `old` if one wait slice passed without a
 * change. Spins on Atomics.load for up to `spinForMs` first (0: straight to Atomics.wait).
 * Callers loop on the value, never on the wake itself: a store + notify that happens before
 * we reach Atomics.wait shows up as 'not-equal', not as a wake-up.
 */
function awaitChange(index: number, old: number, spinForMs: number): number {
  if (spinForMs > 0) {
    const spinEnd = performance.now() + spinForMs;
    do {
      const v = Atomics.load(ctl, index);
      if (v !== old) return v;
    } while (performance.now() < spinEnd);
  }
  Atomics.wait(ctl, index, old, WAIT_SLICE_MS);
  return Atomics.load(ctl, index);
}

// ---- Requester ---------------------------------------------------------------------------

/** Round-trip bookkeeping shared by the synchronous and the event-driven requester. */
class Recorder {
  readonly histogram: RecordableHistogram = createHistogram({ lowest: 1, highest: HISTOGRAM_MAX_NS, figures: 3 });
  readonly measureFromMs: number;
  readonly endMs: number;
  private firstStartMs = -1;
  private lastEndMs = -1;

  constructor(nowMs: number) {
    this.measureFromMs = nowMs + cfg.warmupMs;
    this.endMs = this.measureFromMs + cfg.durationMs;
  }

  /** Only round trips that started after the warm-up count; the JIT is hot by then. */
  record(startMs: number, endMs: number): void {
    if (startMs < this.measureFromMs) return;
    if (this.firstStartMs < 0) this.firstStartMs = startMs;
    this.lastEndMs = endMs;
    const ns = Math.round((endMs - startMs) * 1e6);
    this.histogram.record(Math.min(Math.max(ns, 1), HISTOGRAM_MAX_NS));
  }

  result(): PeerMessage {
    const h = this.histogram;
    return {
      kind: 'result',
      samples: h.count,
      elapsedMs: h.count > 0 ? this.lastEndMs - this.firstStartMs : 0,
      p50Ns: h.count > 0 ? h.percentile(50) : 0,
      p99Ns: h.count > 0 ? h.percentile(99) : 0,
    };
  }
}

/** Tells the responder to return: STOP first, then a changed word it is sure to see. */
function stopResponder(): void {
  Atomics.store(ctl, CTL_STOP, 1);
  Atomics.add(ctl, CTL_REQUEST, 1);
  Atomics.notify(ctl, CTL_REQUEST);
  Atomics.add(ctl, CTL_DOORBELL, 1);
  Atomics.notify(ctl, CTL_DOORBELL);
}

/** atomicsBlocking, atomicsSpin and messagePortPolled: the requester blocks its own thread. */
function runSyncRequester(): PeerMessage {
  const polled = cfg.mode === 'messagePortPolled';
  // Blocking: Atomics.wait at once. Spin and polled: spin first (the polled reply side too).
  const replySpinMs = cfg.mode === 'atomicsBlocking' ? 0 : spinMs;
  const maxSlices = Math.ceil(cfg.roundTripTimeoutMs / WAIT_SLICE_MS);
  const rec = new Recorder(performance.now());
  let seq = Atomics.load(ctl, CTL_RESPONSE);
  for (;;) {
    const startMs = performance.now();
    if (startMs >= rec.endMs) break;
    const prev = seq;
    seq = (seq + 1) | 0;
    if (polled) {
      // Post first, ring second: the responder reads the doorbell before its last look at
      // the port, so it either sees this message or sees the ring.
      port.postMessage(seq);
      Atomics.add(ctl, CTL_DOORBELL, 1);
      Atomics.notify(ctl, CTL_DOORBELL, 1);
    } else {
      Atomics.store(ctl, CTL_REQUEST, seq);
      Atomics.notify(ctl, CTL_REQUEST, 1);
    }
    let v = awaitChange(CTL_RESPONSE, prev, replySpinMs);
    for (let slices = 1; v === prev; slices++) {
      if (slices >= maxSlices) {
        stopResponder();
        return { kind: 'error', message: `no reply to request ${seq} within ${cfg.roundTripTimeoutMs} ms` };
      }
      v = awaitChange(CTL_RESPONSE, prev, replySpinMs);
    }
    if (v !== seq) {
      stopResponder();
      return { kind: 'error', message: `reply ${v} does not match request ${seq}` };
    }
    rec.record(startMs, performance.now());
  }
  stopResponder();
  return rec.result();
}

/** messagePort: both directions by postMessage; the requester also waits in its event loop. */
function runEventRequester(): void {
  const rec = new Recorder(performance.now());
  let seq = 0;
  let sentAtMs = 0;
  const watchdog = setTimeout(
    () => {
      port.removeAllListeners('message');
      post({ kind: 'error', message: `no reply to request ${seq} within ${cfg.roundTripTimeoutMs} ms` });
    },
    rec.endMs - performance.now() + cfg.roundTripTimeoutMs,
  );
  const send = (): void => {
    seq = (seq + 1) | 0;
    sentAtMs = performance.now();
    port.postMessage(seq);
  };
  port.on('message', (reply: number) => {
    const nowMs = performance.now();
    if (reply !== seq) {
      clearTimeout(watchdog);
      port.removeAllListeners('message');
      post({ kind: 'error', message: `reply ${reply} does not match request ${seq}` });
      return;
    }
    rec.record(sentAtMs, nowMs);
    if (nowMs < rec.endMs) {
      send();
      return;
    }
    clearTimeout(watchdog);
    port.removeAllListeners('message');
    port.postMessage(-1); // the responder closes its end
    post(rec.result());
  });
  send();
}

// ---- Responder ---------------------------------------------------------------------------

function answer(seq: number): void {
  Atomics.store(ctl, CTL_RESPONSE, seq);
  Atomics.notify(ctl, CTL_RESPONSE, 1);
}

/** atomicsBlocking / atomicsSpin: wait for REQUEST to change, echo it into RESPONSE.
 * The answer goes out before any bookkeeping, so only the wake itself is on the measured
 * path; answering the final STOP bump is harmless (nobody waits for it any more). */
function runAtomicsResponder(firstSeen: number): void {
  const requestSpinMs = cfg.mode === 'atomicsBlocking' ? 0 : spinMs;
  let seen = firstSeen;
  for (;;) {
    const v = awaitChange(CTL_REQUEST, seen, requestSpinMs);
    if (v !== seen) {
      seen = v;
      answer(v);
    } else if (performance.now() > lifetimeEndMs) {
      return; // the requester is gone without a STOP: give up on our own
    }
    if (Atomics.load(ctl, CTL_STOP) !== 0) return;
  }
}

/** messagePortPolled: poll the port, spin for spinUs when it is empty, then sleep on the
 * doorbell. Without the doorbell the only way to sleep would be the event loop, which is
 * the messagePort floor. */
function runPolledResponder(): void {
  let idleSinceMs = -1;
  for (;;) {
    const got = receiveMessageOnPort(port);
    if (got !== undefined) {
      answer(got.message as number);
      idleSinceMs = -1;
      continue;
    }
    if (Atomics.load(ctl, CTL_STOP) !== 0) return;
    const nowMs = performance.now();
    if (nowMs > lifetimeEndMs) return;
    if (idleSinceMs < 0) idleSinceMs = nowMs;
    if (nowMs - idleSinceMs < spinMs) continue;
    // Read the doorbell *before* the last look at the port (see the requester's ordering).
    const bell = Atomics.load(ctl, CTL_DOORBELL);
    const late = receiveMessageOnPort(port);
    if (late !== undefined) {
      answer(late.message as number);
      idleSinceMs = -1;
      continue;
    }
    Atomics.wait(ctl, CTL_DOORBELL, bell, WAIT_SLICE_MS);
    idleSinceMs = -1; // woken or timed out: poll, then spin again before the next sleep
  }
}

/** messagePort: the handler sleeps in its event loop until a request arrives. */
function runEventResponder(): void {
  port.on('message', (seq: number) => {
    if (seq < 0) {
      port.close();
      return;
    }
    port.postMessage(seq);
  });
}

// ---- Entry -------------------------------------------------------------------------------

function startRequester(): void {
  // Kept attached (not `once`), which also keeps this worker alive until it is terminated,
  // so its result can never race with its own exit.
  parentPort!.on('message', (m: GoMessage) => {
    if (m.kind !== 'go') return;
    try {
      if (cfg.mode === 'messagePort') runEventRequester();
      else post(runSyncRequester());
    } catch (e) {
      post({ kind: 'error', message: (e as Error).message });
    }
  });
  post({ kind: 'ready' });
}

function startResponder(): void {
  switch (cfg.mode) {
    case 'messagePort':
      runEventResponder();
      post({ kind: 'ready' });
      return;
    case 'messagePortPolled':
      post({ kind: 'ready' });
      runPolledResponder();
      return;
    case 'atomicsBlocking':
    case 'atomicsSpin': {
      // Read the request word *before* announcing readiness: read after, it could already
      // hold request 1, which would then look like "no change" and never be answered.
      const firstSeen = Atomics.load(ctl, CTL_REQUEST);
      post({ kind: 'ready' });
      runAtomicsResponder(firstSeen);
      return;
    }
    default: {
      const unknown: never = cfg.mode;
      throw new Error(`unknown floor mode ${String(unknown)}`);
    }
  }
}

if (cfg.role === 'requester') startRequester();
else startResponder();

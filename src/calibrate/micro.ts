/**
 * The calibration's micro-benchmarks (calibrate.ts): primitives timed on this host for
 * the threaded engine's costs and the exit path's MessagePort: a cache line bounced between two
 * workers, an Atomics wake-up, a page copy, a MessagePort post and receive, the threaded engine's
 * uffd queue operations, and one kernel crossing.
 */
import { fstatSync } from 'node:fs';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { encode, type MemoryFaultRecord } from '../threads/protocol.js';
import { UffdQueue, uffdQueueBytes } from '../threads/uffd-queue.js';

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/** Runs `body` (a function source taking (sab, id)) in `n` workers at once; resolves with their results. */
async function inWorkers(n: number, body: string, sab: SharedArrayBuffer): Promise<number[]> {
  const code = `const { workerData, parentPort } = require('node:worker_threads');
    const f = ${body};
    parentPort.postMessage(f(workerData.sab, workerData.id));`;
  const ws = Array.from({ length: n }, (_, id) => new Worker(code, { eval: true, workerData: { sab, id } }));
  return Promise.all(
    ws.map(
      (w) =>
        new Promise<number>((resolve, reject) => {
          w.once('message', (m: number) => {
            resolve(m);
            void w.terminate();
          });
          w.once('error', reject);
        }),
    ),
  );
}

/** A cache line two cores fight over: per Atomics.add, when both add at once, minus the uncontended add. */
export async function cacheLineUs(): Promise<{ contendedUs: number; uncontendedUs: number }> {
  const body = `(sab, id) => {
    const a = new Int32Array(sab); const N = 2000000;
    Atomics.add(a, 1, 1); while (Atomics.load(a, 1) < 2) {}
    const t0 = performance.now(); for (let i = 0; i < N; i++) Atomics.add(a, 0, 1); return (performance.now() - t0) * 1000 / N; }`;
  const runs: number[] = [];
  for (let k = 0; k < 3; k++) runs.push(...(await inWorkers(2, body, new SharedArrayBuffer(64))));
  const solo = new Int32Array(new SharedArrayBuffer(64));
  const N = 2_000_000;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) Atomics.add(solo, 0, 1);
  const uncontendedUs = ((performance.now() - t0) * 1000) / N;
  return { contendedUs: Math.max(0.001, median(runs) - uncontendedUs), uncontendedUs };
}

/** A futex wake until the woken thread runs: half an Atomics.wait/notify ping-pong round trip. */
export async function wakeupUs(): Promise<number> {
  const body = `(sab, id) => {
    const a = new Int32Array(sab); const N = 3000; const me = id, other = 1 - id;
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      if (id === 0) { Atomics.store(a, 1, 1); Atomics.notify(a, 1); Atomics.wait(a, 0, 0); Atomics.store(a, 0, 0); }
      else { Atomics.wait(a, 1, 0); Atomics.store(a, 1, 0); Atomics.store(a, 0, 1); Atomics.notify(a, 0); }
    }
    return (performance.now() - t0) * 1000 / N / 2; }`;
  const r = await inWorkers(2, body, new SharedArrayBuffer(64));
  return r[0]!;
}

export function timeUs(n: number, f: () => void): number {
  for (let i = 0; i < Math.min(n, 1000); i++) f();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f();
  return ((performance.now() - t0) * 1000) / n;
}

export function pageCopyUs(): number {
  const src = new Int32Array(1024).map((_, i) => i),
    dst = new Int32Array(1024 * 64);
  let k = 0;
  return timeUs(200_000, () => {
    dst.set(src, (k++ & 63) * 1024);
  });
}

/** The exit path's message: one memory_fault record posted and received on a MessagePort (post, receive). */
export function messagePortUs(): { postUs: number; receiveUs: number } {
  const { port1, port2 } = new MessageChannel();
  const rec: MemoryFaultRecord = [0, 0, 2, 4096, 4096, 1, 39]; // exit_reason KVM_EXIT_MEMORY_FAULT
  const N = 20_000;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) port1.postMessage(encode(rec));
  const t1 = performance.now();
  for (let i = 0; i < N; i++) receiveMessageOnPort(port2);
  const t2 = performance.now();
  port1.close();
  return { postUs: ((t1 - t0) * 1000) / N, receiveUs: ((t2 - t1) * 1000) / N };
}

/** The threaded engine's own uffd queue: enqueue, read() scan per slot, wake walk per entry, lock. */
export function uffdQueueCosts(): { lockHoldUs: number; enqueueUs: number; scanPerEntryUs: number; wakePerEntryUs: number; readUs: number } {
  const V = 256;
  const q = new UffdQueue(new SharedArrayBuffer(uffdQueueBytes(V)), V, 20, () => performance.now() * 1000);
  const lockHoldUs = timeUs(200_000, () => {
    q.lock();
    q.unlock();
  });
  const pairUs = timeUs(100_000, () => {
    q.enqueueFault(0, 1, 0, 4096);
    q.cancel(0);
  });
  const out = new Int32Array(8);
  const readUs =
    timeUs(50_000, () => {
      q.enqueueFault(0, 1, 0, 4096);
      q.read(out, 0);
      q.cancel(0);
    }) - pairUs;
  // read() scans all V slots: its cost over an uncontended lock, per slot
  const scanPerEntryUs = Math.max(0, readUs - lockHoldUs) / V;
  for (let v = 1; v < V; v++) q.enqueueFault(v, 1000 + v, 0, 4096);
  const wakeFullUs = timeUs(20_000, () => {
    q.wake(5);
  });
  const wakePerEntryUs = Math.max(0, wakeFullUs - lockHoldUs) / (V - 1);
  return {
    lockHoldUs,
    enqueueUs: Math.max(0, pairUs / 2 - lockHoldUs),
    scanPerEntryUs,
    wakePerEntryUs,
    readUs: Math.max(0, readUs - lockHoldUs - scanPerEntryUs * V),
  };
}

/** One kernel crossing through Node (fstat(0)): a lower bound of a syscall round trip. */
export function syscallUs(): number {
  return timeUs(50_000, () => {
    fstatSync(0);
  });
}

export interface MicroFacts {
  cacheLine: { contendedUs: number; uncontendedUs: number };
  wakeupUs: number;
  pageCopyUs: number;
  port: { postUs: number; receiveUs: number };
  uffdQueue: ReturnType<typeof uffdQueueCosts>;
  syscallUs: number;
}

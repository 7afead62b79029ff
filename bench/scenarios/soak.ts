/**
 * soak: failures and long runs. Seeded random injection plans (200 in the virtual engine, 20 in the
 * threaded one), each predicted before it runs: a fetcher crash loses the guest, everything else
 * recovers and verifies; none may hang (a threaded run is stopped after 60 s and counted as hung).
 * Then one long run per engine (10 M faults virtual, 1 M threaded) with RSS and the live heap sampled
 * as it goes: what the process holds after a full GC, beyond the guest memory it maps up front,
 * must grow < 5% from the end of warm-up (the first fifth) to the end, a target judged in
 * bench/targets.ts (soak-growth); RSS is reported beside. The threaded run's guest memory (one
 * SharedArrayBuffer per memslot, counted in `arrayBuffers`) is most of what it holds, so a growth
 * held against all of it would let a leak of many MiB pass: it is counted apart (`guestMiB`).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { simulate } from '../../src/simulate.js';
import { SimError } from '../../src/errors.js';
import { Rng } from '../../src/model/rng.js';
import { runSideBySide, runsAtOnce } from '../../src/side-by-side.js';
import type { OptionsInput } from '../../src/options.js';
import { fmtInt, mdTable, resolveBenchOptions, type BenchOptions } from '../common.js';

export interface SoakCounts {
  engine: string;
  plans: number;
  asPredicted: number;
  verified: number;
  lost: number;
  hung: number;
  wrong: string[];
}
export interface LongRun {
  engine: string;
  faults: number;
  wallMs: number;
  rssWarmMiB: number;
  rssEndMiB: number;
  growth: number;
  verified: boolean;
  /** JS heap plus ArrayBuffers (what the process allocated), beside RSS (which also counts the OS
   * committing zeroed per-page tables as the guest first touches their pages) */
  heapWarmMiB?: number;
  heapEndMiB?: number;
  /** guest memory held in buffers from the start (threads: its SharedArrayBuffers; virtual: none, it holds versions) */
  guestMiB?: number;
  /** (end - warm) / (warm - guest): growth of what the process holds beyond the guest memory */
  heapGrowth?: number;
}
export interface SoakBody {
  plans: SoakCounts[];
  long: LongRun[];
}

const KINDS = ['link-down', 'link-down:bulk', 'bandwidth', 'latency', 'loss', 'source-restart', 'handler-crash:restart', 'fetcher-crash'] as const;

/** Plan `i`: one to three injections at seeded times, and the options it runs with. */
export function plan(i: number, engine: 'virtual' | 'threads'): { options: OptionsInput; predict: 'verified' | 'GUEST_LOST' } {
  const rng = new Rng(0x50a6, i);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rng.next() * xs.length)]!;
  const n = 1 + Math.floor(rng.next() * 3);
  const inject: string[] = [];
  let predict: 'verified' | 'GUEST_LOST' = 'verified';
  for (let k = 0; k < n; k++) {
    const kind = pick(KINDS);
    const at = 1 + Math.floor(rng.next() * 30),
      d = 1 + Math.floor(rng.next() * 20);
    if (kind === 'fetcher-crash') {
      inject.push('fetcher-crash@0.5ms');
      predict = 'GUEST_LOST';
      continue;
    }
    const [name, arg] = kind.split(':');
    const extra = name === 'bandwidth' ? ':1Gbit' : name === 'latency' ? ':2ms' : name === 'loss' ? ':5' : arg ? `:${arg}` : '';
    inject.push(`${name}@${at}ms+${d}ms${extra}`);
  }
  const options: OptionsInput = {
    engine,
    seed: i + 1,
    vcpus: engine === 'virtual' ? 2 + Math.floor(rng.next() * 7) : 2,
    memory: engine === 'virtual' ? '16MiB' : '8MiB',
    mode: pick(['exit', 'uffd'] as const),
    strategy: pick(['linear', 'preempt', 'stride', 'prepaging'] as const),
    inject,
    ...(engine === 'threads' ? { tailAccesses: 2000, watchdog: '2s' } : {}),
  };
  return { options, predict };
}

async function runPlans(engine: 'virtual' | 'threads', count: number, log: (s: string) => void): Promise<SoakCounts> {
  const c: SoakCounts = { engine, plans: count, asPredicted: 0, verified: 0, lost: 0, hung: 0, wrong: [] };
  let finished = 0;
  const one = async (i: number): Promise<void> => {
    const { options, predict } = plan(i, engine);
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), 60_000);
    let got: string;
    try {
      const r = await simulate(options, { signal: stop.signal });
      got = r.verified ? 'verified' : `not verified: ${r.verifyErrors[0]}`;
      if (r.verified) c.verified++;
    } catch (e) {
      got = e instanceof SimError ? e.code : `crash: ${(e as Error).message}`;
      if (got === 'GUEST_LOST') c.lost++;
      if (got === 'ABORTED') c.hung++;
    } finally {
      clearTimeout(timer);
    }
    if (got === predict) c.asPredicted++;
    else c.wrong.push(`plan ${i} (${(options.inject as string[]).join(' ')}): predicted ${predict}, got ${got}`);
    if (++finished % 20 === 0) log(`soak: ${engine} ${finished}/${count} plans`);
  };
  // Threaded plans are dilated and sleep most of their wall time: side by side, one per core
  // (src/side-by-side.ts); what is judged (the outcome, and no hang) does not depend on the load.
  // The virtual engine is CPU-bound: one plan after another.
  await runSideBySide(count, engine === 'threads' ? runsAtOnce() : 1, one);
  c.wrong.sort((x, y) => Number(/^plan (\d+)/.exec(x)![1]) - Number(/^plan (\d+)/.exec(y)![1]));
  return c;
}

/** Heap samples a long run needs for a growth: the warm-up one (a fifth in) must come after the first. */
const MIN_HEAP_SAMPLES = 5;

let gcFn: (() => void) | null = null;
/** JS heap + ArrayBuffers after a full collection: what the process still holds. */
function liveHeapBytes(): number {
  if (!gcFn) {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

async function longRun(engine: 'virtual' | 'threads', faults: number): Promise<LongRun> {
  const vcpus = engine === 'virtual' ? 64 : 2;
  const perVcpu = Math.ceil(faults / vcpus);
  const rss: number[] = [];
  const heap: number[] = [];
  // heap after a full GC (garbage is not growth): every 50th sample of the virtual run's 1 ms ones
  const heapEvery = engine === 'virtual' ? 50 : 1;
  const t0 = performance.now();
  const r = await simulate(
    {
      engine,
      vcpus,
      memory: vcpus * perVcpu * 4096,
      workload: 'sequential',
      partition: true,
      accesses: perVcpu,
      network: 'none',
      writeRatio: 0,
      ...(engine === 'virtual' ? { mode: 'exit', exitResolver: 'vcpu', profile: 'large-host' } : { mode: 'uffd' }),
    },
    {
      onProgress: () => {
        rss.push(process.memoryUsage().rss);
        if (rss.length % heapEvery === 0) heap.push(liveHeapBytes());
      },
      progressMs: engine === 'virtual' ? 1 : 200,
    },
  );
  const w = Math.floor(rss.length / 5);
  const warm = rss[w] ?? rss[0] ?? 0,
    end = rss[rss.length - 1] ?? warm;
  const heapWarm = heap[Math.floor(heap.length / 5)] ?? heap[0] ?? 0,
    heapEnd = heap[heap.length - 1] ?? heapWarm;
  const MiB = 1024 * 1024;
  const guest = engine === 'threads' ? vcpus * perVcpu * 4096 : 0;
  // Too few heap samples to have one after warm-up and one at the end: the growth is not measured
  // (undefined, so the target says so), never a 0 that would pass.
  const heapMeasured = heap.length >= MIN_HEAP_SAMPLES;
  return {
    engine,
    faults: r.faults,
    wallMs: Math.round(performance.now() - t0),
    rssWarmMiB: Math.round(warm / MiB),
    rssEndMiB: Math.round(end / MiB),
    growth: warm ? end / warm - 1 : 0,
    verified: r.verified,
    heapWarmMiB: Math.round(heapWarm / MiB),
    heapEndMiB: Math.round(heapEnd / MiB),
    guestMiB: Math.round(guest / MiB),
    ...(heapMeasured ? { heapGrowth: heapWarm > guest ? (heapEnd - heapWarm) / (heapWarm - guest) : 0 } : {}),
  };
}

export async function runSoak(bo: BenchOptions = {}): Promise<{ body: SoakBody; summary: string }> {
  const o = resolveBenchOptions(bo);
  const plans = [await runPlans('virtual', o.quick ? 20 : 200, o.log), await runPlans('threads', o.quick ? 3 : 20, o.log)];
  o.log('soak: plans done; long runs');
  const long = [await longRun('virtual', o.quick ? 200_000 : 10_000_000), await longRun('threads', o.quick ? 20_000 : 1_000_000)];
  const body: SoakBody = { plans, long };
  return { body, summary: renderSoak(body) };
}

export function renderSoak(b: SoakBody): string {
  const out = ['### Soak: injection plans and long runs', ''];
  out.push(
    mdTable(
      ['engine', 'plans', 'as predicted', 'verified', 'guest lost', 'hung'],
      b.plans.map((p) => [p.engine, fmtInt(p.plans), fmtInt(p.asPredicted), fmtInt(p.verified), fmtInt(p.lost), fmtInt(p.hung)]),
    ),
  );
  for (const p of b.plans) for (const w of p.wrong.slice(0, 5)) out.push(`- ${p.engine}: ${w}`);
  out.push(
    '',
    mdTable(
      [
        'engine',
        'faults',
        'wall s',
        'RSS after warm-up MiB',
        'RSS at the end MiB',
        'growth',
        'heap + buffers warm / end MiB',
        'of which guest memory MiB',
        'heap growth beyond the guest',
        'verified',
      ],
      b.long.map((l) => [
        l.engine,
        fmtInt(l.faults),
        (l.wallMs / 1000).toFixed(1),
        fmtInt(l.rssWarmMiB),
        fmtInt(l.rssEndMiB),
        `${(l.growth * 100).toFixed(1)}%`,
        l.heapWarmMiB === undefined ? '-' : `${fmtInt(l.heapWarmMiB)} / ${fmtInt(l.heapEndMiB!)}`,
        l.guestMiB === undefined ? 'not recorded' : fmtInt(l.guestMiB),
        l.heapGrowth === undefined ? 'too few samples' : l.guestMiB === undefined ? '-' : `${(l.heapGrowth * 100).toFixed(1)}%`,
        String(l.verified),
      ]),
    ),
    '',
    'RSS also grows as the OS commits the zeroed per-page tables (page state, versions) the first time the guest touches their pages; heap + buffers is what the process still holds after a full GC, and its growth is held against what it holds beyond the guest memory mapped up front.',
    '',
  );
  return out.join('\n');
}

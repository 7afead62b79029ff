/**
 * What a plan of injections (src/model/injections.ts) does to the link and to the run's state, as
 * pure functions of modelled time: both engines ask the same questions and get the same answers.
 *
 *   active ──link down / source dies──▶ paused ──outage over + reconnect──▶ recover ──bitmap in,
 *   resends queued──▶ active                      (QEMU's postcopy-paused and postcopy-recover)
 */
import { parseInjection, type Injection } from './injections.js';

const LIVE_LINK_DOWN = parseInjection('link-down@0ms+1ms');
import { keyedWord, pageKey } from './rng.js';

export type Channel = 'bulk' | 'urgent' | 'inbound';
export type RunState = 'active' | 'paused' | 'recover';

export interface Outage {
  startUs: number;
  endUs: number;
  channel: 'both' | 'bulk' | 'urgent';
  cause: 'link-down' | 'source-restart';
}

export class Impairments {
  readonly outages: Outage[];
  /** injections added while the run played (addLinkDown) */
  readonly live: Injection[] = [];
  private readonly lossKey: number;
  /** The engine's clock reading when the migration started: the plan's times count from it. */
  originUs = 0;
  constructor(
    readonly plan: readonly Injection[],
    seed: number,
    readonly reconnectUs: number,
  ) {
    this.outages = plan
      .filter((i) => i.kind === 'link-down' || i.kind === 'source-restart')
      .map((i) => ({
        startUs: i.atUs,
        endUs: i.atUs + i.durationUs,
        channel: i.kind === 'link-down' ? i.channel : 'both',
        cause: i.kind as Outage['cause'],
      }));
    this.lossKey = pageKey(seed, 0x1055);
  }

  get any(): boolean {
    return this.plan.length > 0;
  }

  /** Something was injected: planned, or cut live while the run played. */
  get injected(): boolean {
    return this.plan.length > 0 || this.live.length > 0;
  }

  private hits(o: Outage, ch: Channel): boolean {
    return o.channel === 'both' || o.channel === ch;
  }

  /** The channel is down at `tUs`. */
  isDown(ch: Channel, atUs: number): boolean {
    const tUs = atUs - this.originUs;
    for (const o of this.outages) if (this.hits(o, ch) && tUs >= o.startUs && tUs < o.endUs) return true;
    return false;
  }

  /** A frame on the wire from `startUs` to `arriveUs` is lost: an outage of its channel began meanwhile. */
  lostInFlight(ch: Channel, sentUs: number, arrivedUs: number): boolean {
    const startUs = sentUs - this.originUs,
      arriveUs = arrivedUs - this.originUs;
    for (const o of this.outages) if (this.hits(o, ch) && o.startUs < arriveUs && o.endUs > startUs) return true;
    return false;
  }

  /** The link's rate at `tUs` (the lowest of the bandwidth drops in force), or `base`. */
  bandwidthAt(atUs: number, base: number): number {
    const tUs = atUs - this.originUs;
    let r = base;
    for (const i of this.plan) if (i.kind === 'bandwidth' && tUs >= i.atUs && tUs < i.atUs + i.durationUs && i.bandwidthBps < r) r = i.bandwidthBps;
    return r;
  }

  /** One-way latency added at `tUs`. */
  extraLatencyAt(atUs: number): number {
    const tUs = atUs - this.originUs;
    let l = 0;
    for (const i of this.plan) if (i.kind === 'latency' && tUs >= i.atUs && tUs < i.atUs + i.durationUs) l += i.latencyUs;
    return l;
  }

  /**
   * Whether frame number `frame` of a link, sent at `tUs`, is lost and retransmitted: a hash of the
   * seed and the frame number, so a sender can know it before it commits the frame.
   */
  lossAt(atUs: number, frame: number): boolean {
    const tUs = atUs - this.originUs;
    for (const i of this.plan) {
      if (i.kind === 'loss' && tUs >= i.atUs && tUs < i.atUs + i.durationUs) return keyedWord(this.lossKey, frame) / 4294967296 + 0.5 < i.lossFraction;
    }
    return false;
  }

  /**
   * The run's states over time, from the plan: paused when the link or the source goes, recover
   * when the outage is over and the two sides have reconnected. (Active again is when the
   * destination's bitmap reached the source: the engine knows when; `recoveredUs` records it.)
   */
  pauses(): Array<{ pausedUs: number; recoverUs: number; cause: string }> {
    const out: Array<{ pausedUs: number; recoverUs: number; cause: string }> = [];
    for (const o of [...this.outages].sort((a, b) => a.startUs - b.startUs)) {
      const last = out[out.length - 1];
      const recoverUs = o.endUs + this.reconnectUs;
      if (last && o.startUs <= last.recoverUs) {
        last.recoverUs = Math.max(last.recoverUs, recoverUs);
        continue;
      }
      out.push({ pausedUs: o.startUs, recoverUs, cause: o.cause });
    }
    return out;
  }

  /** A link-down decided while the run plays (the demo's "cut the link"), from `atUs` on the engine's clock. */
  addLinkDown(atUs: number, durationUs: number): Injection {
    const i: Injection = { ...LIVE_LINK_DOWN, atUs: Math.round(atUs - this.originUs), durationUs };
    this.live.push(i);
    this.outages.push({ startUs: i.atUs, endUs: i.atUs + durationUs, channel: 'both', cause: 'link-down' });
    return i;
  }

  crash(kind: 'handler-crash' | 'fetcher-crash'): Injection | null {
    return this.plan.find((i) => i.kind === kind) ?? null;
  }
}

/** The recovery record of a run (RunResult.recovery). */
export interface RecoveryStats {
  /** every state change: ms since the migration started */
  timeline: Array<{ tMs: number; state: RunState; cause: string }>;
  pausedMs: number;
  framesLost: number;
  pagesResent: number;
  requestsResent: number;
  /** whole-VM blocktime accrued while paused */
  blocktimePausedMs: number;
  /** from the end of the last outage until active again */
  recoverMs: number;
}

/** An injection as the result reports it: its spec and when it started and ended (ms since the migration started). */
export interface InjectionMark {
  spec: string;
  tMs: number;
  durationMs: number;
}

/** What a run's result says about its injections and recovery. */
export interface RecoveryResult extends RecoveryStats {
  injections: InjectionMark[];
}

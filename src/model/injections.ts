/**
 * Failure injections, as both engines see them: what breaks, when (modelled time since the migration
 * started) and for how long. A plan is fixed before the run, so every effect is a pure function of
 * time and the seed, and both engines apply the same plan the same way.
 *
 *   link-down@T+D[:bulk|urgent|both]  the link (or one channel) is down; frames in flight are lost
 *   bandwidth@T+D:RATE                the link runs at RATE meanwhile
 *   latency@T+D:DURATION              one-way latency grows by DURATION meanwhile
 *   loss@T+D:PCT                      PCT% of frames are lost and retransmitted, as TCP does: they
 *                                     arrive one retransmission timeout late, never corrupted
 *   source-restart@T+D                the source process dies and is back after D, with no state
 *   handler-crash@T[+D][:restart]     the uffd handlers die; with :restart, new ones start after D
 *   fetcher-crash@T                   the destination's page fetcher dies: the guest is lost
 */
import { clip } from '../errors.js';
import { parseDuration, parseRate } from '../units.js';

export const INJECTION_KINDS = ['link-down', 'bandwidth', 'latency', 'loss', 'source-restart', 'handler-crash', 'fetcher-crash'] as const;
export type InjectionKind = (typeof INJECTION_KINDS)[number];

export interface Injection {
  kind: InjectionKind;
  atUs: number;
  durationUs: number;
  /** link-down: which channels */
  channel: 'both' | 'bulk' | 'urgent';
  /** bandwidth: the rate meanwhile (bit/s) */
  bandwidthBps: number;
  /** latency: added one-way latency (us) */
  latencyUs: number;
  /** loss: fraction of frames lost */
  lossFraction: number;
  /** handler-crash: new handlers start after the duration */
  restart: boolean;
}

/**
 * Linux TCP's minimum retransmission timeout (TCP_RTO_MIN, 200 ms): on a LAN's short round trip a
 * lost segment is retransmitted after this, which is what a loss costs a frame here.
 */
export const TCP_RTO_MIN_US = 200_000;

/** The slowest link, as --bandwidth (src/limits.ts lists it) and as a bandwidth injection's rate. */
export const MIN_BANDWIDTH_BPS = 10e3;

const SPEC = /^([a-z-]+)@([^+:]+)(?:\+([^:]+))?(?::(.+))?$/;

/** One `--inject` spec; throws a RangeError naming what is wrong. */
export function parseInjection(spec: string): Injection {
  const m = SPEC.exec(spec.trim());
  if (!m) throw new RangeError(`"${clip(spec)}" is not KIND@TIME[+DURATION][:ARG] (e.g. link-down@50ms+20ms)`);
  const kind = m[1] as InjectionKind;
  if (!INJECTION_KINDS.includes(kind)) throw new RangeError(`"${clip(m[1]!)}" is not an injection (one of ${INJECTION_KINDS.join(', ')})`);
  const inj: Injection = {
    kind,
    atUs: parseDuration(m[2]!),
    durationUs: m[3] ? parseDuration(m[3]) : 0,
    channel: 'both',
    bandwidthBps: Infinity,
    latencyUs: 0,
    lossFraction: 0,
    restart: false,
  };
  const arg = m[4];
  const needsDuration = kind !== 'fetcher-crash' && !(kind === 'handler-crash' && arg !== 'restart');
  if (needsDuration && !(inj.durationUs > 0)) throw new RangeError(`${kind} needs a duration: ${kind}@TIME+DURATION`);
  switch (kind) {
    case 'link-down':
      if (arg && arg !== 'bulk' && arg !== 'urgent' && arg !== 'both')
        throw new RangeError(`link-down's channel is bulk, urgent or both, not "${clip(arg ?? '')}"`);
      inj.channel = (arg ?? 'both') as Injection['channel'];
      break;
    case 'bandwidth':
      inj.bandwidthBps = slowedRate(need(arg, 'bandwidth@T+D:RATE'));
      break;
    case 'latency':
      inj.latencyUs = parseDuration(need(arg, 'latency@T+D:DURATION'));
      break;
    case 'loss': {
      const pct = Number(need(arg, 'loss@T+D:PERCENT').replace(/%$/, ''));
      if (!(pct >= 0 && pct <= 100)) throw new RangeError(`loss is a percentage 0..100, not "${clip(arg ?? '')}"`);
      inj.lossFraction = pct / 100;
      break;
    }
    case 'handler-crash':
      if (arg && arg !== 'restart') throw new RangeError(`handler-crash takes :restart or nothing, not "${clip(arg ?? '')}"`);
      inj.restart = arg === 'restart';
      break;
    default:
      if (arg) throw new RangeError(`${kind} takes no argument ("${clip(arg)}")`);
  }
  return inj;
}

/** A slowed link's rate: positive (0 is not "unlimited" here: a link that is down is link-down@T+D). */
function slowedRate(arg: string): number {
  if (/^\s*0+(\.0*)?\s*[a-zA-Z/]*\s*$/.test(arg))
    throw new RangeError(`a slowed link has a positive rate, not "${clip(arg ?? '')}" (a link that is down is link-down@T+D)`);
  const bps = parseRate(arg);
  if (bps < MIN_BANDWIDTH_BPS)
    throw new RangeError(`a slowed link runs at ${MIN_BANDWIDTH_BPS / 1e3}kbit or more (the --bandwidth minimum), not "${clip(arg ?? '')}"`);
  return bps;
}

function need(arg: string | undefined, form: string): string {
  if (!arg) throw new RangeError(`missing the argument: ${form}`);
  return arg;
}

/** A rate as a spec writes it; unlimited (Infinity, or the null JSON writes for it) as `unlimited`. */
const rateSpec = (bps: number | null): string => (bps === null || !Number.isFinite(bps) ? 'unlimited' : bps % 1e6 === 0 ? `${bps / 1e6}Mbit` : `${bps}bit`);

/** An injection written back as its spec (resolved options that are parsed again stay the same). */
export function formatInjection(i: Injection): string {
  const t = (us: number) => (us % 1000 === 0 ? `${us / 1000}ms` : `${us}us`);
  const d = i.durationUs > 0 ? `+${t(i.durationUs)}` : '';
  const arg =
    i.kind === 'link-down'
      ? i.channel === 'both'
        ? ''
        : `:${i.channel}`
      : i.kind === 'bandwidth'
        ? `:${rateSpec(i.bandwidthBps)}`
        : i.kind === 'latency'
          ? `:${t(i.latencyUs)}`
          : i.kind === 'loss'
            ? `:${i.lossFraction * 100}`
            : i.kind === 'handler-crash' && i.restart
              ? ':restart'
              : '';
  return `${i.kind}@${t(i.atUs)}${d}${arg}`;
}

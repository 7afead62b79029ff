// Derives the shipped large-host cost profile (src/virtual/profiles/large-host.json) from this host's
// measured one by the rules below, one rule per kind of cost, each stated in the profile's `sources`.
// Nothing here looks at the published tables, and no end-to-end demand-paging run sets a constant
// (the native/uffd_paging.c runs are held out for validation): micro-benchmarks and public figures only.
// Usage: node scripts/large-host-profile.mjs [this-host.json] [out.json]
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** Cross-socket cache-line transfer on a two-socket server: public core-to-core latency tests put it
 *  at about 0.1-0.2 us (Chips and Cheese, "Core to Core Latency Data on Large Systems", 2023; AnandTech's
 *  core-to-core latency tests of two-socket Xeon and EPYC systems). The middle of that range: */
export const CROSS_SOCKET_LINE_US = 0.15;

/** Growth of one transfer's cost per further concurrent requester (src/virtual/cache-line.ts). The
 *  linear model of Boyd-Wickizer et al. ("Non-scalable locks are dangerous", Linux Symposium 2012)
 *  has the home directory serve the requests for a line one at a time, so a transfer waited on by k
 *  cores costs about k transfers: growth 1. A single-instruction atomic is not retried and a flat
 *  fabric would add nothing: growth 0. David et al. (SOSP 2013, fig. 4) measure a contended atomic's
 *  throughput falling with threads on multi-socket hosts, between those two. The middle of [0, 1];
 *  the sensitivity runs both ends. This host cannot measure it: 2 vCPUs, at most 2 requesters. */
export const LINE_GROWTH = 0.5;

const r4 = (x) => Math.round(x * 10000) / 10000;

/**
 * The wake rule, for both sides of a wake alike. On this 2-vCPU VM a wake that crosses CPUs sends an
 * IPI, which is a VM exit here and not on bare metal; both the waker's first-wake cost (ttwuUs) and
 * the woken side's latency (wakeupUs) carry it. So neither is copied. Each side is this host's cost
 * of the same step measured without a cross-CPU IPI, plus one cross-socket line transfer (the remote
 * run queue and the task's state):
 *   waker:  ttwuNextUs (eventfd write: a further sleeper woken on the already-kicked CPU, no new IPI)
 *   woken:  a whole wake on one CPU (native uffd_mech wakelat: eventfd ping-pong pinned to one CPU,
 *           half a round trip minus the write+read pair) minus the waker's no-IPI part
 */
export function wakeSides(h, measured) {
  const wl = measured?.kernel?.mechanisms?.wakeLatency;
  if (typeof wl?.sameCpuWakeNs !== 'number')
    throw new Error("this host's profile has no measured.kernel.mechanisms.wakeLatency.sameCpuWakeNs (native uffd_mech wakelat)");
  const wakerNoIpiUs = h.ttwuNextUs;
  const wokenNoIpiUs = Math.max(0, wl.sameCpuWakeNs / 1000 - wakerNoIpiUs);
  return {
    wakerNoIpiUs,
    wokenNoIpiUs,
    sameCpuWakeUs: wl.sameCpuWakeNs / 1000,
    ttwuUs: r4(wakerNoIpiUs + CROSS_SOCKET_LINE_US),
    wakeupUs: r4(wokenNoIpiUs + CROSS_SOCKET_LINE_US),
  };
}

/** The large-host profile from this host's measured profile `host` (read from `src`). */
export function deriveLargeHost(host, src = 'src/virtual/profiles/this-host.json') {
  const h = host.costs;
  const wake = wakeSides(h, host.measured);
  const costs = {
    ...h,
    cores: 256,
    lineUs: CROSS_SOCKET_LINE_US,
    lineGrowth: LINE_GROWTH,
    walkWarmUs: h.walkWarmUs,
    walkPerWaiterUs: r4(h.walkWarmUs + CROSS_SOCKET_LINE_US),
    ttwuUs: wake.ttwuUs,
    wakeupUs: wake.wakeupUs,
    copyPerCopierUs: 0,
    continuePerCopierUs: 0,
  };
  const wakeRule = `rule (both sides of a wake): this host's cost of the step without a cross-CPU IPI (a VM exit on this VM, not on bare metal) plus one line transfer (${CROSS_SOCKET_LINE_US} us: the remote run queue)`;
  const sources = {
    cores: 'the published series ran on a 256-core x86 host; modelled as 2 sockets of 64 cores, 2 threads each',
    lineUs: `public: a cross-socket core-to-core cache-line transfer, about 0.1-0.2 us on two-socket servers (Chips and Cheese 2023; AnandTech core-to-core tests); ${CROSS_SOCKET_LINE_US} us, the middle`,
    lineGrowth: `public: ${LINE_GROWTH}, the middle of [0, 1]: 1 is the linear directory model of Boyd-Wickizer et al. 2012, 0 a flat fabric; David et al. SOSP 2013 (fig. 4) measure contended atomics slowing with threads on multi-socket hosts. It applies to the cores spinning on a line: for a qspinlock word the head waiter (at most 2 requesters), for atomic counters none (src/virtual/kernel.ts LOCK_WORD_REQUESTERS). Not measurable on this 2-vCPU host`,
    walkWarmUs: "this host's measured value: an entry in the walker's cache is a core-local read on any host",
    walkPerWaiterUs:
      "rule: a warm entry (walkWarmUs) plus one line transfer (lineUs), as on this host: the entry lives on its faulting thread's stack and was written there since",
    ttwuUs: `${wakeRule}; the waker's no-IPI cost is this host's ttwuNextUs (${h.ttwuNextUs} us: a further sleeper on the already-kicked CPU)`,
    wakeupUs: `${wakeRule}; the woken side's no-IPI latency is a whole wake on one CPU (${r4(wake.sameCpuWakeUs)} us, native uffd_mech wakelat) minus the waker's part (ttwuNextUs): ${r4(wake.wokenNoIpiUs)} us`,
    copyPerCopierUs:
      "rule: 0 beyond the modelled lines (mm_users, the VMA lock, map_changing_lock, f_count, mmu_lock) that concurrent copiers contend on; this host measured its growth with only 2 copiers on 2 vCPUs, which cannot say what 255 would add (the sensitivity run sets it to this host's value)",
    continuePerCopierUs: 'rule: as copyPerCopierUs',
    other: `this host's measured value (${src}, ${host.date}): a VM's costs, likely at or above bare metal's`,
  };
  return {
    $comment: "derived by scripts/large-host-profile.mjs from this host's measured profile; costs in microseconds",
    date: host.date,
    name: 'large-host',
    coresFromHost: false,
    machine: { modelled: 'two-socket x86 server, 256 hardware threads', derivedFrom: host.machine },
    basis: 'kernel',
    costs,
    sources: { ...sources, ...Object.fromEntries(Object.entries(host.sources).filter(([k]) => !(k in sources) && !k.startsWith('threads.'))) },
    measured: {},
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const src = process.argv[2] ?? 'src/virtual/profiles/this-host.json';
  const out = process.argv[3] ?? 'src/virtual/profiles/large-host.json';
  writeFileSync(out, `${JSON.stringify(deriveLargeHost(JSON.parse(readFileSync(src, 'utf8')), src), null, 2)}\n`);
  console.log(`wrote ${out}`);
}

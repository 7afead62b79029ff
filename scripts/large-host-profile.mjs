// Derives the shipped large-host cost profile (src/virtual/profiles/large-host.json) from this host's
// measured one by the rules below, each stated in the profile's `sources`. Nothing here looks at the
// published tables. Usage: node scripts/large-host-profile.mjs [this-host.json] [out.json]
import { readFileSync, writeFileSync } from 'node:fs';

const src = process.argv[2] ?? 'src/virtual/profiles/this-host.json';
const out = process.argv[3] ?? 'src/virtual/profiles/large-host.json';
const host = JSON.parse(readFileSync(src, 'utf8'));
const h = host.costs;

/** Cross-socket cache-line transfer on a two-socket server: public core-to-core latency tests put it
 *  at about 0.1-0.2 us (Chips and Cheese, "Core to Core Latency Data on Large Systems", 2023; AnandTech's
 *  core-to-core latency tests of two-socket Xeon and EPYC systems). The middle of that range: */
const CROSS_SOCKET_LINE_US = 0.15;

/** Growth of one transfer's cost per further concurrent requester (src/virtual/cache-line.ts). The
 *  linear model of Boyd-Wickizer et al. ("Non-scalable locks are dangerous", Linux Symposium 2012)
 *  has the home directory serve the requests for a line one at a time, so a transfer waited on by k
 *  cores costs about k transfers: growth 1. A single-instruction atomic is not retried and a flat
 *  fabric would add nothing: growth 0. David et al. (SOSP 2013, fig. 4) measure a contended atomic's
 *  throughput falling with threads on multi-socket hosts, between those two. The middle of [0, 1];
 *  the sensitivity runs both ends. This host cannot measure it: 2 vCPUs, at most 2 requesters. */
const LINE_GROWTH = 0.5;

const costs = {
  ...h,
  cores: 256,
  lineUs: CROSS_SOCKET_LINE_US,
  lineGrowth: LINE_GROWTH,
  walkWarmUs: h.walkWarmUs,
  walkPerWaiterUs: Math.round((h.walkWarmUs + CROSS_SOCKET_LINE_US) * 10000) / 10000,
  ttwuUs: Math.round((h.ttwuNextUs + CROSS_SOCKET_LINE_US) * 10000) / 10000,
  copyPerCopierUs: 0,
  continuePerCopierUs: 0,
};
const sources = {
  cores: 'the published series ran on a 256-core x86 host; modelled as 2 sockets of 64 cores, 2 threads each',
  lineUs: `public: a cross-socket core-to-core cache-line transfer, about 0.1-0.2 us on two-socket servers (Chips and Cheese 2023; AnandTech core-to-core tests); ${CROSS_SOCKET_LINE_US} us, the middle`,
  lineGrowth: `public: ${LINE_GROWTH}, the middle of [0, 1]: 1 is the linear directory model of Boyd-Wickizer et al. 2012, 0 a flat fabric; David et al. SOSP 2013 (fig. 4) measure contended atomics slowing with threads on multi-socket hosts. Not measurable on this 2-vCPU host`,
  walkWarmUs: 'this host\'s measured value: an entry in the walker\'s cache is a core-local read on any host',
  walkPerWaiterUs: 'rule: a warm entry (walkWarmUs) plus one line transfer (lineUs), as on this host: the entry lives on its faulting thread\'s stack and was written there since',
  ttwuUs: 'rule: this host\'s further-wake cost (ttwuNextUs, no IPI VM exit in it) plus one line transfer (the remote runqueue); this VM\'s first-wake cost includes a VM exit for the IPI that bare metal does not pay',
  copyPerCopierUs: 'rule: 0 beyond the modelled lines (mmap_lock, mmu_lock) that concurrent copiers contend on; this host measured its growth with only 2 copiers on 2 vCPUs, which cannot say what 255 would add (the sensitivity run sets it to this host\'s value)',
  continuePerCopierUs: 'rule: as copyPerCopierUs',
  other: `this host's measured value (${src}, ${host.date}): a VM's costs, likely at or above bare metal's`,
};
const profile = {
  $comment: 'derived by scripts/large-host-profile.mjs from this host\'s measured profile; costs in microseconds',
  date: host.date, name: 'large-host', coresFromHost: false,
  machine: { modelled: 'two-socket x86 server, 256 hardware threads', derivedFrom: host.machine },
  basis: 'kernel', costs, sources: { ...sources, ...Object.fromEntries(Object.entries(host.sources).filter(([k]) => !(k in sources) && !k.startsWith('threads.'))) }, measured: {},
};
writeFileSync(out, `${JSON.stringify(profile, null, 2)}\n`);
console.log(`wrote ${out}`);

// The refactor guard (issue "One model, two drivers"): runs the virtual engine over a seed x mode x
// strategy matrix and either records every result (`--write`, gzipped JSON in test/fixtures) or
// compares the current code's results with the recorded ones, field by field. Host facts (wallMs,
// peakRssBytes) are not compared, nor the fields in ADDED: figures the virtual engine did not
// compute when the baseline was written (they were always 0 or null there).
//   node scripts/virtual-guard.mjs --write   # before a refactor
//   node scripts/virtual-guard.mjs           # after: exit 1 and the differing fields on any change
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { pathToFileURL } from 'node:url';

const FILE = new URL('../test/fixtures/virtual-guard.json.gz', import.meta.url);
const HOST_FIELDS = ['wallMs', 'peakRssBytes'];
/**
 * Fields added to the virtual engine after the baseline: the fault-time breakdown and its raw
 * counters (the refactor), the send order and recovery (issues 9, 12), the per-kind fault records
 * and the fault order (issue 14, src/model/arch/), the time dilation (issue 11; always 1 there).
 */
export const ADDED = ['faultBreakdownUs', 'demandQueueUs', 'sendOrder', 'recovery', 'faultRecords', 'faultOrder', 'dilation'];
export const ADDED_COUNTERS = ['demandQueueUsTotal', 'demandQueueUsMax', 'recordLagUsTotal', 'installLagUsTotal', 'requestLagUsTotal', 'linkStallUsTotal'];

export const MATRIX = [];
for (const seed of [1, 7]) {
  for (const mode of ['exit', 'uffd', 'uffd-per-vcpu', 'none']) {
    const strategies = mode === 'none' ? ['linear'] : ['demand', 'linear', 'prepaging', 'stride', 'preempt', 'hugepage'];
    for (const strategy of strategies) {
      MATRIX.push({
        engine: 'virtual',
        seed,
        strategy,
        vcpus: 4,
        memory: strategy === 'hugepage' ? '64MiB' : '16MiB',
        mode: mode === 'uffd-per-vcpu' ? 'uffd' : mode,
        ...(strategy === 'demand' ? { accesses: 3000 } : {}),
        uffdPerVcpu: mode === 'uffd-per-vcpu',
        handlers: 2,
        tailAccesses: 2000,
      });
    }
  }
}

/** The comparable part of a result: without host facts and added fields. */
export function comparable(r) {
  const out = {};
  for (const [k, v] of Object.entries(r)) {
    if (HOST_FIELDS.includes(k) || ADDED.includes(k)) continue;
    out[k] = k === 'services' ? v.map((s) => Object.fromEntries(Object.entries(s).filter(([c]) => !ADDED_COUNTERS.includes(c)))) : v;
  }
  return out;
}

/** Paths where two values differ (at most `max`). */
export function diff(a, b, path = '', out = [], max = 8) {
  if (out.length >= max) return out;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) diff(a[k], b[k], `${path}.${k}`, out, max);
  } else if (a !== b) out.push(`${path}: was ${JSON.stringify(a)}, now ${JSON.stringify(b)}`);
  return out;
}

export async function runMatrix() {
  const { simulate, resolveOptions } = await import('../dist/src/index.js');
  const got = [];
  for (const cell of MATRIX) got.push({ key: JSON.stringify(cell), result: await simulate(resolveOptions(cell)) });
  return got;
}

export function readBaseline() {
  return JSON.parse(gunzipSync(readFileSync(FILE)).toString('utf8'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const got = await runMatrix();
  if (process.argv.includes('--write')) {
    writeFileSync(FILE, gzipSync(JSON.stringify(got)));
    console.log(`wrote ${got.length} results to ${FILE.pathname}`);
  } else {
    let bad = 0;
    for (const w of readBaseline()) {
      const g = got.find((x) => x.key === w.key);
      const d = g ? diff(comparable(w.result), comparable(g.result)) : ['missing'];
      if (d.length) {
        bad++;
        console.log(`changed: ${w.key}\n  ${d.join('\n  ')}`);
      }
    }
    console.log(`${got.length - bad} of ${got.length} virtual results identical`);
    process.exit(bad ? 1 : 0);
  }
}

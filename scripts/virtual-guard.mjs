// The refactor guard (issue "One model, two drivers"): runs the virtual engine over a seed x mode x
// strategy matrix and either records a fingerprint of every result (`--write`) or checks the current
// code against the recorded one. Everything but wallMs and peakRssBytes (host facts) is compared,
// and fields a later change adds on purpose are listed in ADDED so the guard still pins the rest.
//   node scripts/virtual-guard.mjs --write   # before a refactor
//   node scripts/virtual-guard.mjs           # after: exit 1 and a diff on any change
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolveOptions } from '../dist/src/index.js';

const FILE = new URL('../test/fixtures/virtual-guard.json', import.meta.url);
const HOST_FIELDS = ['wallMs', 'peakRssBytes'];
/** Fields that did not exist (or were always null) when the baseline was written. */
const ADDED = ['faultBreakdownUs', 'engineInfo'];

export const MATRIX = [];
for (const seed of [1, 7]) {
  for (const mode of ['exit', 'uffd', 'uffd-per-vcpu', 'none']) {
    const strategies = mode === 'none' ? ['linear'] : ['demand', 'linear', 'prepaging', 'stride', 'preempt', 'hugepage'];
    for (const strategy of strategies) {
      MATRIX.push({
        engine: 'virtual', seed, strategy, vcpus: 4, memory: strategy === 'hugepage' ? '64MiB' : '16MiB',
        mode: mode === 'uffd-per-vcpu' ? 'uffd' : mode, ...(strategy === 'demand' ? { accesses: 3000 } : {}), uffdPerVcpu: mode === 'uffd-per-vcpu', handlers: 2, tailAccesses: 2000,
      });
    }
  }
}

export async function fingerprint(cell) {
  const { simulate } = await import('../dist/src/index.js');
  const r = await simulate(resolveOptions(cell));
  const kept = Object.fromEntries(Object.entries(r).filter(([k]) => !HOST_FIELDS.includes(k) && !ADDED.includes(k)));
  const json = JSON.stringify(kept);
  return {
    key: JSON.stringify(cell), sha256: createHash('sha256').update(json).digest('hex'),
    faults: r.faults, migrationMs: r.migrationMs, p50: r.faultLatencyUs.p50, pagesDemand: r.pagesDemand, verified: r.verified,
  };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const got = [];
  for (const cell of MATRIX) got.push(await fingerprint(cell));
  if (process.argv.includes('--write')) {
    writeFileSync(FILE, JSON.stringify(got, null, 1) + '\n');
    console.log(`wrote ${got.length} fingerprints to ${FILE.pathname}`);
  } else {
    const want = JSON.parse(readFileSync(FILE, 'utf8'));
    let bad = 0;
    for (const w of want) {
      const g = got.find((x) => x.key === w.key);
      if (!g || g.sha256 !== w.sha256) { bad++; console.log(`changed: ${w.key}\n  was ${JSON.stringify(w)}\n  now ${JSON.stringify(g)}`); }
    }
    console.log(`${want.length - bad} of ${want.length} virtual results identical`);
    process.exit(bad ? 1 : 0);
  }
}

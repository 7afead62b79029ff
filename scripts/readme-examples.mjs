// Regenerates the example-output sections (docs/cli.md) by running the real CLI: what the README shows
// is what the tool printed, not hand-typed. Usage: node scripts/readme-examples.mjs [--check]
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFileAtomically } from './marked-block.mjs';

const sections = {
  cli: [
    [
      'postcopy-sim run --vcpus 4 --memory 256MiB --mode exit',
      "Exit mode (`KVM_EXIT_MEMORY_FAULT`), the default, time-dilated (`auto`, the default on a modelled link: every time is modelled time; the `time dilation` row says D and the simulator's share of a fault):",
    ],
    ['postcopy-sim run --vcpus 4 --memory 256MiB --mode uffd --handlers 2', 'The same guest through one shared userfaultfd queue read by two handler threads:'],
    [
      'postcopy-sim run --vcpus 2 --memory 64MiB --mode uffd --uffd-per-vcpu --partition --workload sequential --accesses 8192 --network none --json',
      'One uffd per vCPU slice, no network (the fetcher copies from a local image, as `demand_paging_test` does), as JSON (one object on stdout; the arrays are cut here):',
    ],
    [
      'postcopy-sim run --engine virtual --arch arm64 --page-tables --mte-fraction 0.5 --exec-ratio 0.2 --vcpus 2 --memory 64MiB --workload random --strategy demand --accesses 2000',
      'An arm64 guest that walks its own page tables, half of it MTE-tagged, a fifth of its reads instruction fetches (virtual engine, pages moved only on faults): the fault records by kind, and how many a syndrome-carrying record would save:',
    ],
  ],
};

function run(cmd) {
  const args = cmd.split(' ').slice(1);
  const r = spawnSync(process.execPath, ['dist/src/cli/main.js', ...args], { encoding: 'utf8', timeout: 900_000 });
  if (r.status !== 0) throw new Error(`${cmd} exited ${r.status}: ${r.stderr}`);
  let out = r.stdout.trimEnd();
  if (args.includes('--json')) {
    const j = JSON.parse(out);
    for (const k of ['timeline', 'latencyCdf', 'latencyDist', 'services', 'pageMap', 'vcpuBlocktimeMs', 'faultRecords'])
      if (k in j) j[k] = Array.isArray(j[k]) ? `[${j[k].length} entries]` : '{...}';
    out = JSON.stringify(j, null, 1);
  }
  return out;
}

const check = process.argv.includes('--check');
let readme = readFileSync('docs/cli.md', 'utf8');
for (const [name, cmds] of Object.entries(sections)) {
  const start = `<!-- ${name}:start -->`,
    end = `<!-- ${name}:end -->`;
  const i = readme.indexOf(start),
    j = readme.indexOf(end);
  if (i < 0 || j < 0) throw new Error(`docs/cli.md has no ${start} ... ${end}`);
  const body = cmds.map(([cmd, text]) => `${text}\n\n\`\`\`\n$ npx ${cmd}\n${check ? '' : run(cmd)}\n\`\`\`\n`).join('\n');
  if (!check) readme = `${readme.slice(0, i + start.length)}\n${body}${readme.slice(j)}`;
}
if (!check) writeFileAtomically('docs/cli.md', readme);
console.log(check ? 'markers present' : 'README examples regenerated');

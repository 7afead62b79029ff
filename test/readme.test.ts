// Goal: the README stays a front door that tells the truth about the tree: short, its two set-up
// commands at the top, its layout naming every folder there is, every link in it and in docs/
// resolving, and every generated block in either having a writer that names it.
// Method: read the files as text (no build needed); the folders come from the file system, so a
// new folder under src/ that the layout does not name fails here.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const DOCS = readdirSync(join(ROOT, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => join('docs', f));

/** Each generated block's writer: the script that rewrites the text between its markers. */
const WRITERS: Record<string, string> = {
  bench: 'scripts/readme-bench.mjs',
  cli: 'scripts/readme-examples.mjs',
  'strategy-tables': 'scripts/readme-strategies.mjs',
  'workloads-bench': 'scripts/readme-workloads.mjs',
  'workloads-table': 'scripts/readme-workloads.mjs',
  agreement: 'bench/agreement.ts',
  'front-door': 'scripts/readme-front-door.mjs',
  limits: 'scripts/cli-limits.mjs',
  'fault-records': 'scripts/readme-results.mjs',
  traces: 'scripts/readme-traces.mjs',
  'sweep-throughput': 'scripts/readme-sweep.mjs',
};

function layoutBlock(): string {
  const at = README.indexOf('## Layout of the code');
  expect(at).toBeGreaterThan(0);
  const open = README.indexOf('```', at),
    close = README.indexOf('```', open + 3);
  return README.slice(open, close);
}

describe('the README', () => {
  it('is at most 350 lines, and opens with exactly the two set-up commands', () => {
    expect(README.split('\n').length).toBeLessThanOrEqual(350);
    const firstBlock = README.slice(README.indexOf('```sh'), README.indexOf('```', README.indexOf('```sh') + 5));
    const commands = firstBlock
      .split('\n')
      .slice(1)
      .filter((l) => l.trim())
      .map((l) => l.split('#')[0]!.trim());
    expect(commands).toEqual(['npm ci && npm start', 'npm ci && npm test']);
  });

  it('its layout names every folder under src/ and every top-level folder', () => {
    const block = layoutBlock();
    const srcDirs = readdirSync(join(ROOT, 'src')).filter((d) => statSync(join(ROOT, 'src', d)).isDirectory());
    expect(srcDirs.length).toBeGreaterThan(5);
    for (const d of srcDirs) expect(block, `src/${d}/`).toMatch(new RegExp(`^  ${d}/ `, 'm'));
    for (const d of ['src', 'workers', 'native', 'bench', 'scripts', 'test', 'docs', 'examples']) {
      expect(existsSync(join(ROOT, d))).toBe(true);
      expect(block, `${d}/`).toMatch(new RegExp(`^${d}/(\\s|$)`, 'm'));
    }
  });
});

describe('README and docs/', () => {
  const files = ['README.md', ...DOCS];

  it.each(files)('%s: every relative link resolves to a file or folder of the tree', (file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/.test(l) && !l.startsWith('#'));
    for (const l of links) {
      const target = resolve(dirname(join(ROOT, file)), l.split('#')[0]!);
      expect(existsSync(target), `${file} links to ${l}`).toBe(true);
    }
  });

  it.each(files)('%s: every generated block has a writer that names it', (file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const m of text.matchAll(/<!-- ([a-z-]+):start -->/g)) {
      const name = m[1]!;
      expect(text, `${file}: ${name} has no end marker`).toContain(`<!-- ${name}:end -->`);
      const writer = WRITERS[name];
      expect(writer, `${file}: nothing writes the ${name} block`).toBeDefined();
      const src = readFileSync(join(ROOT, writer!), 'utf8');
      expect(src, `${writer} does not name ${name}`).toContain(name);
    }
  });
});

// Goal: the shipped example scenarios and trace stay valid as options evolve.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { readScenario } from '../src/cli/args.js';
import { resolveOptions } from '../src/options.js';
import { parseTrace } from '../src/model/trace.js';

const dir = join(import.meta.dirname, '..', 'examples');

it.each(readdirSync(dir).filter((f) => f.endsWith('.json')))('%s resolves', (f) => {
  const o = resolveOptions(readScenario(join(dir, f)) as never);
  expect(o.pages).toBeGreaterThan(0);
});

it('the example trace parses', () => {
  const t = parseTrace(readFileSync(join(dir, 'trace.txt'), 'utf8'), 'trace.txt', 2);
  expect(t.map((x) => x.length)).toEqual([4, 4]);
});

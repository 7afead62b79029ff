// Goal: the published result schema (docs/sweep-result.schema.json) is exactly what the zod schema
// generates, and that zod schema accepts real results of both engines and rejects broken lines.
// Method: regenerate in memory and compare with the checked-in file; validate RunResults of tiny
// simulate() runs (threaded and virtual) inside a record, then break fields one at a time.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { simulate, type RunResult } from '../src/index.js';
import { RunResultSchema, sweepResultJsonSchema, SweepRecordSchema } from '../src/sweep/schema.js';
import { recordLine } from '../src/sweep/output.js';
import { expandSweep } from '../src/sweep/spec.js';
import { WHOLE } from '../src/sweep/shard.js';

const SCHEMA_FILE = join(import.meta.dirname, '..', 'docs', 'sweep-result.schema.json');

describe('docs/sweep-result.schema.json', () => {
  it('is up to date with src/sweep/schema.ts (regenerate: npm run sweep-schema)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(`${JSON.stringify(sweepResultJsonSchema(), null, 2)}\n`);
  });

  it('is a draft 2020-12 schema that requires provenance, options and the status rule', () => {
    const s = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8'));
    expect(s.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(s.required).toEqual(expect.arrayContaining(['schema', 'schemaVersion', 'tool', 'sweep', 'cell', 'options', 'status', 'result', 'error', 'run']));
    expect(s.properties.run.properties.host.required).toEqual(expect.arrayContaining(['hostname', 'cpuModel', 'cpus', 'node']));
    expect(s.oneOf).toHaveLength(2);
  });
});

describe('the zod schema against real results', () => {
  let threads: RunResult, virtual: RunResult;
  const save = (r: RunResult) => JSON.parse(JSON.stringify(r)) as RunResult;
  beforeAll(async () => {
    threads = save(await simulate({ vcpus: 1, memory: '4MiB', accesses: 500, mode: 'uffd' }));
    virtual = save(await simulate({ engine: 'virtual', vcpus: 2, memory: '8MiB', accesses: 500 }));
  });
  const record = (result: RunResult | null) => {
    const sweep = expandSweep({ base: { engine: 'virtual', memory: '8MiB' } }, { defaultName: 's', baseDir: '/' });
    const status = result ? ('ok' as const) : ('error' as const);
    return JSON.parse(
      recordLine(
        sweep,
        sweep.cells[0]!,
        {
          status,
          resultJson: result ? JSON.stringify(result) : null,
          verified: result?.verified ?? false,
          error: result ? null : { code: 'WORKER_DIED', message: 'x' },
          startedAt: new Date().toISOString(),
          wallMs: 1,
        },
        WHOLE,
      ),
    );
  };

  it('accepts RunResults of both engines, alone and inside a record', () => {
    expect(RunResultSchema.safeParse(threads).success).toBe(true);
    expect(RunResultSchema.safeParse(virtual).success).toBe(true);
    expect(SweepRecordSchema.safeParse(record(virtual)).success).toBe(true);
    expect(SweepRecordSchema.safeParse(record(null)).success).toBe(true);
  });

  // biome-ignore lint/suspicious/noExplicitAny: each case corrupts a parsed JSON record in place, any field at any depth
  it.each<[string, (r: Record<string, any>) => void]>([
    [
      'a result field of the wrong type',
      (r) => {
        r.result.faults = '12';
      },
    ],
    [
      'a missing result field',
      (r) => {
        delete r.result.latencyCdf;
      },
    ],
    [
      'ok without a result',
      (r) => {
        r.result = null;
      },
    ],
    [
      'an error with a result',
      (r) => {
        r.status = 'error';
      },
    ],
    [
      'another schema version',
      (r) => {
        r.schemaVersion = 2;
      },
    ],
    [
      'a bad cell id',
      (r) => {
        r.cell.id = 'xyz';
      },
    ],
    [
      'an unknown top-level field',
      (r) => {
        r.extra = 1;
      },
    ],
    [
      'no host facts',
      (r) => {
        delete r.run.host;
      },
    ],
  ])('rejects %s', (_what, breakIt) => {
    const r = record(virtual);
    breakIt(r);
    expect(SweepRecordSchema.safeParse(r).success).toBe(false);
  });
});

/**
 * The sweep result format: one JSON object per line, one line per cell. The zod schema below is the
 * source of truth; docs/sweep-result.schema.json is generated from it (scripts/sweep-schema.mjs, and
 * a test fails when the checked-in file is stale). `report` and `sweep merge` validate every line
 * with it.
 *
 * A line carries everything needed to trust and repeat the cell: the schema version, the tool
 * version and commit, the sweep and cell identity, the complete options (a scenario file for
 * `postcopy-sim run --scenario`), and, under `run`, where and when it ran. `run`, `result.wallMs` and
 * `result.peakRssBytes` are the only fields that differ between two runs of a virtual-engine cell.
 */
import { z } from 'zod';
import type { RunResult } from '../model/result.js';

export const RESULT_SCHEMA_NAME = 'postcopy-sim/sweep-result';
/** Bumped when a field changes meaning or goes away (adding a field keeps the version). */
export const RESULT_SCHEMA_VERSION = 1;

const num = z.number();
const int = z.int().min(0);
const hex16 = z.string().regex(/^[0-9a-f]{16}$/);

const LatencySummarySchema = z.object({ count: num, mean: num, p50: num, p90: num, p99: num, p999: num, max: num });

/** RunResult (src/model/result.ts) field by field; unknown fields are kept, so newer results still load. */
export const RunResultSchema = z.looseObject({
  engine: z.enum(['threads', 'virtual']),
  dilation: z.object({
    factor: num,
    auto: z.boolean(),
    accessUs: num,
    measuredUs: z.object({ fault: num, page: num, access: num }).nullable(),
    modelledFaultUs: num,
    predictedShare: num.nullable(),
    share: num.nullable(),
    linkStallShare: num.nullable(),
    wallEstimateMs: num.nullable(),
    wallBudgetMs: num.nullable().optional(),
    budgetBound: z.boolean().optional(),
    neededFactor: num.nullable().optional(),
  }),
  engineInfo: z.looseObject({
    engine: z.enum(['threads', 'virtual']),
    profile: z.string().nullable(),
    cores: int,
    uffdMode: z.enum(['missing', 'minor']),
    exitResolver: z.enum(['fetcher', 'vcpu']),
  }),
  mode: z.enum(['exit', 'uffd', 'none']),
  strategy: z.string(),
  vcpus: int,
  handlers: int,
  uffdQueues: int,
  workload: z.string(),
  writeRatio: num,
  partition: z.boolean(),
  pageSize: int,
  pages: int,
  memoryBytes: int,
  memslots: int,
  bandwidthBps: num.nullable(),
  latencyUs: num,
  seed: int,
  accesses: int,
  faults: int,
  faultsByFlags: z.object({ read: int, write: int, exec: int }),
  faultsPerSec: num,
  guestMs: num,
  perVcpuPagesPerSec: num,
  faultLatencyUs: LatencySummarySchema,
  blocktimeMs: num,
  vcpuBlocktimeMs: z.array(num),
  migrationMs: num,
  precopyMs: num,
  downtimeMs: num,
  precopyRounds: int,
  pagesResent: int,
  pagesDiscarded: int,
  pagesPrefetched: int,
  pagesUrgent: int,
  pagesDemand: int,
  pagesPushed: int,
  zeroPages: int,
  mergedFaults: int,
  duplicatePages: int,
  requests: int,
  requestsForSentPages: int,
  faultBreakdownUs: z.object({ toFetcher: num, atSource: num, sendQueue: num, wire: num, toInstall: num, toResume: num }).nullable().optional(),
  demandQueueUs: z.object({ mean: num, max: num }),
  bytesOnWire: num,
  bytesToDest: num,
  bytesToSource: num,
  linkUtilisation: num.nullable(),
  peakRssBytes: num,
  wallMs: num,
  uffd: z.looseObject({ acquires: int, contended: int }).nullable(),
  verified: z.boolean(),
  verifyErrors: z.array(z.string()),
  latencyCdf: z.array(z.tuple([num, num])),
  latencyDist: z.array(num),
  timeline: z.array(z.looseObject({ tMs: num, accesses: num, faults: num, presentPages: num, blockedVcpus: num })),
  baselineAccessesPerSec: num.nullable(),
  degradation: num.nullable(),
  pageMap: z.looseObject({ cells: int, pagesPerCell: int, arrivalMs: z.array(num), demand: z.array(num), zero: z.array(num).optional() }).nullable(),
  sendOrder: z
    .array(z.tuple([int, int]))
    .nullable()
    .optional(),
  recovery: z
    .looseObject({
      timeline: z.array(z.object({ tMs: num, state: z.enum(['active', 'paused', 'recover']), cause: z.string() })),
      pausedMs: num,
      framesLost: int,
      pagesResent: int,
      requestsResent: int,
      blocktimePausedMs: num,
      recoverMs: num,
      injections: z.array(z.object({ spec: z.string(), tMs: num, durationMs: num })),
    })
    .nullable(),
  faultRecords: z.looseObject({}),
  faultOrder: z
    .array(z.array(z.tuple([z.string(), num])))
    .nullable()
    .optional(),
  services: z.array(z.looseObject({ role: z.enum(['source', 'fetcher', 'handler', 'preempt']) })),
});

// Compile-time guard: the schema names exactly RunResult's fields (a new field must be added here,
// and the JSON Schema file regenerated).
type SchemaKeys = keyof typeof RunResultSchema.shape;
type Exactly<A, B> = [Exclude<A, B>, Exclude<B, A>] extends [never, never] ? true : { missing: Exclude<A, B>; extra: Exclude<B, A> };
const fieldsMatch: Exactly<keyof RunResult, SchemaKeys> = true;
void fieldsMatch;

export const HostSchema = z.strictObject({
  hostname: z.string(),
  platform: z.string(),
  arch: z.string(),
  kernel: z.string(),
  cpuModel: z.string(),
  cpus: int.describe('logical CPUs of the machine'),
  availableParallelism: int,
  memoryBytes: int,
  node: z.string(),
});

const JsonObject = z.record(z.string(), z.json());

export const SweepRecordSchema = z
  .strictObject({
    schema: z.literal(RESULT_SCHEMA_NAME),
    schemaVersion: z.literal(RESULT_SCHEMA_VERSION),
    tool: z.strictObject({
      name: z.literal('postcopy-sim'),
      version: z.string(),
      commit: z.string().nullable().describe('git commit of the checkout that ran the cell (null outside a git checkout)'),
      dirty: z.boolean().nullable().describe('the checkout had uncommitted changes to tracked files'),
    }),
    sweep: z.strictObject({
      id: hex16.describe('hash of every cell id in order: the same for every shard of one sweep'),
      name: z.string(),
      cells: z.int().min(1).describe('number of cells in the whole sweep (all shards)'),
      axes: z.array(z.string()).describe('the swept option names, then "seed"'),
    }),
    cell: z.strictObject({
      index: int.describe('0-based, row-major over the axes (seeds fastest)'),
      id: hex16.describe('hash of the canonical options'),
      params: JsonObject.describe('the swept values as written in the sweep file'),
    }),
    options: JsonObject.describe('complete options in the input shape (sizes in bytes, rates in bit/s, times in us): a scenario file that re-creates the run'),
    status: z.enum(['ok', 'error']),
    result: RunResultSchema.nullable().describe('the RunResult (postcopy-sim run --json); null when status is error'),
    error: z.strictObject({ code: z.string(), message: z.string() }).nullable(),
    run: z
      .strictObject({
        startedAt: z.string().describe('ISO time the cell started'),
        wallMs: num,
        shard: z.string().describe('K/N: the shard that ran it'),
        host: HostSchema,
      })
      .describe('where and when the cell ran: the only part (with result.wallMs and result.peakRssBytes) that differs between repeats'),
  })
  .superRefine((r, ctx) => {
    if ((r.status === 'ok') !== (r.result !== null))
      ctx.addIssue({ code: 'custom', path: ['result'], message: `must be ${r.status === 'ok' ? 'an object' : 'null'} when status is ${r.status}` });
    if ((r.status === 'error') !== (r.error !== null))
      ctx.addIssue({ code: 'custom', path: ['error'], message: `must be ${r.status === 'error' ? 'an object' : 'null'} when status is ${r.status}` });
  });

export type SweepRecord = z.output<typeof SweepRecordSchema>;
export type Host = z.output<typeof HostSchema>;

/** The JSON Schema (draft 2020-12) published as docs/sweep-result.schema.json. */
export function sweepResultJsonSchema(): Record<string, unknown> {
  const s = z.toJSONSchema(SweepRecordSchema, { target: 'draft-2020-12', unrepresentable: 'throw' }) as Record<string, unknown>;
  // The superRefine above (status ok <-> result, status error <-> error) has no JSON Schema of its
  // own: state it as two alternatives.
  const when = (status: string, result: string, error: string) => ({
    properties: { status: { const: status }, result: { type: result }, error: { type: error } },
  });
  s.oneOf = [when('ok', 'object', 'null'), when('error', 'null', 'object')];
  return {
    $schema: s.$schema,
    title: 'postcopy-sim sweep result (one JSON Lines record per cell)',
    description: `Generated from src/sweep/schema.ts by scripts/sweep-schema.mjs; do not edit. schemaVersion ${RESULT_SCHEMA_VERSION}.`,
    ...Object.fromEntries(Object.entries(s).filter(([k]) => k !== '$schema')),
  };
}

/** The fields that differ between two runs of one virtual-engine cell (wall clock, host). */
export function withoutVolatile(r: SweepRecord): Omit<SweepRecord, 'run'> {
  const { run: _run, ...rest } = r;
  if (!rest.result) return rest;
  const { wallMs: _w, peakRssBytes: _p, ...result } = rest.result;
  return { ...rest, result: result as SweepRecord['result'] };
}

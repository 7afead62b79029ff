/**
 * The complete options of one sweep cell, written back in the input shape: every option the schema
 * knows, with the value the run used (sizes in bytes, rates in bit/s, times in us, defaults filled
 * in), so the object alone is a scenario file that `postcopy-sim run --scenario` turns into the same
 * run. Identities (cell id, sweep id) are hashes of that canonical JSON, so they do not depend on how
 * a value was spelled in the sweep file ("1GiB" and 1073741824 are the same cell).
 */
import { createHash } from 'node:crypto';
import { OptionsSchema, resolveOptions, type OptionsInput } from '../options.js';

/** A JSON object of options in the schema's key order; parses back to the same run. */
export type CanonicalOptions = Record<string, string | number | boolean | Array<{ base: number; size: number }>>;

const OPTION_KEYS = Object.keys(OptionsSchema.shape) as Array<keyof typeof OptionsSchema.shape>;

/**
 * The canonical form of valid options (the caller validated them: this throws on bad input). Keys
 * whose value is "not set" (accesses, trace, costs, cores) are left out, which means the same thing.
 */
export function canonicalOptions(input: OptionsInput): CanonicalOptions {
  const parsed = OptionsSchema.parse(input) as Record<string, unknown>;
  const resolved = resolveOptions(input);
  const out: CanonicalOptions = {};
  for (const key of OPTION_KEYS) {
    // pageSize's default depends on the strategy: write the size the run used.
    let v = key === 'pageSize' ? resolved.pageSize : parsed[key];
    if (v === undefined) continue;
    // An unlimited link parses to Infinity, which JSON cannot hold; the input spelling says the same.
    if (v === Infinity) v = 'unlimited';
    out[key] = v as CanonicalOptions[string];
  }
  return out;
}

/** 16 hex digits of SHA-256: short enough to read, long enough never to collide in one sweep. */
export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** A cell's identity: the hash of its canonical options (built in schema key order, so stable). */
export function cellId(options: CanonicalOptions): string {
  return shortHash(JSON.stringify(options));
}

/** A sweep's identity: the hash of its cells, in order. Every shard of one sweep computes the same. */
export function sweepId(cellIds: string[]): string {
  return shortHash(cellIds.join('\n'));
}

/**
 * The pause conditions a client may send (POST /api/start `until`, POST /api/resume), validated like
 * every other control: one line naming the field on bad input.
 */
import { z } from 'zod';
import { Errors } from '../errors.js';
import { FAULT_KIND_NAMES } from '../model/arch/fault-kind.js';
import { formatZodError } from '../options.js';
import type { PauseCondition } from '../playback.js';

const ConditionSchema = z.strictObject({
  fault: z.union([z.literal('any'), z.array(z.enum(FAULT_KIND_NAMES)).min(1).max(FAULT_KIND_NAMES.length)]).optional(),
  queuedAtLeast: z.number().int().min(1).max(1e6).optional(),
  faultsAtLeast: z.number().int().min(1).max(1e12).optional(),
  presentAtLeast: z.number().gt(0).max(1).optional(),
  runState: z.enum(['active', 'paused', 'recover']).optional(),
});

/** A condition from a request body (undefined / null: none). Throws BAD_INPUT. */
export function parseCondition(v: unknown, field = 'until'): PauseCondition | null {
  if (v === undefined || v === null) return null;
  const r = ConditionSchema.safeParse(v);
  if (!r.success) throw Errors.badInput('', `${field}.${formatZodError(r.error)}`);
  return r.data;
}

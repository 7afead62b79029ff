/**
 * The kinds of fault a vCPU can take in this simulator, by cause, numbered once for both engines.
 * A kind says what stopped the vCPU, not how the record describes it: a stage-1 page-table walk
 * (FK_WALK) shows up in the arch-neutral record as a WRITE on the page-table page, an MTE tag
 * fault (FK_MTE) as the access's READ or WRITE, and only the raw syndrome tells them apart.
 *
 *   FK_READ FK_WRITE FK_EXEC  a data or instruction access to a page missing on the destination
 *   FK_WALK                   the guest's own page-table walk touched a missing page-table page
 *                             (arm64: S1PTW abort; x86: EPT violation on a paging-structure entry)
 *   FK_MTE                    arm64: a tag-checked access to a page whose allocation tags are not
 *                             restored yet (stage-2 NoTagAccess, FEAT_MTE_PERM)
 *   FK_CONVERT                confidential guest: the access's private/shared attribute does not
 *                             match the page's (TDX, SNP, CCA): resolved by conversion
 */
import { Access } from '../uapi.js';

export const FK_READ = 0;
export const FK_WRITE = 1;
export const FK_EXEC = 2;
export const FK_WALK = 3;
export const FK_MTE = 4;
export const FK_CONVERT = 5;
/** No obstacle: the access proceeds. */
export const FK_NONE = -1;
export const FAULT_KIND_COUNT = 6;

export const FAULT_KIND_NAMES = ['read', 'write', 'exec', 'walk', 'mte', 'convert'] as const;
export type FaultKindName = (typeof FAULT_KIND_NAMES)[number];

/** One line per kind, for tables and the demo. */
export const FAULT_KIND_LABELS: Record<FaultKindName, string> = {
  read: 'data read of a missing page',
  write: 'data write to a missing page',
  exec: 'instruction fetch from a missing page',
  walk: 'stage-1 page-table walk hit a missing page-table page',
  mte: 'MTE tag access to a page whose tags are not restored',
  convert: 'private/shared mismatch (confidential guest)',
};

/** The kind of a plain access to a missing page. */
export function dataKind(access: Access): number {
  return access === Access.Write ? FK_WRITE : access === Access.Exec ? FK_EXEC : FK_READ;
}

/** Kinds the VMM resolves by fetching a page; the others it resolves on the vCPU thread. */
export function isFetchKind(kind: number): boolean {
  return kind <= FK_WALK;
}

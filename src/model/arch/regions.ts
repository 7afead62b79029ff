/**
 * Per-page architectural state beyond presence, shared by every vCPU of a run: which pages are
 * private (a confidential guest's attribute, as KVM_SET_MEMORY_ATTRIBUTES keeps it) and whether an
 * MTE-tagged page's allocation tags are restored. One byte per page each, over a SharedArrayBuffer
 * in the threaded engine and a plain buffer in the virtual one.
 *
 * Regions come in 2 MiB blocks chosen by hash of (seed, block), like the source image's zero pages:
 * a block is MTE-tagged with probability mteFraction (a heap allocator's tagged arenas), and in a
 * confidential guest shared with probability sharedFraction (bounce buffers for devices), private
 * otherwise. The guest's page-table pages are always private and never tagged.
 */
import { fmix32 } from '../rng.js';
import type { Stage1Table } from './stage1.js';

export const ATTR_SHARED = 0;
export const ATTR_PRIVATE = 1;
/** tags[] values: a tagged page whose tags are not restored, and every other page. */
export const TAGS_MISSING = 0;
export const TAGS_OK = 1;
export const REGION_BYTES = 2 * 1024 * 1024;

export interface ArchStateConfig {
  /** 'none': all memory present from the start (the no-migration baseline), tags included. */
  mode: 'exit' | 'uffd' | 'none';
  pages: number;
  pageSize: number;
  seed: number;
  confidential: boolean;
  sharedFraction: number;
  mteFraction: number;
}

/** The two per-page byte arrays (null when the run does not model them). */
export interface ArchState {
  attrs: Uint8Array | null;
  tags: Uint8Array | null;
}

function inRegion(seed: number, salt: number, page: number, pageSize: number, fraction: number): boolean {
  if (fraction <= 0) return false;
  if (fraction >= 1) return true;
  const block = Math.floor((page * pageSize) / REGION_BYTES);
  return (fmix32(fmix32(block ^ salt) ^ seed) >>> 0) / 4294967296 < fraction;
}

export function isTaggedPage(c: ArchStateConfig, page: number): boolean {
  return inRegion(c.seed, 0x4d5445, page, c.pageSize, c.mteFraction);
}

export function isSharedAtStart(c: ArchStateConfig, page: number): boolean {
  return inRegion(c.seed, 0x534852, page, c.pageSize, c.sharedFraction);
}

/** Bytes the state needs: one per page for each array the run models. */
export function archStateBytes(c: ArchStateConfig): number {
  return (c.confidential ? c.pages : 0) + (c.mteFraction > 0 ? c.pages : 0);
}

/** Views over `buf` (archStateBytes long), filled with the state at the switch to postcopy. */
export function initArchState(c: ArchStateConfig, buf: ArrayBufferLike, tables: Stage1Table | null): ArchState {
  const s = openArchState(c, buf);
  if (s.attrs) for (let p = 0; p < c.pages; p++) s.attrs[p] = isSharedAtStart(c, p) && !tables?.isTablePage(p) ? ATTR_SHARED : ATTR_PRIVATE;
  if (s.tags) for (let p = 0; p < c.pages; p++) s.tags[p] = c.mode !== 'none' && isTaggedPage(c, p) && !tables?.isTablePage(p) ? TAGS_MISSING : TAGS_OK;
  return s;
}

/** Views over an already initialised buffer (another thread's). */
export function openArchState(c: ArchStateConfig, buf: ArrayBufferLike): ArchState {
  let at = 0;
  const attrs = c.confidential ? new Uint8Array(buf, at, c.pages) : null;
  if (attrs) at += c.pages;
  const tags = c.mteFraction > 0 ? new Uint8Array(buf, at, c.pages) : null;
  return { attrs, tags };
}

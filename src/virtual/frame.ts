/**
 * A page frame as the virtual engine carries it in an event's argument and a thread's arrivals: the
 * page, the source's version of it (what the copy holds, src/model/precopy.ts) and the frame flags
 * (PAGE_FLAG_*, below 64), packed in one double so that sending a frame allocates nothing.
 * Versions are the model's 8-bit ones; a 1 TiB guest at 4 KiB pages packs into 2^42, well inside
 * 2^53. DISCARD_ARRIVAL (-1, src/virtual/source.ts) is not a frame.
 */
const FLAGS = 64;
const VERSIONS = 256;
const PER_PAGE = FLAGS * VERSIONS;

export const frameOf = (page: number, flags: number, version: number): number => page * PER_PAGE + (version % VERSIONS) * FLAGS + flags;
export const framePage = (frame: number): number => Math.floor(frame / PER_PAGE);
export const frameFlags = (frame: number): number => frame % FLAGS;
export const frameVersion = (frame: number): number => Math.floor(frame / FLAGS) % VERSIONS;

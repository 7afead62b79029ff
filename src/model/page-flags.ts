/**
 * Why a page travelled, as the bits of a page frame's flags (src/threads/protocol.ts puts them on the
 * wire; the virtual engine carries them in its events). Both engines count pages by these bits.
 */
export const PAGE_FLAG_ZERO = 1; // no payload: the page is all zeros (UFFDIO_ZEROPAGE)
export const PAGE_FLAG_DEMAND = 2; // sent because the destination asked for it
export const PAGE_FLAG_RESENT = 4; // the source had sent it before (a precopy resend)
export const PAGE_FLAG_PRECOPY = 8; // sent during precopy: the guest is not running here yet, overwrite
export const PAGE_FLAG_PREFETCH = 16; // sent by the strategy right behind a demanded page
/** Frame header bytes of a page and of a request (msgpack'd tuples: what the threaded engine measures). */
export const PAGE_HEADER_BYTES = 16;
export const REQUEST_BYTES = 12;

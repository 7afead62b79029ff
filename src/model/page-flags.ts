/**
 * Why a page travelled, as the bits of a page frame's flags (src/threads/protocol.ts puts them on the
 * wire; the virtual engine carries them in its events). Both engines count pages by these bits.
 */
export const PAGE_FLAG_ZERO = 1; // no payload: the page is all zeros (UFFDIO_ZEROPAGE)
export const PAGE_FLAG_DEMAND = 2; // sent because the destination asked for it
export const PAGE_FLAG_RESENT = 4; // the source had sent it before (a precopy resend)
export const PAGE_FLAG_PRECOPY = 8; // sent during precopy: the guest is not running here yet, overwrite
export const PAGE_FLAG_PREFETCH = 16; // sent by the strategy right behind a demanded page
/**
 * Bytes each frame costs the modelled link, in both engines (the threaded engine's binary records
 * are simulation storage, not these): a page's header, a request, and a discard list (a header,
 * then each page number varint-sized, at most DISCARDS_PER_FRAME per frame).
 */
export const PAGE_HEADER_BYTES = 16;
export const REQUEST_BYTES = 12;
export const DISCARD_BYTES_PER_PAGE = 5;
export const DISCARDS_PER_FRAME = 8192;

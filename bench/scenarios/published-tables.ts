/**
 * The published tables the published bench is held against (../shared/uapi.md): the
 * KVM_EXIT_MEMORY_FAULT v7 cover letter's series and the KVM Userfault v1 cover's table. Data only.
 */
export const SERIES_VCPUS = [1, 2, 4, 8, 16, 32, 64, 128, 256];
/** Thousands of pages/s, overall (uapi.md). */
export const SERIES_UFFD = [150, 191, 210, 155, 130, 108, 86, 62, 36];
export const SERIES_EXITS = [340, 477, 809, 1239, 1595, 2299, 3482, 4134, 4012];
export const USERFAULT_VCPUS = [2, 8, 64];
/** Pages/s per vCPU (uapi.md). */
export const USERFAULT = {
  'uffd-1': [90724, 26059, 3029],
  'uffd-n': [86840, 37912, 1664],
  'uffd-pervcpu': [102661, 56978, 11300],
  exits: [160326, 128247, 39913],
  /** first touch through GUP, no uffd registered (src/virtual/first-touch.ts): the mm-wide terms alone */
  'no-userfault': [306845, 220402, 47720],
} as const;
export type UserfaultColumn = keyof typeof USERFAULT;

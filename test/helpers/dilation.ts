// Fixed time dilations for threaded runs whose point is what was migrated, not the simulator's share.
// Why: the default, `auto`, measures the host before a run of a new shape (a fault probe, the
// pipeline probe and an access probe): 10-15 s of a test's time on this 2-core machine, more for
// 2 MiB pages (measured: a 32 MiB hugepage run took 16.9 s with auto, 0.65 s at D=1). A check on
// pages, faults and verification gets the same answer at any dilation, so such a test names one.
// test/dilation.test.ts and test/agreement.test.ts keep `auto`: it is their point.

/** No stretching: the simulator's own cost is in the modelled times, which these tests do not check. */
export const UNDILATED = 1;
/**
 * Modelled time 20x slower than the wall: for injections planned at a modelled time that must find
 * the threads already moving pages (a loaded machine can deschedule a thread for a few wall ms).
 */
export const STRETCHED = 20;

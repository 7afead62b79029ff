/**
 * What each scheduled event of the virtual engine does next: one number per step of an actor
 * (after PH_WOKEN and PH_SPIN_END, the kernel's own). The dispatcher (sim.ts) maps each to its actor.
 */
export const enum Ph {
  Woken = 0, SpinEnd = 1,
  Arrive, Preempt,
  VRun, VFaultDone, VUffdHeld, VUffdRel, VUffdCancelRel, VResume,
  FLoop, FFault, FSent, FDiscard,
  HLoop, HReadHeld, HReadRel, HGot, HEmpty, HSent,
  InstStart, InstMmHeld, InstMmRel, InstPublish, InstWakeHeld, InstWakeRel,
  SrcReq, SrcTx, SrcRoundEnd,
}

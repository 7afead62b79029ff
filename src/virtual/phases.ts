/**
 * What each scheduled event of the virtual engine does next: one number per step of an actor
 * (after PH_WOKEN and PH_SPIN_END, the kernel's own). The dispatcher (sim.ts) maps each to its actor.
 */
export const enum Ph {
  Woken = 0,
  SpinEnd = 1,
  Arrive,
  Preempt,
  // vCPU
  VRun,
  VTouch,
  VFinish,
  VGup,
  VGupNext,
  VSleep,
  VRetry,
  VFaultDone,
  VRequest,
  VArrived,
  VReenter,
  VResume,
  VFirstTouch,
  VMap,
  // page fetcher / listen thread, and the preempt-channel thread
  FLoop,
  FFault,
  FSent,
  FDiscard,
  // uffd handler
  HPoll,
  HPollSleep,
  HPollWoken,
  HRead,
  HGot,
  HSent,
  // install (any thread)
  InstStart,
  InstPublish,
  // the source
  SrcReq,
  SrcTx,
  SrcRoundEnd,
  // injections and recovery (the source actor runs them)
  SrcPause,
  SrcRecover,
  SrcBitmap,
  InjHandlerCrash,
  InjHandlerRestart,
  InjFetcherCrash,
}

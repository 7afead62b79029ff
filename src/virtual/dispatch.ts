/**
 * The virtual engine's dispatcher: the one place that maps a scheduled event (actor, phase) to the
 * actor step that runs it. The source host's events (and the injections it runs) have their own table.
 */
import { applyDiscards, fetcherFault, fetcherLoop } from './fetcher.js';
import { handlerGot, handlerPoll, handlerPollSleep, handlerPollWoken, handlerRead } from './handler.js';
import { vcpuFirstTouch, vcpuMap } from './first-touch.js';
import { installCopy, installPublish } from './installer.js';
import { Ph } from './phases.js';
import { onBitmap, onFetcherCrash, onHandlerCrash, onHandlerRestart, onPause, onRecover } from './recovery.js';
import { onArrive } from './service.js';
import type { VirtualSim } from './sim.js';
import { onPrecopyRoundEnd, onRequest, onTx, sendRequest } from './source.js';
import {
  vcpuArrived,
  vcpuFaultDone,
  vcpuFinish,
  vcpuGup,
  vcpuGupNext,
  vcpuReenter,
  vcpuRequested,
  vcpuResume,
  vcpuRetry,
  vcpuRun,
  vcpuSleep,
  vcpuTouch,
} from './vcpu.js';

export function dispatch(sim: VirtualSim, id: number, ph: number, arg: number): void {
  if (id === sim.sourceId) {
    dispatchSource(sim, ph, arg);
    return;
  }
  if (sim.dead[id]) return; // a crashed thread's leftover events
  const t = sim.threads[id]!;
  switch (ph) {
    case Ph.Woken:
      sim.woken(t);
      return;
    case Ph.SpinEnd:
      sim.spinEnd(t, arg);
      return;
    case Ph.Arrive:
      onArrive(sim, t, arg);
      return;
    case Ph.Preempt:
      sim.releaseCore(t);
      sim.cpu(t, 0, Ph.VRun);
      return;
    case Ph.VRun:
      vcpuRun(sim, t);
      return;
    case Ph.VTouch:
      vcpuTouch(sim, t);
      return;
    case Ph.VFinish:
      vcpuFinish(sim, t);
      return;
    case Ph.VGup:
      vcpuGup(sim, t);
      return;
    case Ph.VGupNext:
      vcpuGupNext(sim, t);
      return;
    case Ph.VFirstTouch:
      vcpuFirstTouch(sim, t);
      return;
    case Ph.VMap:
      vcpuMap(sim, t);
      return;
    case Ph.VSleep:
      vcpuSleep(sim, t);
      return;
    case Ph.VRetry:
      vcpuRetry(sim, t);
      return;
    case Ph.VFaultDone:
      vcpuFaultDone(sim, t);
      return;
    case Ph.VRequest:
      vcpuRequested(sim, t);
      return;
    case Ph.VArrived:
      vcpuArrived(sim, t);
      return;
    case Ph.VReenter:
      vcpuReenter(sim, t);
      return;
    case Ph.VResume:
      vcpuResume(sim, t);
      return;
    case Ph.FLoop:
      fetcherLoop(sim, t);
      return;
    case Ph.FFault:
      fetcherFault(sim, t);
      return;
    case Ph.FDiscard:
      applyDiscards(sim, t);
      return;
    case Ph.FSent:
    case Ph.HSent:
      sendRequest(sim, t);
      sim.schedule(sim.now, t, ph === Ph.FSent ? Ph.FLoop : Ph.HPoll);
      return;
    case Ph.HPoll:
      handlerPoll(sim, t);
      return;
    case Ph.HPollSleep:
      handlerPollSleep(sim, t);
      return;
    case Ph.HPollWoken:
      handlerPollWoken(sim, t);
      return;
    case Ph.HRead:
      handlerRead(sim, t);
      return;
    case Ph.HGot:
      handlerGot(sim, t);
      return;
    case Ph.InstStart:
      installCopy(sim, t);
      return;
    case Ph.InstPublish:
      installPublish(sim, t);
      return;
    default:
      throw new Error(`assertion failed: unknown phase ${ph}`);
  }
}
function dispatchSource(sim: VirtualSim, ph: number, arg: number): void {
  switch (ph) {
    case Ph.SrcReq:
      onRequest(sim);
      return;
    case Ph.SrcTx:
      onTx(sim);
      return;
    case Ph.SrcRoundEnd:
      onPrecopyRoundEnd(sim);
      return;
    case Ph.SrcPause:
      onPause(sim, arg);
      return;
    case Ph.SrcRecover:
      onRecover(sim, arg);
      return;
    case Ph.SrcBitmap:
      onBitmap(sim);
      return;
    case Ph.InjHandlerCrash:
      onHandlerCrash(sim);
      return;
    case Ph.InjHandlerRestart:
      onHandlerRestart(sim);
      return;
    case Ph.InjFetcherCrash:
      onFetcherCrash(sim);
      return; // it throws: the run ends as a crash
    default:
      throw new Error(`assertion failed: unknown source phase ${ph}`);
  }
}

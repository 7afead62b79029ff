/**
 * Who installs a page on the destination, as QEMU does it, the same in both engines: the postcopy
 * listen thread takes the bulk stream (pushed pages, and demanded ones in vanilla postcopy), the
 * preempt-channel thread takes pages sent on the urgent channel, and a vCPU that resolves its own
 * memory-fault exit (exit resolver 'vcpu') installs the page it asked for itself. uffd handler
 * threads only read faults and ask for pages; they never receive one.
 */
import type { ResolvedOptions } from './config.js';
import { PAGE_FLAG_DEMAND } from './page-flags.js';

export const TO_LISTEN = 0,
  TO_PREEMPT = 1,
  TO_VCPU = 2;
export type Installer = typeof TO_LISTEN | typeof TO_PREEMPT | typeof TO_VCPU;

/** The vCPU resolves its own exit: it asks for the page and installs it, no shared thread between. */
export function vcpuResolvesExits(opts: ResolvedOptions): boolean {
  return opts.mode === 'exit' && opts.exitResolver === 'vcpu';
}

/** Who installs a frame with these flags, sent on the urgent socket or not. */
export function frameInstaller(opts: ResolvedOptions, flags: number, urgent: boolean): Installer {
  if (flags & PAGE_FLAG_DEMAND && vcpuResolvesExits(opts)) return TO_VCPU;
  return urgent ? TO_PREEMPT : TO_LISTEN;
}

/** The run has a preempt-channel thread (the strategy sends demanded pages on an urgent socket). */
export function hasPreemptThread(opts: ResolvedOptions, urgentChannel: boolean): boolean {
  return urgentChannel && opts.mode !== 'none' && opts.network === 'link' && !vcpuResolvesExits(opts);
}

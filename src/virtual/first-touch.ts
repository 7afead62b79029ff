/**
 * No userfault: the guest's memory is plain anonymous memory that nothing has touched yet, and no
 * userfaultfd is registered on it (the "no userfault" column of the KVM Userfault v1 cover letter,
 * /work/shared/uapi.md). A stage-2 fault on a missing page neither exits nor sleeps: KVM's slow
 * path (virt/kvm/kvm_main.c hva_to_pfn -> hva_to_pfn_slow -> get_user_pages_unlocked, under
 * mmap_read_lock) faults the page in itself (handle_mm_fault -> do_anonymous_page: allocate,
 * zero, map under the PTE lock) and the vCPU maps it under read_lock(&kvm->mmu_lock).
 *
 * It touches only mm-wide lines (mmap_lock's count, kvm->mmu_lock's): no uffd, no wait queue, no
 * wake. So the column checks those terms on their own, apart from every userfaultfd one.
 *
 *   vCPU: faultUs (trap, KVM lookup, the fast GUP that fails), mmap_lock [mmapLockLines],
 *         the fill [copyUs + copyPerCopierUs per other filler: allocate, fill, map one 4 KiB page],
 *         mmu_lock [mmuLockLines], resume
 *
 * faultUs + copyUs is by its derivation (src/calibrate/calibrate.ts) this host's measured
 * first-touch fault on fresh anonymous memory (native/uffd_paging.c firstTouchUsPerPage).
 */
import { decideFault, FAULT_PRESENT, FAULT_REQUEST } from '../model/fault-decision.js';
import { PAGE_FLAG_DEMAND } from '../model/page-flags.js';
import { beginInstall } from './installer.js';
import type { Thread } from './kernel.js';
import { Ph } from './phases.js';
import type { VirtualSim } from './sim.js';
import { waitOnPage } from './vcpu.js';

/** The GUP inside the stage-2 fault: the kernel fills the page, unless it is there already or being filled. */
export function vcpuFirstTouch(sim: VirtualSim, t: Thread): void {
  const d = decideFault(sim, t.page, null);
  if (d === FAULT_REQUEST) {
    beginInstall(sim, t, t.page, PAGE_FLAG_DEMAND, Ph.VMap);
    return;
  }
  if (d === FAULT_PRESENT) {
    vcpuMap(sim, t);
    return;
  }
  waitOnPage(sim, t, t.page, Ph.VMap); // another vCPU's fault fills it (the page lock in the kernel)
}

/** The GUP's page in hand: KVM maps it into the stage-2 table under kvm->mmu_lock, and the access runs. */
export function vcpuMap(sim: VirtualSim, t: Thread): void {
  const c = sim.c;
  sim.schedule(sim.mmu.line(t.id, sim.now, c.mmuLockLines, c), t, Ph.VResume);
}

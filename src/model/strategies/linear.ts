/**
 * linear: QEMU's default postcopy. The bulk stream pushes pages in address order; a requested page
 * is sent first, and "the dirty page scanning restarts from the requested location" (QEMU's
 * docs/devel/migration/postcopy.rst), so the push continues right after the faulting page.
 */
import { POSTCOPY_TRAITS, Scan, type Strategy, type StrategyEnv } from './strategy.js';

export const linearTraits = POSTCOPY_TRAITS;

export class Linear implements Strategy {
  readonly name: string = 'linear';
  readonly urgentChannel: boolean = linearTraits.urgentChannel;
  readonly pushWhileGuestRuns: boolean = linearTraits.pushWhileGuestRuns;
  protected readonly scan: Scan;
  private readonly pages: number;
  constructor(env: StrategyEnv) {
    this.pages = env.pages;
    this.scan = new Scan(env.pages);
  }
  onRequest(page: number, _vcpu: number, _nowUs: number, _prefetch: number[]): void {
    this.scan.moveTo(page + 1 < this.pages ? page + 1 : 0);
  }
  nextPush(sent: Uint8Array): number {
    return this.scan.next(sent);
  }
}

export function linear(env: StrategyEnv): Strategy {
  return new Linear(env);
}

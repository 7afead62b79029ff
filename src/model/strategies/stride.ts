/**
 * stride: per-vCPU stride detection. When a vCPU's last three faults are equally spaced (a
 * sequential or strided scan), the next `depth` pages along that stride are sent right behind the
 * demanded one, so the vCPU's next faults find them present. The background push is linear.
 */
import { Linear } from './linear.js';
import { POSTCOPY_TRAITS, type Strategy, type StrategyEnv } from './strategy.js';

export const strideTraits = POSTCOPY_TRAITS;

export const STRIDE_PREFETCH_DEPTH = 8;

class Stride extends Linear {
  override readonly name = 'stride';
  private readonly last: Float64Array;
  private readonly stride: Float64Array;
  constructor(private readonly env: StrategyEnv) {
    super(env);
    this.last = new Float64Array(env.vcpus).fill(-1);
    this.stride = new Float64Array(env.vcpus);
  }
  override onRequest(page: number, vcpu: number, nowUs: number, prefetch: number[]): void {
    super.onRequest(page, vcpu, nowUs, prefetch);
    if (vcpu < 0 || vcpu >= this.env.vcpus) return;
    const prev = this.last[vcpu]!;
    const s = prev < 0 ? 0 : page - prev;
    if (s !== 0 && s === this.stride[vcpu]) {
      for (let k = 1; k <= STRIDE_PREFETCH_DEPTH; k++) {
        const p = page + k * s;
        if (p < 0 || p >= this.env.pages) break;
        prefetch.push(p);
      }
    }
    this.stride[vcpu] = s;
    this.last[vcpu] = page;
  }
}

export function stride(env: StrategyEnv): Strategy {
  return new Stride(env);
}

/**
 * The part of the WebAssembly JS API this project uses (Node has it; @types/node 20 does not declare
 * it, and lib.dom would bring the whole browser). The wire rings are shared memories and the source
 * derives pages with a small SIMD module (src/threads/page-deriver.ts).
 */
declare namespace WebAssembly {
  interface MemoryDescriptor {
    initial: number;
    maximum?: number;
    shared?: boolean;
  }
  class Memory {
    constructor(descriptor: MemoryDescriptor);
    readonly buffer: ArrayBuffer | SharedArrayBuffer;
  }
  class Module {
    constructor(bytes: Uint8Array);
  }
  type Imports = Record<string, Record<string, Memory | ((...args: number[]) => unknown)>>;
  class Instance {
    constructor(module: Module, imports?: Imports);
    readonly exports: Record<string, unknown>;
  }
}

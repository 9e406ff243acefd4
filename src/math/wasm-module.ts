/**
 * Loading this project's WebAssembly modules (assembly/, built into base64 strings by
 * scripts/build-wasm.mjs): the samplers' (math/wasm.ts) and the decoder's batch scanner
 * (stream/json-batch.ts). Each has no imports and exports its memory.
 */

// Node's global WebAssembly, typed for what is used here: the lib that declares it ("DOM") is
// not in this project's.
declare global {
  namespace WebAssembly {
    class Module {
      constructor(bytes: Uint8Array);
    }
    class Instance {
      constructor(module: Module, imports: object);
      readonly exports: object;
    }
    class Memory {
      readonly buffer: ArrayBuffer;
      grow(pages: number): number;
    }
  }
}

/** A WebAssembly memory page, the unit it grows by. */
export const WASM_PAGE = 65_536;

/** An instance of the module whose bytes are `base64`, its exports typed as T (the caller's word for them). */
export function instantiate<T extends { memory: WebAssembly.Memory }>(base64: string): T {
  return new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(base64, 'base64')), {}).exports as unknown as T;
}

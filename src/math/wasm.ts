import { SAMPLERS_WASM } from './samplers-wasm.js';

/**
 * The WebAssembly half of the samplers (assembly/samplers.ts): its functions and its memory.
 * The hot loops pass pointers into that memory, so the arrays they work on must live there
 * ("resident"): `residentViews` lays them out. Arrays from elsewhere go through a fixed staging
 * area, a copy each way.
 *
 * Memory: the first 64 KiB are the module's own; then STAGING doubles of staging, which never
 * move; then the resident views, which `residentViews` places afresh, growing the memory when
 * they do not fit. Growing detaches every view of the old memory, so views must be taken again
 * after each call to it, and none may be held across one.
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

interface Exports {
  memory: WebAssembly.Memory;
  features(z: number, n: number, d: number, diagonal: number, phi: number): void;
  forms(phi: number, n: number, nf: number, w: number, T: number, c0: number, out: number, stride: number): void;
  quantiles(x: number, n: number): void;
}

const exports = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(SAMPLERS_WASM, 'base64')), {}).exports as unknown as Exports;
const memory = exports.memory;

const PAGE = 65_536;
const STAGING_AT = PAGE;
const STAGING = 8192;
const RESIDENT_AT = STAGING_AT + 8 * STAGING;

let staging = new Float64Array(memory.buffer, STAGING_AT, STAGING);

/** Consecutive views of the given lengths (doubles) in the module's memory; every earlier view may be detached. */
export function residentViews(lengths: readonly number[]): Float64Array[] {
  const bytes = RESIDENT_AT + 8 * lengths.reduce((a, b) => a + b, 0);
  if (bytes > memory.buffer.byteLength) {
    memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE));
    staging = new Float64Array(memory.buffer, STAGING_AT, STAGING);
  }
  let at = RESIDENT_AT;
  return lengths.map((n) => {
    const view = new Float64Array(memory.buffer, at, n);
    at += 8 * n;
    return view;
  });
}

/** Whether `a` lives in the module's memory. */
export function isResident(a: Float64Array): boolean {
  return a.buffer === memory.buffer;
}

/** Byte address of a[index] for the module; a must be resident. */
function address(a: Float64Array, index: number): number {
  if (a.buffer !== memory.buffer) throw new Error('wasm: array is not in the module memory (take it from residentViews)');
  return a.byteOffset + 8 * index;
}

/** x[i] ← Φ⁻¹(x[i]) for i in [from, to) (see assembly/samplers.ts, `quantiles`): in place when resident, else through the staging area. */
export function quantiles(x: Float64Array, from: number, to: number): void {
  if (isResident(x)) {
    exports.quantiles(address(x, from), to - from);
    return;
  }
  for (let at = from; at < to; at += STAGING) {
    const n = Math.min(STAGING, to - at);
    staging.set(x.subarray(at, at + n));
    exports.quantiles(STAGING_AT, n);
    x.set(staging.subarray(0, n), at);
  }
}

/** The features of n points z (rows of Z from row 0) into phi (n × featureCount): see kernel.ts. Both resident. */
export function features(Z: Float64Array, n: number, d: number, diagonal: boolean, phi: Float64Array): void {
  exports.features(address(Z, 0), n, d, diagonal ? 1 : 0, address(phi, 0));
}

/**
 * out[i·stride + t] = c0[t] + W_t·Φ_i for n rows Φ (n×nf) and T rows W (T×nf); every array
 * resident.
 */
export function forms(Phi: Float64Array, n: number, nf: number, W: Float64Array, T: number, c0: Float64Array, out: Float64Array, stride: number): void {
  exports.forms(address(Phi, 0), n, nf, address(W, 0), T, address(c0, 0), address(out, 0), stride);
}

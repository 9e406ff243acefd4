import { isResident, residentViews } from '../math/wasm.js';

/** Points per kernel call: bounds scratch memory, long enough to amortise loop set-up. */
export const CHUNK = 256;

/**
 * The per-chunk buffers of the samplers, in the WebAssembly module's memory (src/math/wasm.ts),
 * where the kernel's stages read and write them in place. Kept from one estimate to the next
 * (estimates run one at a time) and laid out afresh when an estimate needs more or the memory
 * grew under them. Every entry is written before it is read.
 */
export interface Scratch {
  /** The chunk's points (CHUNK × d). */
  Z: Float64Array;
  f: Float64Array;
  /** The chunk's controls (CHUNK × controls). */
  H: Float64Array;
  plain: Float64Array;
  weight: Float64Array;
  /** KL's matched term of each point, while the pilot weighs it (`chooseMatched`). */
  matched: Float64Array;
  /** With bridges: each point's shares of the seed's first moments, two a point (kernel.ts, evaluate). */
  firsts: Float64Array;
  /** Feature rows (CHUNK × features). */
  phi: Float64Array;
  /** A kernel's coefficient rows and constants, copied here for the call (targets × features, and max(targets, features)). */
  rows: Float64Array;
  constants: Float64Array;
  /** The chunk's log-terms log w_t + log N_t (CHUNK × targets). */
  L: Float64Array;
  /** A kernel's per-target numbers and widening, copied here for the call (5·targets + d). */
  perTarget: Float64Array;
  /** KL's posterior weights of p's components at a point (targets). */
  gamma: Float64Array;
  /** One call's control-variate fit sums (see `crossProducts` in src/math/wasm.ts): 2·controls + controls². */
  sums: Float64Array;
}

let shared: Scratch | undefined;
let size = { d: 0, controls: 0, features: 0 };

/** The scratch for points of dimension d with `controls` controls (targets + 1) and up to `features` features each. */
export function scratchFor(d: number, controls: number, features: number): Scratch {
  // Views taken before another call to residentViews grew the memory are detached: lay out again.
  if (shared && isResident(shared.Z) && d <= size.d && controls <= size.controls && features <= size.features) return shared;
  size = { d: Math.max(d, size.d), controls: Math.max(controls, size.controls), features: Math.max(features, size.features) };
  const { d: D, controls: C, features: F } = size;
  const [Z, f, H, plain, weight, matched, firsts, phi, rows, constants, sums, L, perTarget, gamma] = residentViews([
    CHUNK * D,
    CHUNK,
    CHUNK * C,
    CHUNK,
    CHUNK,
    CHUNK,
    2 * CHUNK,
    CHUNK * F,
    C * F,
    Math.max(C, F),
    C * (C + 2),
    CHUNK * C,
    5 * C + D,
    C,
  ]) as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  shared = { Z, f, H, plain, weight, matched, firsts, phi, rows, constants, sums, L, perTarget, gamma };
  return shared;
}

import { SAMPLERS_WASM } from './samplers-wasm.js';
import { instantiate, WASM_PAGE as PAGE } from './wasm-module.js';

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

interface Exports {
  memory: WebAssembly.Memory;
  features(z: number, n: number, d: number, diagonal: number, phi: number): void;
  forms(phi: number, n: number, nf: number, w: number, T: number, c0: number, out: number, stride: number): void;
  quantiles(x: number, n: number): void;
  crossProducts(h: number, f: number, n: number, t: number, f0: number, acc: number): number;
  prelude(U: number, n: number, d: number, H: number, t: number, perTarget: number, widened: number, logScale: number, weight: number, L: number): void;
  jsStage(
    L: number,
    n: number,
    t: number,
    tp: number,
    tq: number,
    perTarget: number,
    ownShare: number,
    hasPivot: number,
    pivot: number,
    pivotBase: number,
    sideP: number,
    bridged: number,
    weight: number,
    f: number,
    plain: number,
    firsts: number,
  ): void;
  klStage(
    L: number,
    n: number,
    t: number,
    tp: number,
    tq: number,
    perTarget: number,
    useMatched: number,
    matchedShare: number,
    bridged: number,
    ownShare: number,
    pivot: number,
    pivotBase: number,
    weight: number,
    f: number,
    plain: number,
    matchedOut: number,
    firsts: number,
    gamma: number,
  ): void;
  expOf(x: number): number;
  dataEnd(): number;
}

const exports = instantiate<Exports>(SAMPLERS_WASM);
const memory = exports.memory;

const STAGING_AT = PAGE;
const STAGING = 8192;
const RESIDENT_AT = STAGING_AT + 8 * STAGING;

/** The memory's current buffer: reading `memory.buffer` is a call into the engine each time. */
let buffer = memory.buffer;
if (exports.dataEnd() > STAGING_AT) throw new Error(`wasm: the module's data (${exports.dataEnd()} bytes) reaches into the staging area at ${STAGING_AT}`);
let staging = new Float64Array(buffer, STAGING_AT, STAGING);

/** Consecutive views of the given lengths (doubles) in the module's memory; every earlier view may be detached. */
export function residentViews(lengths: readonly number[]): Float64Array[] {
  const bytes = RESIDENT_AT + 8 * lengths.reduce((a, b) => a + b, 0);
  if (bytes > buffer.byteLength) {
    memory.grow(Math.ceil((bytes - buffer.byteLength) / PAGE));
    buffer = memory.buffer;
    staging = new Float64Array(buffer, STAGING_AT, STAGING);
  }
  let at = RESIDENT_AT;
  return lengths.map((n) => {
    const view = new Float64Array(buffer, at, n);
    at += 8 * n;
    return view;
  });
}

/** Whether `a` lives in the module's memory. */
export function isResident(a: Float64Array): boolean {
  return a.buffer === buffer;
}

/** Byte address of a[index] for the module; a must be resident. */
function address(a: Float64Array, index: number): number {
  if (a.buffer !== buffer) throw new Error('wasm: array is not in the module memory (take it from residentViews)');
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

/**
 * The control-variate fit's sums over rows [from, from + n) of H (row stride t) and of f,
 * relative to f0, into acc: Σh (t), Σh·f (t), then the upper triangle of Σhhᵀ (t×t); every
 * array resident. Returns Σ(f − f0).
 */
export function crossProducts(H: Float64Array, f: Float64Array, from: number, n: number, t: number, f0: number, acc: Float64Array): number {
  return exports.crossProducts(address(H, from * t), address(f, from), n, t, f0, address(acc, 0));
}

/**
 * For n points (rows of U) whose m_t fill H's first t columns (row stride t + 1): importance
 * weights into weight, weighted centred controls into H (w − 1 in column t), log-terms into L
 * (n×t); perTarget: own, E[m_t], log w_t + log N_t, 1/w_t, KL's matched targets (t each),
 * then the d widening factors. See assembly/samplers.ts, `prelude`. Every array resident.
 */
export function prelude(
  U: Float64Array,
  n: number,
  d: number,
  H: Float64Array,
  t: number,
  perTarget: Float64Array,
  widened: boolean,
  logScale: number,
  weight: Float64Array,
  L: Float64Array,
): void {
  exports.prelude(address(U, 0), n, d, address(H, 0), t, address(perTarget, 0), widened ? 1 : 0, logScale, address(weight, 0), address(L, 0));
}

/** JS's shares and integrand for n points from their log-terms (see assembly/samplers.ts, `jsStage`); every array resident. */
export function jsStage(
  L: Float64Array,
  n: number,
  t: number,
  tp: number,
  tq: number,
  perTarget: Float64Array,
  ownShare: number,
  pivot: number | null,
  pivotBase: number,
  sideP: boolean,
  bridged: boolean,
  weight: Float64Array,
  f: Float64Array,
  plain: Float64Array,
  firsts: Float64Array,
): void {
  exports.jsStage(
    address(L, 0),
    n,
    t,
    tp,
    tq,
    address(perTarget, 0),
    ownShare,
    pivot === null ? 0 : 1,
    pivot ?? 0,
    pivotBase,
    sideP ? 1 : 0,
    bridged ? 1 : 0,
    address(weight, 0),
    address(f, 0),
    address(plain, 0),
    address(firsts, 0),
  );
}

/**
 * KL's integrand for n points from their log-terms (see assembly/samplers.ts, `klStage`):
 * about its matched term when `matched` is set (perTarget's fifth row must then hold it), and
 * shared out with bridges; matchedOut: where to write each point's matched term, if anywhere;
 * gamma: scratch for tp numbers. Every array resident.
 */
export function klStage(
  L: Float64Array,
  n: number,
  t: number,
  tp: number,
  tq: number,
  perTarget: Float64Array,
  matched: Int32Array | null,
  matchedShare: number,
  bridged: boolean,
  ownShare: number,
  pivot: number,
  pivotBase: number,
  weight: Float64Array,
  f: Float64Array,
  plain: Float64Array,
  matchedOut: Float64Array | undefined,
  firsts: Float64Array,
  gamma: Float64Array,
): void {
  exports.klStage(
    address(L, 0),
    n,
    t,
    tp,
    tq,
    address(perTarget, 0),
    matched === null ? 0 : 1,
    matchedShare,
    bridged ? 1 : 0,
    ownShare,
    pivot,
    pivotBase,
    address(weight, 0),
    address(f, 0),
    address(plain, 0),
    matchedOut ? address(matchedOut, 0) : 0,
    address(firsts, 0),
    address(gamma, 0),
  );
}

/** The module's e^x, for tests. */
export function wasmExp(x: number): number {
  return exports.expOf(x);
}

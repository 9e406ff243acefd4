import { quantiles } from './wasm.js';

/**
 * The standard normal quantile Φ⁻¹(p), by Wichura's Algorithm AS 241 (PPND16, Applied
 * Statistics 37(3), 1988): rational approximations in three regions, accurate to about
 * 1e-16 relative. Quasi-Monte Carlo maps uniform points to normals through this, so it
 * must be exact to well below the accuracy we report and monotone over (0, 1). The
 * arithmetic is in the WebAssembly module (assembly/samplers.ts, `quantiles`).
 *
 * @example normalQuantile(0.975) // 1.959963984540054
 */
export function normalQuantile(p: number): number {
  one[0] = p;
  normalQuantiles(one, 0, 1);
  return one[0]!;
}

const one = new Float64Array(1);

/**
 * x[i] ← Φ⁻¹(x[i]) for i in [from, to), as `normalQuantile`: in place when x lives in the
 * module's memory (the samplers' points do), else through a copy each way.
 */
export function normalQuantiles(x: Float64Array, from: number, to: number): void {
  quantiles(x, from, to);
}

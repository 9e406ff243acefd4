/**
 * Control-variate coefficients β = Cov(h)⁻¹ Cov(h, f) from running sums over N points:
 * Σh, the upper triangle of Σhhᵀ, Σhf and Σf. Controls are scaled to unit variance first and
 * any that is (nearly) a combination of earlier ones is dropped — components shared by p and
 * q, or tied covariances, make exact collinearity common — so the solve never blows up.
 */
const PIVOT_TOLERANCE = 1e-9;

/** Scratch for `solveControls`, reused across calls for t controls. */
export class ControlWorkspace {
  readonly scale: Float64Array;
  readonly c: Float64Array;
  readonly rhs: Float64Array;
  readonly L: Float64Array;
  readonly active: Uint8Array;
  readonly y: Float64Array;
  constructor(readonly t: number) {
    this.scale = new Float64Array(t);
    this.c = new Float64Array(t * t);
    this.rhs = new Float64Array(t);
    this.L = new Float64Array(t * t);
    this.active = new Uint8Array(t);
    this.y = new Float64Array(t);
  }
}

/** β into `beta` (length t). */
export function solveControls(
  t: number,
  N: number,
  sh: Float64Array,
  shh: Float64Array,
  shf: Float64Array,
  sf: number,
  beta: Float64Array = new Float64Array(t),
  ws: ControlWorkspace = new ControlWorkspace(t),
): Float64Array {
  const { scale, c, rhs, L, active, y } = ws;
  beta.fill(0);
  rhs.fill(0);
  c.fill(0);
  L.fill(0);
  active.fill(0);
  y.fill(0);
  const mf = sf / N;
  for (let a = 0; a < t; a++) {
    const ma = sh[a]! / N;
    const v = shh[a * t + a]! / N - ma * ma;
    scale[a] = v > 0 && Number.isFinite(v) ? Math.sqrt(v) : 0;
  }
  for (let a = 0; a < t; a++) {
    if (scale[a] === 0) continue;
    const ma = sh[a]! / N;
    rhs[a] = (shf[a]! / N - ma * mf) / scale[a]!;
    for (let b = a; b < t; b++) {
      if (scale[b] === 0) continue;
      const v = (shh[a * t + b]! / N - ma * (sh[b]! / N)) / (scale[a]! * scale[b]!);
      c[a * t + b] = v;
      c[b * t + a] = v;
    }
  }
  // Cholesky of the correlation matrix, skipping pivots that are (numerically) dependent.
  for (let i = 0; i < t; i++) {
    if (scale[i] === 0) continue;
    let s = c[i * t + i]!;
    for (let k = 0; k < i; k++) s -= L[i * t + k]! * L[i * t + k]!;
    if (!(s > PIVOT_TOLERANCE)) continue;
    const lii = Math.sqrt(s);
    L[i * t + i] = lii;
    active[i] = 1;
    for (let j = i + 1; j < t; j++) {
      if (scale[j] === 0) continue;
      let v = c[j * t + i]!;
      for (let k = 0; k < i; k++) v -= L[j * t + k]! * L[i * t + k]!;
      L[j * t + i] = v / lii;
    }
  }
  for (let i = 0; i < t; i++) {
    if (!active[i]) continue;
    let v = rhs[i]!;
    for (let k = 0; k < i; k++) if (active[k]) v -= L[i * t + k]! * y[k]!;
    y[i] = v / L[i * t + i]!;
  }
  for (let i = t - 1; i >= 0; i--) {
    if (!active[i]) continue;
    let v = y[i]!;
    for (let k = i + 1; k < t; k++) if (active[k]) v -= L[k * t + i]! * beta[k]!;
    beta[i] = v / L[i * t + i]!;
  }
  for (let i = 0; i < t; i++) beta[i] = active[i] ? beta[i]! / scale[i]! : 0;
  return beta;
}

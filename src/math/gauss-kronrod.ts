/**
 * Globally adaptive Gauss–Kronrod (7, 15) quadrature of a smooth 1-D function over a
 * partition the caller chooses: the interval with the largest error estimate is bisected
 * until the total estimate is within tolerance. Nodes and weights are Piessens and de
 * Doncker's (QUADPACK qk15); the error estimate follows QUADPACK's scaling of |K15 − G7|.
 */

/** Kronrod abscissae on [0, 1], descending; odd indices are the 7-point Gauss nodes. */
const XK = [
  0.991455371120812639206854697526329, 0.949107912342758524526189684047851, 0.864864423359769072789712788640926,
  0.741531185599394439863864773280788, 0.58608723546769113029414483825873, 0.405845151377397166906606412076961,
  0.207784955007898467600689403773245, 0,
];
const WK = [
  0.02293532201052922496373200805897, 0.063092092629978553290700663189204, 0.104790010322250183839876322541518,
  0.140653259715525918745189590510238, 0.16900472663926790282658342659855, 0.190350578064785409913256402421014,
  0.204432940075298892414161999234649, 0.209482141084727828012999174891714,
];
/** Gauss weights for XK[1], XK[3], XK[5], and the centre. */
const WG = [
  0.129484966168869693270611432679082, 0.27970539148927666790146777142378, 0.381830050505118944950369775488975,
  0.417959183673469387755102040816327,
];

const EPSILON = Number.EPSILON;

export interface QuadratureOptions {
  /** Stop when the summed error estimate is at most max(absTol, relTol·|integral|). */
  absTol: number;
  relTol: number;
  /** Give up refining after this many intervals (the error estimate then says how far off). */
  maxIntervals: number;
}

export interface QuadratureResult {
  value: number;
  /** Summed error estimate over the final intervals. */
  error: number;
  /** Function evaluations. */
  evaluations: number;
  intervals: number;
}

/** Nodes of one panel, in the order the sums below read them: centre, then c ∓ h·XK[j]. */
const NODES = 15;

/**
 * The integrand, a batch at a time: out[i] = f(xs[i]) for i < n. Panels hand over all 15
 * nodes at once, so an integrand that loops over components can run them in its inner loop.
 */
export type BatchIntegrand = (xs: Float64Array, n: number, out: Float64Array) => void;

/** One G7K15 panel: [Kronrod estimate, error estimate] into out[0], out[1]. */
function panel(f: BatchIntegrand, a: number, b: number, xs: Float64Array, fv: Float64Array, out: Float64Array): void {
  const c = 0.5 * (a + b);
  const h = 0.5 * (b - a);
  xs[0] = c;
  for (let j = 0; j < 7; j++) {
    const dx = h * XK[j]!;
    xs[1 + 2 * j] = c - dx;
    xs[2 + 2 * j] = c + dx;
  }
  f(xs, NODES, fv);
  const fc = fv[0]!;
  let k = fc * WK[7]!;
  let g = fc * WG[3]!;
  let abs = Math.abs(k);
  for (let j = 0; j < 7; j++) {
    const f1 = fv[1 + 2 * j]!;
    const f2 = fv[2 + 2 * j]!;
    k += WK[j]! * (f1 + f2);
    abs += WK[j]! * (Math.abs(f1) + Math.abs(f2));
    if (j & 1) g += WG[j >> 1]! * (f1 + f2);
  }
  const mean = 0.5 * k;
  let asc = WK[7]! * Math.abs(fc - mean);
  for (let j = 0; j < 7; j++) asc += WK[j]! * (Math.abs(fv[1 + 2 * j]! - mean) + Math.abs(fv[2 + 2 * j]! - mean));
  const scale = Math.abs(h);
  let err = Math.abs((k - g) * h);
  asc *= scale;
  if (asc !== 0 && err !== 0) {
    // QUADPACK's asc·min(1, (200·err/asc)^1.5), with x^1.5 as x·√x (Math.pow is slower here).
    const x = (200 * err) / asc;
    err = x >= 1 ? asc : asc * x * Math.sqrt(x);
  }
  const resAbs = abs * scale;
  if (resAbs > Number.MIN_VALUE / (50 * EPSILON)) err = Math.max(50 * EPSILON * resAbs, err);
  out[0] = k * h;
  out[1] = err;
}

/**
 * ∫ f over [breaks[0], breaks[last]], starting from the partition `breaks` (ascending;
 * repeated points are skipped). Non-finite values of f make the result NaN: the caller's
 * integrand must be finite wherever it is evaluated.
 */
export function integrate(f: BatchIntegrand, breaks: ArrayLike<number>, opts: QuadratureOptions): QuadratureResult {
  const lo: number[] = [];
  const hi: number[] = [];
  const val: number[] = [];
  const err: number[] = [];
  const scratch = new Float64Array(2);
  const xs = new Float64Array(NODES);
  const fv = new Float64Array(NODES);
  let evaluations = 0;
  const add = (a: number, b: number): void => {
    panel(f, a, b, xs, fv, scratch);
    evaluations += 15;
    lo.push(a);
    hi.push(b);
    val.push(scratch[0]!);
    err.push(scratch[1]!);
  };
  for (let i = 0; i + 1 < breaks.length; i++) {
    const a = breaks[i]!;
    const b = breaks[i + 1]!;
    if (b > a) add(a, b);
  }
  const sum = (v: number[]): number => v.reduce((s, x) => s + x, 0);
  let total = sum(val);
  let totalErr = sum(err);
  while (totalErr > Math.max(opts.absTol, opts.relTol * Math.abs(total)) && lo.length < opts.maxIntervals) {
    let worst = 0;
    for (let i = 1; i < err.length; i++) if (err[i]! > err[worst]!) worst = i;
    const a = lo[worst]!;
    const b = hi[worst]!;
    const m = 0.5 * (a + b);
    // An interval too short to split further in floating point is as good as it gets.
    if (!(m > a && m < b)) break;
    total -= val[worst]!;
    totalErr -= err[worst]!;
    panel(f, a, m, xs, fv, scratch);
    lo[worst] = a;
    hi[worst] = m;
    val[worst] = scratch[0]!;
    err[worst] = scratch[1]!;
    total += scratch[0]!;
    totalErr += scratch[1]!;
    add(m, b);
    total += val[val.length - 1]!;
    totalErr += err[err.length - 1]!;
    evaluations += 15;
  }
  // Re-sum to shed the drift of running updates.
  return { value: sum(val), error: sum(err), evaluations, intervals: lo.length };
}

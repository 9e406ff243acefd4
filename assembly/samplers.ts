// The samplers' arithmetic over whole chunks of points, compiled to WebAssembly with 128-bit
// SIMD (scripts/build-wasm.mjs). JavaScript typed-array loops are scalar and bounds-checked:
// the quadratic forms below ran ~3× faster here than in TurboFan's code (12.9 → 4.3 µs for
// 256 points, 14 features, 8 targets). Pointers are byte offsets into this module's memory,
// which src/math/wasm.ts lays out; every function works in place on arrays it is handed and
// keeps no state between calls.

/**
 * The features of n points z (n×d, row-major at `z`) into `phi` (n×nf): z, then the
 * products z_a z_b (a ≥ b), or only the squares when `diagonal` (see kernel.ts, featureCount).
 */
export function features(z: usize, n: i32, d: i32, diagonal: bool, phi: usize): void {
  let k: usize = phi;
  for (let i = 0; i < n; i++) {
    const row = z + ((<usize>(i * d)) << 3);
    for (let a = 0; a < d; a++) {
      store<f64>(k, load<f64>(row + ((<usize>a) << 3)));
      k += 8;
    }
    for (let a = 0; a < d; a++) {
      const za = load<f64>(row + ((<usize>a) << 3));
      if (diagonal) {
        store<f64>(k, za * za);
        k += 8;
      } else {
        for (let b = 0; b <= a; b++) {
          store<f64>(k, za * load<f64>(row + ((<usize>b) << 3)));
          k += 8;
        }
      }
    }
  }
}

/**
 * out[i·stride + t] = c0[t] + W_t·Φ_i for n rows Φ (n×nf at `phi`) and T coefficient rows W
 * (T×nf at `w`). Two points by two targets at a time, each sum two lanes wide: every loaded
 * pair of numbers serves two products, and the four sums are independent.
 */
export function forms(phi: usize, n: i32, nf: i32, w: usize, T: i32, c0: usize, out: usize, stride: i32): void {
  const even = nf & ~1;
  const rowBytes = (<usize>nf) << 3;
  const outBytes = (<usize>stride) << 3;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const p0 = phi + (<usize>i) * rowBytes;
    const p1 = p0 + rowBytes;
    const o0 = out + (<usize>i) * outBytes;
    const o1 = o0 + outBytes;
    let t = 0;
    for (; t + 1 < T; t += 2) {
      const w0 = w + (<usize>t) * rowBytes;
      const w1 = w0 + rowBytes;
      let a0 = f64x2.splat(0);
      let a1 = f64x2.splat(0);
      let b0 = f64x2.splat(0);
      let b1 = f64x2.splat(0);
      for (let k = 0; k < even; k += 2) {
        const at = (<usize>k) << 3;
        const y0 = v128.load(w0 + at);
        const y1 = v128.load(w1 + at);
        const x0 = v128.load(p0 + at);
        const x1 = v128.load(p1 + at);
        a0 = f64x2.add(a0, f64x2.mul(x0, y0));
        b0 = f64x2.add(b0, f64x2.mul(x0, y1));
        a1 = f64x2.add(a1, f64x2.mul(x1, y0));
        b1 = f64x2.add(b1, f64x2.mul(x1, y1));
      }
      const ct = load<f64>(c0 + ((<usize>t) << 3));
      const cu = load<f64>(c0 + ((<usize>(t + 1)) << 3));
      let s00 = ct + (f64x2.extract_lane(a0, 0) + f64x2.extract_lane(a0, 1));
      let s01 = cu + (f64x2.extract_lane(b0, 0) + f64x2.extract_lane(b0, 1));
      let s10 = ct + (f64x2.extract_lane(a1, 0) + f64x2.extract_lane(a1, 1));
      let s11 = cu + (f64x2.extract_lane(b1, 0) + f64x2.extract_lane(b1, 1));
      if (even < nf) {
        const at = (<usize>even) << 3;
        const y0 = load<f64>(w0 + at);
        const y1 = load<f64>(w1 + at);
        const x0 = load<f64>(p0 + at);
        const x1 = load<f64>(p1 + at);
        s00 += x0 * y0;
        s01 += x0 * y1;
        s10 += x1 * y0;
        s11 += x1 * y1;
      }
      store<f64>(o0 + ((<usize>t) << 3), s00);
      store<f64>(o0 + ((<usize>(t + 1)) << 3), s01);
      store<f64>(o1 + ((<usize>t) << 3), s10);
      store<f64>(o1 + ((<usize>(t + 1)) << 3), s11);
    }
    for (; t < T; t++) {
      const wt = w + (<usize>t) * rowBytes;
      const ct = load<f64>(c0 + ((<usize>t) << 3));
      store<f64>(o0 + ((<usize>t) << 3), dot(p0, wt, nf, even, ct));
      store<f64>(o1 + ((<usize>t) << 3), dot(p1, wt, nf, even, ct));
    }
  }
  for (; i < n; i++) {
    const p0 = phi + (<usize>i) * rowBytes;
    const o0 = out + (<usize>i) * outBytes;
    for (let t = 0; t < T; t++) store<f64>(o0 + ((<usize>t) << 3), dot(p0, w + (<usize>t) * rowBytes, nf, even, load<f64>(c0 + ((<usize>t) << 3))));
  }
}

/** start + x·y over n numbers, summed as `forms` sums (two lanes, then the odd one), so every point gets the same number whichever path it takes. */
function dot(x: usize, y: usize, n: i32, even: i32, start: f64): f64 {
  let a = f64x2.splat(0);
  for (let k = 0; k < even; k += 2) {
    const at = (<usize>k) << 3;
    a = f64x2.add(a, f64x2.mul(v128.load(x + at), v128.load(y + at)));
  }
  let s = start + (f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1));
  if (even < n) s += load<f64>(x + ((<usize>even) << 3)) * load<f64>(y + ((<usize>even) << 3));
  return s;
}

/**
 * x[i] ← Φ⁻¹(x[i]) for n numbers at `x`, by Wichura's Algorithm AS 241 (PPND16, Applied
 * Statistics 37(3), 1988): rational approximations in three regions, accurate to about 1e-16
 * relative. Quasi-Monte Carlo maps uniform points to normals through this, so it must be exact
 * to well below the accuracy we report, and monotone over (0, 1). Pairs that both fall in the
 * central region (85% of uniform numbers) go two lanes at a time; a central number beside a
 * tail one, or alone at the end, takes its lane of the same operations, so a quantile does not
 * depend on its neighbour.
 */
export function quantiles(x: usize, n: i32): void {
  let i = 0;
  const half = f64x2.splat(0.5);
  const edge = f64x2.splat(0.425);
  for (; i + 1 < n; i += 2) {
    const at = x + ((<usize>i) << 3);
    const p = v128.load(at);
    const q = f64x2.sub(p, half);
    const inside = f64x2.le(f64x2.abs(q), edge);
    const c = central(q);
    if (v128.all_true<i64>(inside)) {
      v128.store(at, c);
    } else {
      // A lane outside the central region takes the tails' formula instead.
      store<f64>(at, i64x2.extract_lane(inside, 0) ? f64x2.extract_lane(c, 0) : tail(f64x2.extract_lane(p, 0)));
      store<f64>(at + 8, i64x2.extract_lane(inside, 1) ? f64x2.extract_lane(c, 1) : tail(f64x2.extract_lane(p, 1)));
    }
  }
  if (i < n) {
    const at = x + ((<usize>i) << 3);
    const p = load<f64>(at);
    store<f64>(at, Math.abs(p - 0.5) <= 0.425 ? f64x2.extract_lane(central(f64x2.splat(p - 0.5)), 0) : tail(p));
  }
}

// @ts-ignore: decorator
@inline
function mad(a: v128, b: f64, r: v128): v128 {
  return f64x2.add(f64x2.mul(a, r), f64x2.splat(b));
}

/** The central region, |p − ½| ≤ 0.425, two at a time: q·A(r)/B(r) with r = 0.180625 − q². */
function central(q: v128): v128 {
  const r = f64x2.sub(f64x2.splat(0.180625), f64x2.mul(q, q));
  let a = f64x2.splat(2.5090809287301226727e3);
  a = mad(a, 3.3430575583588128105e4, r);
  a = mad(a, 6.7265770927008700853e4, r);
  a = mad(a, 4.5921953931549871457e4, r);
  a = mad(a, 1.3731693765509461125e4, r);
  a = mad(a, 1.9715909503065514427e3, r);
  a = mad(a, 1.3314166789178437745e2, r);
  a = mad(a, 3.387132872796366608, r);
  let b = f64x2.splat(5.2264952788528545610e3);
  b = mad(b, 2.8729085735721942674e4, r);
  b = mad(b, 3.9307895800092710610e4, r);
  b = mad(b, 2.1213794301586595867e4, r);
  b = mad(b, 5.3941960214247511077e3, r);
  b = mad(b, 6.8718700749205790830e2, r);
  b = mad(b, 4.2313330701600911252e1, r);
  b = mad(b, 1, r);
  return f64x2.div(f64x2.mul(q, a), b);
}

/** Φ⁻¹(p) outside the central region: the two tail regions, in r = √(−log min(p, 1 − p)). */
function tail(p: f64): f64 {
  const q = p - 0.5;
  if (isNaN(p)) return NaN;
  let r = q < 0 ? p : 1 - p;
  if (r <= 0) return q < 0 ? -Infinity : Infinity;
  r = Math.sqrt(-Math.log(r));
  let z: f64;
  if (r <= 5) {
    r -= 1.6;
    z =
      (((((((7.7454501427834140764e-4 * r + 2.27238449892691845833e-2) * r + 2.4178072517745061177e-1) * r + 1.27045825245236838258) * r +
        3.64784832476320460504) *
        r +
        5.7694972214606914055) *
        r +
        4.6303378461565452959) *
        r +
        1.42343711074968357734) /
      (((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r + 1.51986665636164571966e-2) * r + 1.4810397642748007459e-1) * r +
        6.8976733498510000455e-1) *
        r +
        1.6763848301838038494) *
        r +
        2.05319162663775882187) *
        r +
        1);
  } else {
    r -= 5;
    z =
      (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r + 1.2426609473880784386e-3) * r + 2.6532189526576123093e-2) * r +
        2.9656057182850489123e-1) *
        r +
        1.7848265399172913358) *
        r +
        5.4637849111641143699) *
        r +
        6.6579046435011037772) /
      (((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r +
        1.48753612908506148525e-2) *
        r +
        1.3692988092273580531e-1) *
        r +
        5.9983220655588793769e-1) *
        r +
        1);
  }
  return q < 0 ? -z : z;
}

/**
 * The control-variate fit's sums over n rows h (n×t at `h`, row stride t) and their f (n at
 * `f`, taken relative to f0): acc[0..t) = Σh, acc[t..2t) = Σh·f, then the upper triangle of
 * Σhhᵀ (t×t row-major from acc + 2t; the lower one is left alone). Overwrites acc; returns
 * Σ(f − f0). Two points at a time, each product two lanes wide (columns b, b + 1).
 */
export function crossProducts(h: usize, f: usize, n: i32, t: i32, f0: f64, acc: usize): f64 {
  const tb = (<usize>t) << 3;
  const hf = acc + tb;
  const hh = hf + tb;
  for (let a = 0; a < t; a++) {
    store<f64>(acc + ((<usize>a) << 3), 0);
    store<f64>(hf + ((<usize>a) << 3), 0);
    for (let b = a; b < t; b++) store<f64>(hh + ((<usize>(a * t + b)) << 3), 0);
  }
  let sf: f64 = 0;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const r0 = h + (<usize>i) * tb;
    const r1 = r0 + tb;
    const f0i = load<f64>(f + ((<usize>i) << 3)) - f0;
    const f1i = load<f64>(f + ((<usize>(i + 1)) << 3)) - f0;
    sf += f0i + f1i;
    for (let a = 0; a < t; a++) {
      const at = (<usize>a) << 3;
      const x0 = load<f64>(r0 + at);
      const x1 = load<f64>(r1 + at);
      store<f64>(acc + at, load<f64>(acc + at) + (x0 + x1));
      store<f64>(hf + at, load<f64>(hf + at) + (x0 * f0i + x1 * f1i));
      const v0 = f64x2.splat(x0);
      const v1 = f64x2.splat(x1);
      const row = hh + (<usize>(a * t)) * 8;
      let b = a;
      for (; b + 1 < t; b += 2) {
        const bt = (<usize>b) << 3;
        const sum = f64x2.add(f64x2.mul(v0, v128.load(r0 + bt)), f64x2.mul(v1, v128.load(r1 + bt)));
        v128.store(row + bt, f64x2.add(v128.load(row + bt), sum));
      }
      if (b < t) {
        const bt = (<usize>b) << 3;
        store<f64>(row + bt, load<f64>(row + bt) + (x0 * load<f64>(r0 + bt) + x1 * load<f64>(r1 + bt)));
      }
    }
  }
  if (i < n) {
    const r0 = h + (<usize>i) * tb;
    const f0i = load<f64>(f + ((<usize>i) << 3)) - f0;
    sf += f0i;
    for (let a = 0; a < t; a++) {
      const at = (<usize>a) << 3;
      const x0 = load<f64>(r0 + at);
      store<f64>(acc + at, load<f64>(acc + at) + x0);
      store<f64>(hf + at, load<f64>(hf + at) + x0 * f0i);
      const row = hh + (<usize>(a * t)) * 8;
      for (let b = a; b < t; b++) {
        const bt = (<usize>b) << 3;
        store<f64>(row + bt, load<f64>(row + bt) + x0 * load<f64>(r0 + bt));
      }
    }
  }
  return sf;
}

// --- e^x for the per-point stages ---------------------------------------------------------

/*
 * e^x within 2 ulp of Math.exp, from a table, for the per-point stages, which take ~10
 * exps a point (a JS estimate). In JavaScript this beat V8's Math.exp (a call into fdlibm's C
 * exp, ~6 ns) by about half; here it is plain arithmetic and two table loads, inlined.
 *
 * x = (64m + j)·ln2/64 + r with |r| ≤ ln2/128, so e^x = 2^m · 2^(j/64) · e^r, and e^r − 1 is
 * its Taylor polynomial of degree 5 (the first term left out, r⁶/720 < 4e-17, is below
 * rounding). ln2/64 is split into a high part with 32 trailing zero bits (so k·hi is exact)
 * and the rest, ln 2's own rounding error included: without that term, the reduction lost up
 * to 13 ulp at x = −40. Outside (−708, 709), and for NaN, Math.exp answers (over- and
 * underflow, subnormals).
 */

const STEP_BITS = 6;
const STEPS = 1 << STEP_BITS;
const INVERSE_STEP: f64 = <f64>STEPS / Math.LN2;
const ROUNDER: f64 = 6755399441055744; // 1.5 · 2^52
const LN2_ROUNDING: f64 = 2.3190468138462996e-17;
const STEP_HI: f64 = reinterpret<f64>(reinterpret<u64>(Math.LN2 / <f64>STEPS) & 0xffffffff00000000);
const STEP_LO: f64 = (Math.LN2 - <f64>STEPS * STEP_HI + LN2_ROUNDING) / <f64>STEPS;
const EXPONENT_BIAS = 1023;
/** 2^(j/64), j = 0…63; then 2^m at m + 1023 for m = −1023…1024. */
const FRACTION_POWERS = memory.data(STEPS * 8, 16);
const EXPONENT_POWERS = memory.data(2048 * 8, 16);
for (let j = 0; j < STEPS; j++) store<f64>(FRACTION_POWERS + ((<usize>j) << 3), Math.pow(2, <f64>j / <f64>STEPS));
// 2^m exactly, from its bits: 2^−1023 is subnormal, 2^1024 is +∞.
store<f64>(EXPONENT_POWERS, reinterpret<f64>(<u64>1 << 51));
for (let i = 1; i < 2047; i++) store<f64>(EXPONENT_POWERS + ((<usize>i) << 3), reinterpret<f64>((<u64>i) << 52));
store<f64>(EXPONENT_POWERS + (2047 << 3), Infinity);

// @ts-ignore: decorator
@inline
function exp(x: f64): f64 {
  if (!(x > -708 && x < 709)) return Math.exp(x);
  const kd = x * INVERSE_STEP + ROUNDER - ROUNDER;
  const r = x - kd * STEP_HI - kd * STEP_LO;
  const k = <i32>kd;
  const r2 = r * r;
  const expm1 = r + r2 * (0.5 + r * (1.0 / 6)) + r2 * r2 * (1.0 / 24 + r * (1.0 / 120));
  const s = load<f64>(FRACTION_POWERS + ((<usize>(k & (STEPS - 1))) << 3)) * load<f64>(EXPONENT_POWERS + ((<usize>((k >> STEP_BITS) + EXPONENT_BIAS)) << 3));
  return s + s * expm1;
}

/** Where the module's own static data (the exp tables) ends: src/math/wasm.ts lays its areas out above it. */
export function dataEnd(): usize {
  return __heap_base;
}

/** e^x for tests: the function the stages use. */
export function expOf(x: f64): f64 {
  return exp(x);
}

// --- the per-point stages of kernel.ts's `evaluate` ------------------------------------------

/**
 * For n points u (rows of U, n×d) of a stratum whose H holds m_t in its first t columns (row
 * stride t + 1): the importance weight w = e^(logScale − ½(‖z‖² − ‖u‖²)) into weight (1 when
 * `widened` is 0), the weighted centred controls w·(m_t − E[m_t]) over m_t and w − 1 into
 * column t, and the log-terms log w_t + log N_t = base_t − ½m_t into L (n×t). Per target, at
 * `perTarget`: own (1 where the target is the stratum's component or a copy of it, whose m is
 * ‖z‖²), E[m_t], base_t, 1/w_t, then (KL) the target of q matched with each of p's; then
 * the d widening factors λ_j.
 */
export function prelude(U: usize, n: i32, d: i32, H: usize, t: i32, perTarget: usize, widened: bool, logScale: f64, weight: usize, L: usize): void {
  const tb = (<usize>t) << 3;
  const own = perTarget;
  const means = own + tb;
  const base = means + tb;
  const scale = base + 3 * tb;
  const hb = tb + 8;
  for (let i = 0; i < n; i++) {
    const u = U + ((<usize>(i * d)) << 3);
    let uu: f64 = 0;
    let zz: f64 = 0;
    if (widened) {
      for (let j = 0; j < d; j++) {
        const uj = load<f64>(u + ((<usize>j) << 3));
        const lj = load<f64>(scale + ((<usize>j) << 3));
        const u2 = uj * uj;
        uu += u2;
        zz += lj * lj * u2;
      }
    } else {
      for (let j = 0; j < d; j++) {
        const uj = load<f64>(u + ((<usize>j) << 3));
        zz += uj * uj;
      }
    }
    const h = H + (<usize>i) * hb;
    const l = L + (<usize>i) * tb;
    const wi = widened ? exp(logScale - 0.5 * (zz - uu)) : 1;
    for (let k = 0; k < t; k++) {
      const at = (<usize>k) << 3;
      const m = load<f64>(own + at) != 0 ? zz : load<f64>(h + at);
      store<f64>(h + at, wi * (m - load<f64>(means + at)));
      store<f64>(l + at, load<f64>(base + at) - 0.5 * m);
    }
    store<f64>(h + tb, wi - 1);
    store<f64>(weight + ((<usize>i) << 3), wi);
  }
}

/**
 * The shares. The strata are the components of
 * m = ½(p + q), and the integrand falls below ln 2 only where p and q overlap. Where a broad
 * component of one mixture meets a narrow one of the other, that overlap is a rare corner
 * of the broad component's stratum, seldom sampled: its estimate came out short, with an
 * error bar that could not know, while the same region is common under the narrow
 * component. So stratum c integrates f·a_c·m/(π_c N_c), with the partition of unity
 * a_c = N_c / Σ_k N_k (multiple importance sampling's balance heuristic, every component
 * counted alike): a region belongs to the components whose densities put points there,
 * whatever their weights. The factor is Σ_k w_k N_k / (w_c Σ_k N_k) (the ½ of m's weights
 * cancel).
 *
 * On two nearly disjoint pairs (d = 12, K = 8 against one broad Gaussian; d = 16 likewise),
 * 31 and 50 of 80 seeds had landed beyond 4 standard errors of a long plain Monte Carlo;
 * with these shares and the sampler's defensive allocation, 3 and 3. On the first pair
 * either change alone left 13 (shares) and 4 (allocation) of 40. The power heuristic
 * (a_c ∝ N_c²) did no better and cost 28% more points on 4d-different-k; shares by
 * weighted density, (π_c N_c)^κ, did worse.
 */
/**
 * JS's integrand for n points from their log-terms L (n×t, see `prelude`) and weights: into f
 * the weighted w·F, F = pivotBase + (g − pivot)·share (g alone when `hasPivot` is 0), where
 * g = ln 2 + r log r + (1 − r) log(1 − r), r = p/(p + q), and the share is the stratum's part
 * of the point (above). Shared out around the pivot, the handing over itself costs nothing
 * where g sits at its typical value (ln 2 for nearly disjoint mixtures, ~0 for close ones).
 * Into plain the seed's integrand, for its standard error: ln 2 + log r under p,
 * ln 2 + log(1 − r) under q; with bridges instead (log r)²·p/ΣN + (log(1 − r))²·q/ΣN, whose
 * strata's means add up to the seed's second moments E_p[(g_p − ln 2)²] + E_q[(g_q − ln 2)²]
 * (the same partition of unity as the shares), and into firsts log r·p/ΣN and
 * log(1 − r)·q/ΣN, for the first moments. perTarget as in `prelude`.
 */
export function jsStage(
  L: usize,
  n: i32,
  t: i32,
  tp: i32,
  tq: i32,
  perTarget: usize,
  ownShare: f64,
  hasPivot: bool,
  pivot: f64,
  pivotBase: f64,
  sideP: bool,
  bridged: bool,
  weight: usize,
  f: usize,
  plain: usize,
  firsts: usize,
): void {
  const tb = (<usize>t) << 3;
  const inverseWeight = perTarget + 3 * tb;
  for (let i = 0; i < n; i++) {
    const v = L + (<usize>i) * tb;
    let maxP = -Infinity;
    let maxQ = -Infinity;
    let maxB = -Infinity;
    for (let k = 0; k < t; k++) {
      const x = load<f64>(v + ((<usize>k) << 3));
      if (k < tp) maxP = max(maxP, x);
      else if (k < tq) maxQ = max(maxQ, x);
      else maxB = max(maxB, x);
    }
    const top = max(max(maxP, maxQ), maxB);
    // Each mixture's terms against its own largest (so neither sum underflows where the other
    // dominates), bridges against the top; beside each, the same terms over w_t.
    let sp: f64 = 0;
    let ip: f64 = 0;
    let sq: f64 = 0;
    let iq: f64 = 0;
    let sb: f64 = 0;
    for (let k = 0; k < t; k++) {
      const at = (<usize>k) << 3;
      const x = load<f64>(v + at) - (k < tp ? maxP : k < tq ? maxQ : top);
      if (x > -38) {
        const e = exp(x);
        if (k < tp) {
          sp += e;
          ip += e * load<f64>(inverseWeight + at);
        } else if (k < tq) {
          sq += e;
          iq += e * load<f64>(inverseWeight + at);
        } else sb += e;
      }
    }
    const u = maxP - maxQ + (sp == sq ? 0 : Math.log(sp / sq));
    const dp = maxP == top ? 1 : exp(maxP - top);
    const dq = maxQ == top ? 1 : exp(maxQ - top);
    const all = ip * dp + iq * dq + sb;
    const share = ((sp * dp + sq * dq) * ownShare) / all;
    const P = (sp * dp) / all;
    const Q = (sq * dq) / all;
    // r = σ(u): log r = −softplus(−u), log(1 − r) = −softplus(u), both from one log1p of
    // e^−|u| = min(P, Q)/max(P, Q).
    const e = P >= Q ? Q / P : P / Q;
    const l = Math.log1p(e);
    const small = 1 / (1 + e);
    const logR = u >= 0 ? -l : u - l;
    const log1mR = u >= 0 ? -u - l : -l;
    const r = u >= 0 ? small : e * small;
    let g = Math.LN2 + r * logR + (1 - r) * log1mR;
    if (hasPivot) g = pivotBase + (g - pivot) * share;
    const at = (<usize>i) << 3;
    if (bridged) {
      store<f64>(plain + at, logR * logR * P + log1mR * log1mR * Q);
      store<f64>(firsts + (at << 1), logR * P);
      store<f64>(firsts + (at << 1) + 8, log1mR * Q);
    } else store<f64>(plain + at, Math.LN2 + (sideP ? logR : log1mR));
    store<f64>(f + at, load<f64>(weight + at) * g);
  }
}

/**
 * KL's integrand for n points from their log-terms L (n×t, see `prelude`) and weights, into f
 * the weighted w·F and into plain the seed's integrand. With f = log p − log q (each mixture's
 * terms summed against its own largest, so neither sum underflows where the other dominates,
 * and one log of the ratio):
 *
 * - plain: F = f, the seed's integrand too.
 * - With the matched term (`useMatched`): h = Σ_k γ_k (v_k − v_π(k)) over p's targets k, γ_k
 *   their posterior weights under p (from the sum's own exps) and π(k) the target of q matched
 *   with k (perTarget's fifth row); F = f − matchedShare·h, and h into matchedOut (when not 0).
 *   Its mean under p is Σ_k w_k E_{N_k}[log w_k N_k − log w_π(k) N_π(k)], in closed form,
 *   because γ_k p = w_k N_k. Where q's components mirror p's (a drifted copy: each matched
 *   pair takes the same share of the point under either mixture), f − h is nearly zero
 *   everywhere, through the overlaps between components too, where the quadratic controls
 *   cannot follow it.
 * - With bridges (always with the matched term): F = pivotBase + (f − matchedShare·h − pivot)·a,
 *   a the stratum's share of the point. The partition of unity is JS's (`jsStage`) over p's
 *   components and the bridges only, since KL integrates under p: stratum c integrates
 *   f·p/(w_c Σ N), a bridge's f·p/Σ N (ownShare 1/w_c, or 1). plain gets f²·p/ΣN and firsts
 *   f·p/ΣN and 0: the seed's moments E_p[f²] and E_p[f] through the same partition.
 *
 * `gamma`: scratch for tp numbers. perTarget as in `prelude`.
 */
export function klStage(
  L: usize,
  n: i32,
  t: i32,
  tp: i32,
  tq: i32,
  perTarget: usize,
  useMatched: bool,
  matchedShare: f64,
  bridged: bool,
  ownShare: f64,
  pivot: f64,
  pivotBase: f64,
  weight: usize,
  f: usize,
  plain: usize,
  matchedOut: usize,
  firsts: usize,
  gamma: usize,
): void {
  const tb = (<usize>t) << 3;
  const inverseWeight = perTarget + 3 * tb;
  const matched = perTarget + 4 * tb;
  for (let i = 0; i < n; i++) {
    const v = L + (<usize>i) * tb;
    let maxP = -Infinity;
    let maxQ = -Infinity;
    for (let k = 0; k < tq; k++) {
      const x = load<f64>(v + ((<usize>k) << 3));
      if (k < tp) maxP = max(maxP, x);
      else maxQ = max(maxQ, x);
    }
    let sp: f64 = 0;
    let sq: f64 = 0;
    for (let k = 0; k < tq; k++) {
      const x = load<f64>(v + ((<usize>k) << 3)) - (k < tp ? maxP : maxQ);
      const e = x > -38 ? exp(x) : 0;
      if (k < tp) {
        store<f64>(gamma + ((<usize>k) << 3), e);
        sp += e;
      } else sq += e;
    }
    const lr = maxP - maxQ + (sp == sq ? 0 : Math.log(sp / sq));
    let h: f64 = 0;
    if (useMatched) {
      for (let k = 0; k < tp; k++) {
        const g = load<f64>(gamma + ((<usize>k) << 3));
        if (g > 0) h += g * (load<f64>(v + ((<usize>k) << 3)) - load<f64>(v + ((<usize>(<i32>load<f64>(matched + ((<usize>k) << 3)))) << 3)));
      }
      h /= sp;
      if (matchedOut) store<f64>(matchedOut + ((<usize>i) << 3), h);
    }
    const at = (<usize>i) << 3;
    let F = lr - matchedShare * h;
    if (bridged) {
      // p's terms and the bridges' against their largest: the share and p/ΣN.
      let top = maxP;
      for (let k = tq; k < t; k++) top = max(top, load<f64>(v + ((<usize>k) << 3)));
      let s: f64 = 0;
      let is: f64 = 0;
      let sb: f64 = 0;
      for (let k = 0; k < t; k++) {
        if (k >= tp && k < tq) continue;
        const x = load<f64>(v + ((<usize>k) << 3)) - top;
        if (x > -38) {
          const e = exp(x);
          if (k < tp) {
            s += e;
            is += e * load<f64>(inverseWeight + ((<usize>k) << 3));
          } else sb += e;
        }
      }
      const all = is + sb;
      const pOverN = s / all;
      F = pivotBase + (F - pivot) * ((s * ownShare) / all);
      store<f64>(plain + at, lr * lr * pOverN);
      store<f64>(firsts + (at << 1), lr * pOverN);
      store<f64>(firsts + (at << 1) + 8, 0);
    } else store<f64>(plain + at, lr);
    store<f64>(f + at, load<f64>(weight + at) * F);
  }
}

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
 * central region (85% of uniform numbers) go two lanes at a time, with the very operations of
 * the scalar path, so that a number's quantile does not depend on its neighbour.
 */
export function quantiles(x: usize, n: i32): void {
  let i = 0;
  const half = f64x2.splat(0.5);
  const edge = f64x2.splat(0.425);
  for (; i + 1 < n; i += 2) {
    const at = x + ((<usize>i) << 3);
    const p = v128.load(at);
    const q = f64x2.sub(p, half);
    if (v128.all_true<i64>(f64x2.le(f64x2.abs(q), edge))) {
      v128.store(at, central(q));
    } else {
      store<f64>(at, quantile(load<f64>(at)));
      store<f64>(at + 8, quantile(load<f64>(at + 8)));
    }
  }
  if (i < n) {
    const at = x + ((<usize>i) << 3);
    store<f64>(at, quantile(load<f64>(at)));
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

function quantile(p: f64): f64 {
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (
      (q *
        (((((((2.5090809287301226727e3 * r + 3.3430575583588128105e4) * r + 6.7265770927008700853e4) * r + 4.5921953931549871457e4) * r +
          1.3731693765509461125e4) *
          r +
          1.9715909503065514427e3) *
          r +
          1.3314166789178437745e2) *
          r +
          3.387132872796366608)) /
      (((((((5.2264952788528545610e3 * r + 2.8729085735721942674e4) * r + 3.9307895800092710610e4) * r + 2.1213794301586595867e4) * r +
        5.3941960214247511077e3) *
        r +
        6.8718700749205790830e2) *
        r +
        4.2313330701600911252e1) *
        r +
        1)
    );
  }
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

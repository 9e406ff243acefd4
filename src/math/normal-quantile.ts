/**
 * The standard normal quantile Φ⁻¹(p), by Wichura's Algorithm AS 241 (PPND16, Applied
 * Statistics 37(3), 1988): rational approximations in three regions, accurate to about
 * 1e-16 relative. Quasi-Monte Carlo maps uniform points to normals through this, so it
 * must be exact to well below the accuracy we report and monotone over (0, 1).
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
 * x[i] ← Φ⁻¹(x[i]) for i in [from, to), as `normalQuantile`. The samplers map every
 * coordinate of every point through this; a call per number (too long a function to be
 * inlined) boxed its argument and its result: ~1 MB of garbage per default JS estimate on
 * 4d-different-k, most of what the collector had to sweep.
 */
export function normalQuantiles(x: Float64Array, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const p = x[i]!;
    const q = p - 0.5;
    if (Math.abs(q) <= 0.425) {
      const r = 0.180625 - q * q;
      x[i] =
        (q *
          (((((((2.5090809287301226727e3 * r + 3.3430575583588128105e4) * r + 6.7265770927008700853e4) * r +
            4.5921953931549871457e4) *
            r +
            1.3731693765509461125e4) *
            r +
            1.9715909503065514427e3) *
            r +
            1.3314166789178437745e2) *
            r +
            3.3871328727963666080)) /
        (((((((5.2264952788528545610e3 * r + 2.8729085735721942674e4) * r + 3.9307895800092710610e4) * r +
          2.1213794301586595867e4) *
          r +
          5.3941960214247511077e3) *
          r +
          6.8718700749205790830e2) *
          r +
          4.2313330701600911252e1) *
          r +
          1);
      continue;
    }
    if (Number.isNaN(p)) {
      x[i] = NaN;
      continue;
    }
    let r = q < 0 ? p : 1 - p;
    if (r <= 0) {
      x[i] = q < 0 ? -Infinity : Infinity;
      continue;
    }
    r = Math.sqrt(-Math.log(r));
    let z: number;
    if (r <= 5) {
      r -= 1.6;
      z =
        (((((((7.74545014278341407640e-4 * r + 2.27238449892691845833e-2) * r + 2.41780725177450611770e-1) * r +
          1.27045825245236838258) *
          r +
          3.64784832476320460504) *
          r +
          5.76949722146069140550) *
          r +
          4.63033784615654529590) *
          r +
          1.42343711074968357734) /
        (((((((1.05075007164441684324e-9 * r + 5.47593808499534494600e-4) * r + 1.51986665636164571966e-2) * r +
          1.48103976427480074590e-1) *
          r +
          6.89767334985100004550e-1) *
          r +
          1.67638483018380384940) *
          r +
          2.05319162663775882187) *
          r +
          1);
    } else {
      r -= 5;
      z =
        (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r + 1.24266094738807843860e-3) * r +
          2.65321895265761230930e-2) *
          r +
          2.96560571828504891230e-1) *
          r +
          1.78482653991729133580) *
          r +
          5.46378491116411436990) *
          r +
          6.65790464350110377720) /
        (((((((2.04426310338993978564e-15 * r + 1.42151175831644588870e-7) * r + 1.84631831751005468180e-5) * r +
          7.86869131145613259100e-4) *
          r +
          1.48753612908506148525e-2) *
          r +
          1.36929880922735805310e-1) *
          r +
          5.99832206555887937690e-1) *
          r +
          1);
    }
    x[i] = q < 0 ? -z : z;
  }
}

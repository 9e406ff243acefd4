import type { Gmm } from '../gmm/model.js';
import type { Arena } from '../math/arena.js';
import { features, forms, jsStage, klStage, prelude } from '../math/wasm.js';
import type { Scratch } from './scratch.js';

/**
 * The integrand of the samplers, stratum by stratum. A stratum is one component N(μ_c, L_cL_cᵀ)
 * of p (or of q, for JS); a point of it is x = μ_c + L_c z with z standard normal. For every
 * component t of either mixture, L_t⁻¹(x − μ_t) = A_t + B_t z with A_t = L_t⁻¹(μ_c − μ_t) and
 * B_t = L_t⁻¹L_c (lower triangular), both precomputed, so x is never formed: means at 1e6
 * cancel once, exactly, instead of at every point. The squared norms m_t = ‖A_t + B_t z‖²
 * give every component's log-density, and they are also the control variates: each is a
 * quadratic in z whose mean, ‖A_t‖² + ‖B_t‖²_F, is known in closed form.
 */

/** KL from p's components; JS from p's or q's half of m. */
export type Integrand = 'kl' | 'js-p' | 'js-q';

export interface Targets {
  d: number;
  /** Components of p with positive weight come first (tp of them), then q's (up to tq). */
  tp: number;
  tq: number;
  /** All targets: p's, q's, then JS's bridges (bridges.ts), which only share points out. */
  t: number;
  /** log w_t + logNorm_t (a bridge's weight is 1). */
  base: Float64Array;
  /** 1 / w_t (1 for a bridge). */
  inverseWeight: Float64Array;
  /** Which mixture and component each target is. */
  source: { g: Gmm; c: number }[];
  diagonal: boolean;
}

export function targets(p: Gmm, q: Gmm, bridges: readonly Gmm[] = []): Targets {
  const source: { g: Gmm; c: number }[] = [];
  for (const g of [p, q]) for (let c = 0; c < g.k; c++) if (g.weights[c]! > 0) source.push({ g, c });
  let tp = 0;
  for (let c = 0; c < p.k; c++) if (p.weights[c]! > 0) tp++;
  const tq = source.length;
  for (const g of bridges) source.push({ g, c: 0 });
  return {
    d: p.d,
    tp,
    tq,
    t: source.length,
    base: Float64Array.from(source, ({ g, c }) => g.logWeights[c]! + g.logNorm[c]!),
    inverseWeight: Float64Array.from(source, ({ g, c }) => 1 / g.weights[c]!),
    source,
    diagonal: p.diagonal && q.diagonal,
  };
}

/**
 * Features of a point: z, then the products z_a z_b (a ≥ b) — or only the squares when every
 * covariance is diagonal. Each m_t is c_t + W_t·φ(z), one flat dot product per component.
 * Expanding the square costs precision only as ε(‖A_t‖ + ‖B_t z‖)², far below what matters
 * for a component's log-density unless it sits ~1e6 sds away, where its density is 0 anyway.
 */
export function featureCount(d: number, diagonal: boolean): number {
  return diagonal ? 2 * d : d + (d * (d + 1)) / 2;
}

/** `rotate`'s (B_t Q)ᵀ: scratch, as one estimate runs at a time. */
let rotateScratch = new Float64Array(0);

export class StratumKernel {
  readonly integrand: Integrand;
  private readonly tg: Targets;
  /** Per target: A_t (d) and B_t (d×d, lower triangular). */
  private readonly A: Float64Array;
  private readonly B: Float64Array;
  /** Per target: c_t = ‖A_t‖². */
  private readonly c0: Float64Array;
  /** Per target, featureCount coefficients of m_t in φ(z): see `rotate`. */
  private W: Float64Array;
  private nf: number;
  /** Whether φ holds only squares (every covariance diagonal, no rotation). */
  private diagonal: boolean;
  /** E[m_t] under the stratum; a rotation of z does not change it. */
  readonly controlMeans: Float64Array;
  /** Per-coordinate widening λ_j of the sampling density, or null (sampling the stratum itself). */
  private scale: Float64Array | null = null;
  private logScale = 0;
  /** Controls per point: m_t − E[m_t] for every target, then the importance weight − 1. */
  readonly controls: number;
  /**
   * What the WebAssembly stages read per target (src/math/wasm.ts, `prelude`): own (1 for the
   * stratum's own component or an exact copy of it, a component shared by p and q: their m is
   * ‖z‖², and copies must get the very same number, so that identical mixtures still give
   * exactly 0), E[m_t], log w_t + log N_t, 1/w_t, KL's matched targets (written per call, as
   * `matched` may change); then the d widening factors.
   */
  private readonly perTarget: Float64Array;
  /**
   * JS, once set: the stratum integrates pivot + (f − pivot)·F_c, F_c its share of the point
   * (assembly/samplers.ts, `jsStage`). The shares of every stratum average to 1 over m, so the
   * strata still add up to JS for any constant pivot; the sampler sets the pilot's estimate.
   */
  pivot: number | null = null;
  /** The stratum's own target. */
  private readonly ownIndex: number;
  /**
   * JS: a bridge's stratum (bridges.ts), weighted 1 and integrating (f − pivot)·m/Σ_t N_t
   * only: the components' strata carry the pivot. Its share factor is ½ instead of 1/w.
   */
  readonly bridge: boolean;
  /** Whether the pair has bridges at all (every stratum then shares points out, and writes `firsts`). */
  readonly bridged: boolean;
  private readonly ownShare: number;
  /**
   * KL, once set: for each of p's targets k, the target of q it is matched with (see
   * assembly/samplers.ts, `klStage`); the kernel then also writes the matched term of every
   * point, and subtracts `matchedShare` (0 or 1) of it from the integrand.
   */
  matched: Int32Array | null = null;
  matchedShare = 0;
  /** Scratch for `gradientOuter`: log w_t + log N_t at the current point. */
  private readonly logTerms: Float64Array;

  /** The kernel's arrays come from `arena`: it serves until the arena is next reset. */
  constructor(
    tg: Targets,
    g: Gmm,
    c: number,
    integrand: Integrand,
    private readonly arena: Arena,
  ) {
    this.integrand = integrand;
    this.tg = tg;
    const { d, t } = tg;
    this.A = arena.float64(t * d);
    this.B = arena.float64(t * d * d);
    this.c0 = arena.float64(t);
    this.controlMeans = arena.float64(t);
    // Plain locals in the loops below: property loads there cost more than the arithmetic.
    const { A, B, c0: c0s, controlMeans } = this;
    const Lc = g.cholesky;
    const cOff = c * d * d;
    const muC = g.means;
    for (let ti = 0; ti < t; ti++) {
      const { g: h, c: u } = tg.source[ti]!;
      const P = h.precisionCholesky;
      const muU = h.means;
      const uOff = u * d * d;
      const aOff = ti * d;
      const bOff = ti * d * d;
      let c0 = 0;
      let trace = 0;
      // A = L_u⁻¹(μ_c − μ_u), B = L_u⁻¹ L_c (lower triangular).
      for (let a = 0; a < d; a++) {
        const row = uOff + a * d;
        let y = 0;
        for (let b = 0; b <= a; b++) y += P[row + b]! * (muC[c * d + b]! - muU[u * d + b]!);
        A[aOff + a] = y;
        c0 += y * y;
        for (let b = 0; b <= a; b++) {
          let v = 0;
          for (let k = b; k <= a; k++) v += P[row + k]! * Lc[cOff + k * d + b]!;
          B[bOff + a * d + b] = v;
          trace += v * v;
        }
      }
      c0s[ti] = c0;
      controlMeans[ti] = c0 + trace;
    }
    this.controls = t + 1;
    this.ownIndex = tg.source.findIndex((s) => s.g === g && s.c === c);
    this.bridge = this.ownIndex >= tg.tq;
    this.bridged = t > tg.tq;
    // A bridge's share factor: JS's strata weigh m's components at ½ w, KL's p's at w.
    this.ownShare = this.bridge ? (integrand === 'kl' ? 1 : 0.5) : tg.inverseWeight[this.ownIndex]!;
    this.perTarget = arena.float64(5 * t + d);
    this.perTarget.set(this.copiesOf(this.ownIndex), 0);
    this.perTarget.set(controlMeans, t);
    this.perTarget.set(tg.base, 2 * t);
    this.perTarget.set(tg.inverseWeight, 3 * t);
    this.logTerms = arena.float64(t);
    this.diagonal = tg.diagonal;
    this.nf = 0;
    this.W = new Float64Array(0);
    this.rotate(null);
  }

  /** The stratum's own target (a component of p, for KL). */
  get ownTarget(): number {
    return this.ownIndex;
  }

  private copiesOf(own: number): Uint8Array {
    const { d, t } = this.tg;
    const same = new Uint8Array(t);
    for (let ti = 0; ti < t; ti++) {
      let equal = true;
      for (let a = 0; a < d && equal; a++) equal = this.A[ti * d + a] === this.A[own * d + a];
      for (let a = 0; a < d * d && equal; a++) equal = this.B[ti * d * d + a] === this.B[own * d * d + a];
      same[ti] = equal ? 1 : 0;
    }
    return same;
  }

  /**
   * Points are z = Q u from now on (u standard normal, Q orthogonal d×d row-major, or the
   * identity for null): the same distribution, so the same integral and control means, but
   * quasi-random points spend their best-spread first coordinates where the integrand varies.
   * m_t = c_t + 2(B_tQ)ᵀA_t·u + uᵀ(B_tQ)ᵀ(B_tQ)u, stored as coefficients of φ(u).
   */
  rotate(Q: Float64Array | null, scale: Float64Array | null = null): void {
    const { d, t } = this.tg;
    this.diagonal = this.tg.diagonal && Q === null;
    this.scale = scale;
    this.logScale = 0;
    if (scale) for (let j = 0; j < d; j++) this.logScale += Math.log(scale[j]!);
    if (scale) this.perTarget.set(scale, 5 * t);
    const nf = featureCount(d, this.diagonal);
    const diagonal = this.diagonal;
    const { A, B } = this;
    const W = this.arena.float64(t * nf);
    this.nf = nf;
    this.W = W;
    // Mt = (B_t Q)ᵀ, kept transposed so that the sums below run along rows.
    if (rotateScratch.length < d * d) rotateScratch = new Float64Array(d * d);
    const Mt = rotateScratch;
    for (let ti = 0; ti < t; ti++) {
      const aOff = ti * d;
      const bOff = ti * d * d;
      // M = B_t Q, scaled by column (B_t is lower triangular).
      for (let a = 0; a < d; a++) {
        const row = bOff + a * d;
        for (let j = 0; j < d; j++) {
          let v = 0;
          if (Q === null) v = j <= a ? B[row + j]! : 0;
          else for (let k = 0; k <= a; k++) v += B[row + k]! * Q[k * d + j]!;
          Mt[j * d + a] = scale ? v * scale[j]! : v;
        }
      }
      const w = ti * nf;
      for (let j = 0; j < d; j++) {
        let v = 0;
        for (let a = 0; a < d; a++) v += Mt[j * d + a]! * A[aOff + a]!;
        W[w + j] = 2 * v;
      }
      // Without Q, column a of M is zero above row a: the products start there.
      let k = d;
      for (let a = 0; a < d; a++) {
        for (let b = diagonal ? a : 0; b <= a; b++) {
          let v = 0;
          for (let r = Q === null ? a : 0; r < d; r++) v += Mt[a * d + r]! * Mt[b * d + r]!;
          W[w + k++] = a === b ? v : 2 * v;
        }
      }
    }
  }

  /**
   * m_t = c_t + W_t·φ(z) for every target and n points z (rows of Z, in the module's memory)
   * into out (row stride `stride`), in WebAssembly (src/math/wasm.ts): the features, then one
   * small matrix product with this kernel's coefficient rows, copied in for the call. It ran
   * ~3× faster than the same loops in TurboFan's code, which are scalar and bounds-checked.
   */
  private squaredNorms(Z: Float64Array, n: number, out: Float64Array, stride: number, scratch: Scratch): void {
    const { d, t } = this.tg;
    const { nf } = this;
    features(Z, n, d, this.diagonal, scratch.phi);
    scratch.rows.set(this.W.subarray(0, t * nf));
    scratch.constants.set(this.c0.subarray(0, t));
    forms(scratch.phi, n, nf, scratch.rows, t, scratch.constants, out, stride);
  }

  /**
   * Adds Σ ∇r ∇rᵀ over n rows of U (in the current coordinates) to G (d×d), where
   * r = f − Σ_t β_t h_t is what the control variates leave: its gradient says in which
   * directions the remaining variance lives. ∇_u m_t = 2(B_tQ)ᵀ(A_t + B_tQu) = W-derived.
   * Uses the scratch's Z, H, phi and rows for its own (n ≤ CHUNK rows): call it between chunks.
   */
  gradientOuter(U: Float64Array, n: number, beta: Float64Array, G: Float64Array, scratch: Scratch): void {
    const { d, t, tp, tq, base } = this.tg;
    const { nf, diagonal } = this;
    const grad = new Float64Array(d);
    // The points into the module's memory (the pilot's copy is not there), their m_t into H.
    scratch.Z.set(U.subarray(0, n * d));
    const all = scratch.H;
    this.squaredNorms(scratch.Z, n, all, t, scratch);
    // all[i, t] becomes coef_t = ∂r/∂m_t at point i. One exp per target: γ_t is its term over
    // its mixture's sum. With logSumExp per side and an exp per γ it took ~2t + 5 exps a
    // point, and the directions cost ~5% of an estimate.
    const { logTerms } = this;
    for (let i = 0; i < n; i++) {
      const o = i * t;
      for (let ti = 0; ti < t; ti++) logTerms[ti] = base[ti]! - 0.5 * all[o + ti]!;
      const maxP = rangeMax(logTerms, 0, tp);
      const maxQ = rangeMax(logTerms, tp, tq);
      let sp = 0;
      let sq = 0;
      for (let ti = 0; ti < tq; ti++) {
        const x = logTerms[ti]! - (ti < tp ? maxP : maxQ);
        const e = x > -38 ? Math.exp(x) : 0;
        logTerms[ti] = e;
        if (ti < tp) sp += e;
        else sq += e;
      }
      // ∂f/∂m_t through log p (t < tp) or log q: −½γ_t and +½γ_t, γ the softmax weights.
      let scale = 1;
      if (this.integrand !== 'kl') {
        // d/du of ln 2 − H_b(σ(u)) = r(1 − r)u, u = log p − log q, r(1 − r) = e^−|u|/(1 + e^−|u|)².
        const u = maxP - maxQ + Math.log(sp / sq);
        const a = Math.exp(-Math.abs(u));
        scale = (a / ((1 + a) * (1 + a))) * u;
      }
      for (let ti = 0; ti < t; ti++) {
        // A bridge moves only the shares, which the directions leave out.
        const gamma = ti < tq ? logTerms[ti]! / (ti < tp ? sp : sq) : 0;
        all[o + ti] = scale * (ti < tp ? -0.5 : 0.5) * gamma - beta[ti]!;
      }
    }
    // ∇r = Σ_t coef_t ∇m_t, and every m_t is linear in the feature coefficients: sum those
    // first (c = Σ_t coef_t W_t, for all points as one product), then differentiate once.
    const { W } = this;
    const WT = scratch.rows;
    const zero = scratch.constants.fill(0, 0, nf);
    for (let ti = 0; ti < t; ti++) for (let k = 0; k < nf; k++) WT[k * t + ti] = W[ti * nf + k]!;
    const CW = scratch.phi;
    forms(all, n, t, WT, nf, zero, CW, nf);
    for (let i = 0; i < n; i++) {
      const cOff = i * nf;
      const uOff = i * d;
      for (let a = 0; a < d; a++) grad[a] = CW[cOff + a]!;
      let k = cOff + d;
      for (let a = 0; a < d; a++) {
        const ua = U[uOff + a]!;
        for (let b = diagonal ? a : 0; b < a; b++) {
          const wk = CW[k++]!;
          grad[a] = grad[a]! + wk * U[uOff + b]!;
          grad[b] = grad[b]! + wk * ua;
        }
        grad[a] = grad[a]! + 2 * CW[k++]! * ua;
      }
      for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) G[a * d + b] = G[a * d + b]! + grad[a]! * grad[b]!;
    }
  }

  /**
   * For the first n standard-normal rows u of the scratch's Z (n×d), z = Q·diag(λ)·u is a draw
   * of the widened stratum and w = φ(z)/φ_λ(z) its importance weight (1 without widening).
   * Writes into the scratch f (n) the weighted integrand w·f(z), H (n × controls) the weighted
   * controls w·(m_t − E[m_t]) and w − 1 (all mean zero under the sampling density), and
   * `plain` the seed's integrand with `weight` its weight, for the seed comparison; with
   * bridges, `firsts` two more numbers a point (see below); `withMatched`: KL's matched term of
   * each point into `matched`.
   *
   * KL: f = log p − log q. JS, under either half of m = ½(p + q): with r = p/(p + q),
   * f = ln 2 + r log r + (1 − r) log(1 − r), bounded in [0, ln 2] — smoother than the seed's
   * log p − log m under p (unbounded below where q dominates), which goes to `plain`.
   */
  evaluate(n: number, scratch: Scratch, withMatched: boolean): void {
    const { Z: U, f, H, plain, weight, firsts, L } = scratch;
    const matchedOut = withMatched ? scratch.matched : undefined;
    const { d, t, tp, tq } = this.tg;
    const { integrand, scale, logScale, ownShare, matchedShare, matched, bridged, pivot } = this;
    // A bridge's stratum integrates (f − pivot)·F alone; the components' carry the pivot.
    const pivotBase = this.bridge ? 0 : pivot;
    // Every m_t of every point first, as one small matrix product straight into H's first t
    // columns: blocked over points and targets it runs ~2.5× faster than a dot product each.
    // Then, in WebAssembly too, the weights, controls and log-terms (see `prelude`): the
    // stratum's own component needs no dot product, as A = 0 and B = I make its m
    // ‖z‖² = Σ λ_j² u_j², whose sums also give the importance weight φ(z)/φ_λ(z), and copies of
    // it get that very number (identical mixtures give exactly 0).
    this.squaredNorms(U, n, H, t + 1, scratch);
    scratch.perTarget.set(this.perTarget);
    prelude(U, n, d, H, t, scratch.perTarget, scale !== null, logScale, weight, L);
    if (integrand !== 'kl') {
      // JS's shares and integrand: assembly/samplers.ts, `jsStage`.
      jsStage(L, n, t, tp, tq, scratch.perTarget, ownShare, pivot, pivotBase ?? 0, integrand === 'js-p', bridged, weight, f, plain, firsts);
      return;
    }
    // KL's integrand, about its matched term and shared out with bridges: `klStage`.
    if (matched !== null) for (let k = 0; k < tp; k++) scratch.perTarget[4 * t + k] = matched[k]!;
    klStage(L, n, t, tp, tq, scratch.perTarget, matched, matchedShare, bridged, ownShare, pivot ?? 0, pivotBase ?? 0, weight, f, plain, matchedOut, firsts, scratch.gamma);
  }
}

/** The largest of v[from, to); −Infinity for an empty range. */
function rangeMax(v: Float64Array, from: number, to: number): number {
  let max = -Infinity;
  for (let t = from; t < to; t++) if (v[t]! > max) max = v[t]!;
  return max;
}

/** log(1 + e^t) without overflow or loss for large |t|. */
export function softplus(t: number): number {
  return t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t));
}

import type { Gmm } from '../gmm/model.js';

/**
 * What moved between the reference and the window: which components account for the
 * divergence. Each reference component i's share of KL(ref‖win), and each window component
 * j's share of KL(win‖ref), are the terms of Hershey & Olsen's variational approximation
 * (2007), which sums over components:
 *
 *   KL(p‖q) ≈ Σ_i w_i ln( Σ_i' w_i' e^{−KL(f_i‖f_i')} / Σ_j v_j e^{−KL(f_i‖g_j)} ).
 *
 * Components are matched one to one (greedily by symmetric Gaussian KL, within
 * `MATCH_LIMIT_NATS`); a matched pair that moved is `shifted` (mean shift in the reference
 * component's standard deviations, weight change), an unmatched reference component is
 * `mass_lost`, an unmatched window component `mass_gained`.
 *
 * @example
 * whatMoved(reference, window)[0] // { kind: 'mass_gained', window: 2, weightWindow: 0.1, contributionNats: 0.21, … }
 */

/** Components further apart than this (symmetric KL, nats) are different components. */
export const MATCH_LIMIT_NATS = 4;

export type MoveKind = 'shifted' | 'mass_lost' | 'mass_gained' | 'unchanged';

export interface Move {
  kind: MoveKind;
  /** Component index in the reference / window model; absent on the side that has none. */
  reference?: number;
  window?: number;
  weightReference: number;
  weightWindow: number;
  /** Mahalanobis distance of the window mean from the reference mean, in the reference component's metric. */
  meanShiftSd?: number;
  /** This entry's share of KL(ref‖win) plus its share of KL(win‖ref), in nats (variational terms; may be negative when small). */
  contributionNats: number;
  /** Of which: KL(ref‖win) share (reference side) and KL(win‖ref) share (window side). */
  klRefWin: number;
  klWinRef: number;
}

// ---------------------------------------------------------------- Gaussian KL between components

/** Solves L y = b in place (L lower triangular d×d at offset o). */
function forward(L: Float64Array, o: number, d: number, b: Float64Array): void {
  for (let a = 0; a < d; a++) {
    let s = b[a]!;
    for (let c = 0; c < a; c++) s -= L[o + a * d + c]! * b[c]!;
    b[a] = s / L[o + a * d + a]!;
  }
}

function logDet(L: Float64Array, o: number, d: number): number {
  let s = 0;
  for (let a = 0; a < d; a++) s += Math.log(L[o + a * d + a]!);
  return 2 * s;
}

/** KL(N(p, i) ‖ N(q, j)) in closed form, through the Cholesky factors. */
export function componentKl(p: Gmm, i: number, q: Gmm, j: number): number {
  const d = p.d;
  const oi = i * d * d;
  const oj = j * d * d;
  const y = new Float64Array(d);
  for (let a = 0; a < d; a++) y[a] = p.means[i * d + a]! - q.means[j * d + a]!;
  forward(q.cholesky, oj, d, y);
  let mahal = 0;
  for (let a = 0; a < d; a++) mahal += y[a]! * y[a]!;
  // tr(Σ_q⁻¹ Σ_p) = ‖L_q⁻¹ L_p‖_F²: solve column by column.
  let trace = 0;
  const col = new Float64Array(d);
  for (let c = 0; c < d; c++) {
    for (let a = 0; a < d; a++) col[a] = p.cholesky[oi + a * d + c]!;
    forward(q.cholesky, oj, d, col);
    for (let a = 0; a < d; a++) trace += col[a]! * col[a]!;
  }
  return Math.max(0, 0.5 * (trace + mahal - d + logDet(q.cholesky, oj, d) - logDet(p.cholesky, oi, d)));
}

function mahalanobis(p: Gmm, i: number, q: Gmm, j: number): number {
  const d = p.d;
  const y = new Float64Array(d);
  for (let a = 0; a < d; a++) y[a] = q.means[j * d + a]! - p.means[i * d + a]!;
  forward(p.cholesky, i * d * d, d, y);
  let s = 0;
  for (let a = 0; a < d; a++) s += y[a]! * y[a]!;
  return Math.sqrt(s);
}

// ---------------------------------------------------------------- decomposition

/** Per component of p, its variational term of KL(p‖q). */
function variationalTerms(p: Gmm, q: Gmm): Float64Array {
  const out = new Float64Array(p.k);
  for (let i = 0; i < p.k; i++) {
    let self = 0;
    for (let a = 0; a < p.k; a++) self += p.weights[a]! * Math.exp(-componentKl(p, i, p, a));
    let other = 0;
    for (let j = 0; j < q.k; j++) other += q.weights[j]! * Math.exp(-componentKl(p, i, q, j));
    out[i] = p.weights[i]! * (Math.log(self) - Math.log(Math.max(other, 1e-300)));
  }
  return out;
}

/** Below this many nats an entry is `unchanged`. */
const UNCHANGED_NATS = 1e-3;

/** The moves from reference to window, largest contribution first. */
export function whatMoved(reference: Gmm, window: Gmm): Move[] {
  if (reference.d !== window.d) throw new RangeError(`dimension mismatch: reference d=${reference.d}, window d=${window.d}`);
  const refTerms = variationalTerms(reference, window);
  const winTerms = variationalTerms(window, reference);
  const pairs: { i: number; j: number; cost: number }[] = [];
  for (let i = 0; i < reference.k; i++) {
    for (let j = 0; j < window.k; j++) {
      pairs.push({ i, j, cost: componentKl(reference, i, window, j) + componentKl(window, j, reference, i) });
    }
  }
  pairs.sort((a, b) => a.cost - b.cost);
  const refUsed = new Set<number>();
  const winUsed = new Set<number>();
  const moves: Move[] = [];
  for (const { i, j, cost } of pairs) {
    if (cost > 2 * MATCH_LIMIT_NATS || refUsed.has(i) || winUsed.has(j)) continue;
    refUsed.add(i);
    winUsed.add(j);
    const klRefWin = refTerms[i]!;
    const klWinRef = winTerms[j]!;
    const contributionNats = klRefWin + klWinRef;
    moves.push({
      kind: Math.abs(contributionNats) < UNCHANGED_NATS ? 'unchanged' : 'shifted',
      reference: i,
      window: j,
      weightReference: reference.weights[i]!,
      weightWindow: window.weights[j]!,
      meanShiftSd: mahalanobis(reference, i, window, j),
      contributionNats,
      klRefWin,
      klWinRef,
    });
  }
  for (let i = 0; i < reference.k; i++) {
    if (refUsed.has(i)) continue;
    const t = refTerms[i]!;
    moves.push({ kind: 'mass_lost', reference: i, weightReference: reference.weights[i]!, weightWindow: 0, contributionNats: t, klRefWin: t, klWinRef: 0 });
  }
  for (let j = 0; j < window.k; j++) {
    if (winUsed.has(j)) continue;
    const t = winTerms[j]!;
    moves.push({ kind: 'mass_gained', window: j, weightReference: 0, weightWindow: window.weights[j]!, contributionNats: t, klRefWin: 0, klWinRef: t });
  }
  return moves.sort((a, b) => b.contributionNats - a.contributionNats);
}

import type { Gmm } from '../gmm/model.js';
import { DivergenceError, type DivergenceResult } from './types.js';

/**
 * KL(N_a ‖ N_b) between component a of f and component b of g, in closed form:
 * ½(tr(Σ_b⁻¹Σ_a) + (μ_a−μ_b)ᵀΣ_b⁻¹(μ_a−μ_b) − d + log det Σ_b − log det Σ_a),
 * with Σ_b⁻¹ applied through g's cached L_b⁻¹ (‖L_b⁻¹L_a‖²_F is the trace term).
 */
export function componentKl(f: Gmm, a: number, g: Gmm, b: number): number {
  const d = f.d;
  const La = f.cholesky;
  const Pb = g.precisionCholesky;
  const aOff = a * d * d;
  const bOff = b * d * d;
  let trace = 0;
  let maha = 0;
  for (let i = 0; i < d; i++) {
    // Row i of L_b⁻¹ (lower) times column j of L_a (lower): only k in [j, i].
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = j; k <= i; k++) s += Pb[bOff + i * d + k]! * La[aOff + k * d + j]!;
      trace += s * s;
    }
    let y = 0;
    for (let k = 0; k <= i; k++) y += Pb[bOff + i * d + k]! * (f.means[a * d + k]! - g.means[b * d + k]!);
    maha += y * y;
  }
  // log det Σ_b − log det Σ_a = 2(logNorm_a − logNorm_b).
  const kl = 0.5 * (trace + maha - d) + f.logNorm[a]! - g.logNorm[b]!;
  return kl > 0 ? kl : 0;
}

/** Closed-form KL between two single Gaussians. */
export function exactKl(p: Gmm, q: Gmm): DivergenceResult {
  const cp = soleComponent(p, 'p');
  const cq = soleComponent(q, 'q');
  return { value: componentKl(p, cp, q, cq), stderr: 0, method: 'exact', samples: 0, evaluations: 1 };
}

/** The index of the only component with positive weight, or -1 when there are several. */
export function singleComponent(g: Gmm): number {
  let found = -1;
  for (let c = 0; c < g.k; c++) {
    if (g.weights[c]! > 0) {
      if (found >= 0) return -1;
      found = c;
    }
  }
  return found;
}

function soleComponent(g: Gmm, name: string): number {
  const c = singleComponent(g);
  if (c < 0) {
    throw new DivergenceError(
      `method 'exact' needs single Gaussians, but ${name} has several components; use 'auto' or a sampler`,
    );
  }
  return c;
}

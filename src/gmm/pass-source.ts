/**
 * The E-step pass as JavaScript source, written for one shape (k components, d features,
 * full or diagonal factors) and compiled once by estep.ts. Writing the work out term by term,
 * with the row and the log-probabilities in locals, lets V8 keep them in registers and drop
 * the index arithmetic and short inner loops: EM runs 2–3× faster than the same arithmetic in
 * nested loops. The catch is size: V8 never optimises a function past ~60 KB of bytecode, and
 * an unoptimised unrolled pass is 40× slower than loops. So each shape gets the most unrolled
 * layout whose estimated bytecode stays well inside that limit.
 *
 * Every layout computes the same thing per row: each component's log-probability
 * l_c = base_c − ½‖L_c⁻¹(x − μ_c)‖² (F holding the packed L⁻¹ rows; or base_c − Σ F_a (x_a − μ_a)²
 * with F = ½/σ² when diagonal), the largest, e_c = exp(l_c − max) with the largest exactly 1,
 * and each responsibility r = e_c / Σe added into n_c, s1 and s2 about the component's mean.
 * The row log-likelihoods max + log Σe are summed as Σ max + log Π Σe: each Σe lies in
 * [1, k], so the product is logged once every few hundred rows instead of once per row.
 */

/** Entries of a packed d×d lower triangle (row by row: (0,0), (1,0), (1,1), (2,0), …), the layout of F and s2. */
export function triangleSize(d: number): number {
  return (d * (d + 1)) / 2;
}

/** Arguments of every compiled pass, in order. */
export const PASS_PARAMETERS = ['X', 'n', 'means', 'F', 'base', 'lp', 'diff', 'nk', 's1', 's2'] as const;

/**
 * 'unrolled': components and features written out, offsets as literals.
 * 'features': a loop over components, each component's features written out.
 * 'loops': loops over components and features.
 */
export type PassLayout = 'unrolled' | 'features' | 'loops';

/**
 * A responsibility below e^-40 ≈ 4e-18 of its row's largest is below double precision of the
 * row sum (≥ 1), so it is dropped without calling exp or touching that component's sums.
 */
const NEGLIGIBLE_LOG_RATIO = -40;

/** Bytecode an unrolled layout may reach by our estimate: V8 (Node 20) stops optimising at 61,440 bytes. */
const BYTECODE_BUDGET = 48_000;

/**
 * Bytecode of a pass by layout, fitted to V8's own counts (`node --print-bytecode`, Node 20)
 * over shapes from d = 1 to 32 and k = 1 to 90: near the budget it errs high by 0–20 %, and
 * low by at most 3 %, so what it admits stays a quarter under V8's limit.
 */
function estimatedBytecode(k: number, d: number, diagonal: boolean, layout: PassLayout): number {
  const perComponent = diagonal ? 160 * d + 300 : 75 * triangleSize(d) + 100 * d + 250;
  return (layout === 'unrolled' ? k : 1) * perComponent + 60 * d + 400;
}

export function passLayout(k: number, d: number, diagonal: boolean): PassLayout {
  if (estimatedBytecode(k, d, diagonal, 'unrolled') <= BYTECODE_BUDGET) return 'unrolled';
  if (estimatedBytecode(k, d, diagonal, 'features') <= BYTECODE_BUDGET) return 'features';
  return 'loops';
}

export function passSource(k: number, d: number, diagonal: boolean, layout: PassLayout): string {
  return layout === 'unrolled' ? unrolledComponents(k, d, diagonal) : loopedComponents(k, d, diagonal, layout === 'features');
}

// ---------------------------------------------------------------- row skeletons

const ROW_LOGLIK_START = 'let maxes = 0, product = 1, logs = 0;';
const ROW_LOGLIK_ADD = 'maxes += max; product *= sum; if (product > 1e250) { logs += Math.log(product); product = 1; }';
const ROW_LOGLIK_MEAN = 'return (maxes + logs + Math.log(product)) / n;';

function lines(count: number, line: (j: number) => string, separator = '\n'): string {
  return Array.from({ length: count }, (_, j) => line(j)).join(separator);
}

function rowLocals(d: number): string {
  return lines(d, (a) => `const x${a} = X[xo + ${a}];`);
}

/** Components written out: l_c and e_c are locals, every array offset a literal. */
function unrolledComponents(k: number, d: number, diagonal: boolean): string {
  const T = diagonal ? d : triangleSize(d);
  const at = (c: number): Offsets => ({
    mean: (a) => `${c * d + a}`,
    factor: (j) => `${c * T + j}`,
    sum2: (j) => `${c * T + j}`,
  });
  return `
    ${ROW_LOGLIK_START}
    for (let i = 0; i < n; i++) {
      const xo = i * ${d};
      ${rowLocals(d)}
      ${lines(k, (c) => `let l${c}; { let m = 0; ${halfMahalanobis(d, diagonal, at(c))} l${c} = base[${c}] - m; }`)}
      let max = l0;
      ${lines(k - 1, (c) => `if (l${c + 1} > max) max = l${c + 1};`)}
      ${lines(k, (c) => `const e${c} = l${c} === max ? 1 : l${c} - max < ${NEGLIGIBLE_LOG_RATIO} ? 0 : Math.exp(l${c} - max);`)}
      const sum = ${lines(k, (c) => `e${c}`, ' + ')};
      const inv = 1 / sum;
      ${lines(k, (c) => `if (e${c} !== 0) { const r = e${c} * inv; nk[${c}] += r; ${scatter(d, diagonal, at(c))} }`)}
      ${ROW_LOGLIK_ADD}
    }
    ${ROW_LOGLIK_MEAN}`;
}

/** A loop over components with the row's log-probabilities in `lp`; features written out or looped. */
function loopedComponents(k: number, d: number, diagonal: boolean, unrollFeatures: boolean): string {
  const T = diagonal ? d : triangleSize(d);
  const relative: Offsets = { mean: (a) => `mo + ${a}`, factor: (j) => `fo + ${j}`, sum2: (j) => `qo + ${j}` };
  return `
    ${ROW_LOGLIK_START}
    for (let i = 0; i < n; i++) {
      const xo = i * ${d};
      ${unrollFeatures ? rowLocals(d) : ''}
      let max = -Infinity;
      for (let c = 0; c < ${k}; c++) {
        const mo = c * ${d}, fo = c * ${T};
        let m = 0;
        ${unrollFeatures ? halfMahalanobis(d, diagonal, relative) : loopedHalfMahalanobis(d, diagonal)}
        const v = base[c] - m;
        lp[c] = v;
        if (v > max) max = v;
      }
      let sum = 0;
      for (let c = 0; c < ${k}; c++) {
        const t = lp[c] - max;
        const e = t === 0 ? 1 : t < ${NEGLIGIBLE_LOG_RATIO} ? 0 : Math.exp(t);
        lp[c] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let c = 0; c < ${k}; c++) {
        if (lp[c] === 0) continue;
        const r = lp[c] * inv;
        nk[c] += r;
        const mo = c * ${d}, qo = c * ${T};
        ${unrollFeatures ? scatter(d, diagonal, relative) : loopedScatter(d, diagonal)}
      }
      ${ROW_LOGLIK_ADD}
    }
    ${ROW_LOGLIK_MEAN}`;
}

// ---------------------------------------------------------------- one component, features written out

/** Where component c's entries sit: in means and s1 (by feature a), in F and s2 (by packed index j). */
interface Offsets {
  mean(a: number): string;
  factor(j: number): string;
  sum2(j: number): string;
}

/** Adds ½ of the Mahalanobis term into `m`, from the row locals x0 … x(d−1). */
function halfMahalanobis(d: number, diagonal: boolean, o: Offsets): string {
  if (diagonal) {
    return `let t; ${lines(d, (a) => `t = x${a} - means[${o.mean(a)}]; m += F[${o.factor(a)}] * t * t;`, ' ')}`;
  }
  let j = 0;
  return `${lines(d, (a) => `const t${a} = x${a} - means[${o.mean(a)}];`, ' ')}
    let y;
    ${lines(d, (a) => `y = ${lines(a + 1, (b) => `F[${o.factor(j++)}] * t${b}`, ' + ')}; m += y * y;`)}
    m *= 0.5;`;
}

/** Adds r (x − μ) into s1 and r (x − μ)(x − μ)ᵀ (packed, or its diagonal) into s2. */
function scatter(d: number, diagonal: boolean, o: Offsets): string {
  if (diagonal) {
    return `let u, ru; ${lines(d, (a) => `u = x${a} - means[${o.mean(a)}]; ru = r * u; s1[${o.mean(a)}] += ru; s2[${o.sum2(a)}] += ru * u;`, ' ')}`;
  }
  let j = 0;
  return `${lines(d, (a) => `const u${a} = x${a} - means[${o.mean(a)}];`, ' ')}
    let ru;
    ${lines(d, (a) => `ru = r * u${a}; s1[${o.mean(a)}] += ru; ${lines(a + 1, (b) => `s2[${o.sum2(j++)}] += ru * u${b};`, ' ')}`)}`;
}

// ---------------------------------------------------------------- one component, features looped

const DIFFS = (d: number): string => `for (let a = 0; a < ${d}; a++) diff[a] = X[xo + a] - means[mo + a];`;

function loopedHalfMahalanobis(d: number, diagonal: boolean): string {
  if (diagonal) return `for (let a = 0; a < ${d}; a++) { const t = X[xo + a] - means[mo + a]; m += F[fo + a] * t * t; }`;
  return `${DIFFS(d)}
    for (let a = 0, q = fo; a < ${d}; a++) {
      let y = 0;
      for (let b = 0; b <= a; b++) y += F[q++] * diff[b];
      m += y * y;
    }
    m *= 0.5;`;
}

function loopedScatter(d: number, diagonal: boolean): string {
  if (diagonal) {
    return `for (let a = 0; a < ${d}; a++) {
      const u = X[xo + a] - means[mo + a], ru = r * u;
      s1[mo + a] += ru;
      s2[qo + a] += ru * u;
    }`;
  }
  return `${DIFFS(d)}
    for (let a = 0, q = qo; a < ${d}; a++) {
      const ru = r * diff[a];
      s1[mo + a] += ru;
      for (let b = 0; b <= a; b++) s2[q++] += ru * diff[b];
    }`;
}

import { normalQuantiles } from './normal-quantile.js';
import type { Rng } from './rng.js';

/**
 * Sobol' points with a random linear matrix scramble and a random digital shift (Matoušek's
 * scrambling, as in scipy.stats.qmc.Sobol): each point is uniform on [0, 1)^d, the first
 * 2^m points of every randomisation are a (t, m, d)-net, and independent randomisations
 * give independent, unbiased estimates, so their spread is an honest error bar.
 */

/**
 * Joe and Kuo's direction numbers (new-joe-kuo-6.21201, "Constructing Sobol sequences with
 * better two-dimensional projections", SIAM J. Sci. Comput. 30, 2008) for dimensions 2…64:
 * degree s of the primitive polynomial, its coefficients a, then m_1…m_s.
 * Dimension 1 is van der Corput's (every m_k = 1).
 */
const JOE_KUO: readonly string[] = [
  "1 0 1",
  "2 1 1 3",
  "3 1 1 3 1",
  "3 2 1 1 1",
  "4 1 1 1 3 3",
  "4 4 1 3 5 13",
  "5 2 1 1 5 5 17",
  "5 4 1 1 5 5 5",
  "5 7 1 1 7 11 19",
  "5 11 1 1 5 1 1",
  "5 13 1 1 1 3 11",
  "5 14 1 3 5 5 31",
  "6 1 1 3 3 9 7 49",
  "6 13 1 1 1 15 21 21",
  "6 16 1 3 1 13 27 49",
  "6 19 1 1 1 15 7 5",
  "6 22 1 3 1 15 13 25",
  "6 25 1 1 5 5 19 61",
  "7 1 1 3 7 11 23 15 103",
  "7 4 1 3 7 13 13 15 69",
  "7 7 1 1 3 13 7 35 63",
  "7 8 1 3 5 9 1 25 53",
  "7 14 1 3 1 13 9 35 107",
  "7 19 1 3 1 5 27 61 31",
  "7 21 1 1 5 11 19 41 61",
  "7 28 1 3 5 3 3 13 69",
  "7 31 1 1 7 13 1 19 1",
  "7 32 1 3 7 5 13 19 59",
  "7 37 1 1 3 9 25 29 41",
  "7 41 1 3 5 13 23 1 55",
  "7 42 1 3 7 3 13 59 17",
  "7 50 1 3 1 3 5 53 69",
  "7 55 1 1 5 5 23 33 13",
  "7 56 1 1 7 7 1 61 123",
  "7 59 1 1 7 9 13 61 49",
  "7 62 1 3 3 5 3 55 33",
  "8 14 1 3 1 15 31 13 49 245",
  "8 21 1 3 5 15 31 59 63 97",
  "8 22 1 3 1 11 11 11 77 249",
  "8 38 1 3 1 11 27 43 71 9",
  "8 47 1 1 7 15 21 11 81 45",
  "8 49 1 3 7 3 25 31 65 79",
  "8 50 1 3 1 1 19 11 3 205",
  "8 52 1 1 5 9 19 21 29 157",
  "8 56 1 3 7 11 1 33 89 185",
  "8 67 1 3 3 3 15 9 79 71",
  "8 70 1 3 7 11 15 39 119 27",
  "8 84 1 1 3 1 11 31 97 225",
  "8 97 1 1 1 3 23 43 57 177",
  "8 103 1 3 7 7 17 17 37 71",
  "8 115 1 3 1 5 27 63 123 213",
  "8 122 1 1 3 5 11 43 53 133",
  "9 8 1 3 5 5 29 17 47 173 479",
  "9 13 1 3 3 11 3 1 109 9 69",
  "9 16 1 1 1 5 17 39 23 5 343",
  "9 22 1 3 1 5 25 15 31 103 499",
  "9 25 1 1 1 11 11 17 63 105 183",
  "9 44 1 1 5 11 9 29 97 231 363",
  "9 47 1 1 5 15 19 45 41 7 383",
  "9 52 1 3 7 7 31 19 83 137 221",
  "9 55 1 1 1 3 23 15 111 223 83",
  "9 59 1 1 5 13 31 15 55 25 161",
  "9 62 1 1 3 13 25 47 39 87 257"
];

export const SOBOL_MAX_DIMENSION = JOE_KUO.length + 1;

const BITS = 32;
const MAX_POINTS = 2 ** BITS;
const TWO_POW_M32 = 2 ** -32;
const U_MIN = 2 ** -64;
const U_MAX = 1 - 2 ** -53;

/** Unscrambled direction numbers v_k = m_k·2^(32−k), k = 1…32, per dimension (a constant table). */
const DIRECTIONS: Uint32Array = (() => {
  const v = new Uint32Array(SOBOL_MAX_DIMENSION * BITS);
  for (let k = 0; k < BITS; k++) v[k] = 2 ** (BITS - 1 - k);
  JOE_KUO.forEach((row, j) => {
    const [s, a, ...m] = row.split(' ').map(Number) as [number, number, ...number[]];
    const off = (j + 1) * BITS;
    for (let k = 0; k < s; k++) v[off + k] = m[k]! * 2 ** (BITS - 1 - k);
    for (let k = s; k < BITS; k++) {
      let x = v[off + k - s]! ^ (v[off + k - s]! >>> s);
      for (let i = 1; i < s; i++) if ((a >>> (s - 1 - i)) & 1) x ^= v[off + k - i]!;
      v[off + k] = x >>> 0;
    }
  });
  return v;
})();

/** 32-bit words of storage one randomisation in d dimensions uses (see the constructor). */
export function sobolStorageWords(d: number): number {
  return 2 * d * BITS;
}

/** One independent randomisation of the first d coordinates of Sobol's sequence, in Gray-code order. */
export class ScrambledSobol {
  readonly d: number;
  /** Points produced so far. */
  private count = 0;
  private readonly state: Uint32Array;
  private readonly shift: Uint32Array;
  private readonly jitter: Float64Array;
  /** Scrambled direction numbers M·v_k, filled as the sequence grows. */
  private readonly scrambled: Uint32Array;
  /** Columns of the lower-triangular scrambling matrix M, drawn as needed. */
  private readonly columns: Uint32Array;
  private known = 0;

  /**
   * `storage` (sobolStorageWords(d) words, contents irrelevant) lets many randomisations share
   * one allocation: a sampler makes 16 per stratum, and two 1 KB arrays each cost more to
   * allocate (d = 8) than drawing the whole randomisation.
   */
  constructor(
    d: number,
    private rng: Rng,
    storage?: Uint32Array,
  ) {
    if (!Number.isInteger(d) || d < 1 || d > SOBOL_MAX_DIMENSION) {
      throw new RangeError(`Sobol dimension must be an integer in 1…${SOBOL_MAX_DIMENSION}, got ${d}`);
    }
    this.d = d;
    this.state = new Uint32Array(d);
    this.shift = new Uint32Array(d);
    this.jitter = new Float64Array(d);
    const words = d * BITS;
    const store = storage ?? new Uint32Array(2 * words);
    if (store.length < 2 * words) throw new RangeError(`Sobol storage needs ${2 * words} words, got ${store.length}`);
    this.scrambled = store.subarray(0, words);
    this.columns = store.subarray(words, 2 * words);
    this.rerandomise();
  }

  /**
   * Starts a fresh, independent randomisation from the first point, drawing from the same rng
   * exactly as a new instance would (so results do not depend on which is used); reusing the
   * arrays matters to the samplers, which restart dozens of streams per estimate.
   */
  rerandomise(): void {
    const { d, rng } = this;
    this.count = 0;
    this.known = 0;
    this.state.fill(0);
    for (let j = 0; j < d; j++) {
      this.shift[j] = rng.int32() >>> 0;
      // Below the 32 digits the net fixes, a uniform offset makes each point exactly uniform.
      this.jitter[j] = rng.uniform();
    }
  }

  /**
   * Continues from the first point exactly as a new instance on `rng` would: lets a sampler
   * keep its randomisations from one estimate to the next.
   */
  reseed(rng: Rng): void {
    this.rng = rng;
    this.rerandomise();
  }

  /** Makes direction numbers 1…k available; v_k only has digits 1…k, so M·v_k needs k columns. */
  private extend(k: number): void {
    if (k > BITS) throw new RangeError(`a Sobol randomisation holds at most 2^${BITS} points`);
    const { d, rng, columns, scrambled } = this;
    const v = DIRECTIONS;
    for (let kk = this.known; kk < k; kk++) {
      for (let j = 0; j < d; j++) {
        // Column kk: a one on the diagonal (digit kk), random digits below it.
        const diag = 1 << (BITS - 1 - kk);
        const below = kk === BITS - 1 ? 0 : (rng.int32() >>> (kk + 1)) | 0;
        columns[j * BITS + kk] = diag | below;
        // M·v_k: v_k has digits 1…k only, so only the first k columns take part.
        const vk = v[j * BITS + kk]! | 0;
        let y = 0;
        for (let l = 0; l <= kk; l++) if (vk & (1 << (BITS - 1 - l))) y ^= columns[j * BITS + l]!;
        scrambled[j * BITS + kk] = y;
      }
    }
    this.known = k;
  }

  /** The next n points as uniforms in (0, 1), n×d row-major into out at row outRow. */
  nextUniforms(n: number, out: Float64Array, outRow = 0): void {
    this.generate(n, out, outRow, false);
  }

  /** The next n points mapped to standard normals coordinate-wise, n×d row-major. */
  nextNormals(n: number, out: Float64Array, outRow = 0): void {
    this.generate(n, out, outRow, true);
  }

  private generate(n: number, out: Float64Array, outRow: number, normal: boolean): void {
    const { d, state, shift, jitter, scrambled } = this;
    const end = this.count + n;
    // Direction numbers needed: the least k with 2^k ≥ end (one past BITS beyond 2^32 points,
    // for extend to refuse). Found by stepping k with 2 ** k, it was ~3% of a default estimate
    // on 4d-different-k: a power is a library call, and an estimate makes hundreds of calls.
    const need = end <= 1 ? 0 : end > MAX_POINTS ? BITS + 1 : 32 - Math.clz32(end - 1);
    if (need > this.known) this.extend(need);
    for (let i = this.count; i < end; i++) {
      if (i > 0) {
        // Gray code: point i differs from point i−1 by direction number ctz(i) + 1.
        const c = 31 - Math.clz32(i & -i);
        for (let j = 0; j < d; j++) state[j] = state[j]! ^ scrambled[j * BITS + c]!;
      }
      const row = (outRow + i - this.count) * d;
      for (let j = 0; j < d; j++) {
        let u = (((state[j]! ^ shift[j]!) >>> 0) + jitter[j]!) * TWO_POW_M32;
        if (u < U_MIN) u = U_MIN;
        else if (u > U_MAX) u = U_MAX;
        out[row + j] = u;
      }
    }
    if (normal) normalQuantiles(out, outRow * d, (outRow + n) * d);
    this.count = end;
  }
}

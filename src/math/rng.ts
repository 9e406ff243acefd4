import seedrandom from 'seedrandom';

/**
 * A seeded source of randomness. Every random draw in klaxon comes from one of these,
 * created from a seed the caller passes, so any result can be reproduced.
 */
export interface Rng {
  /** Uniform on [0, 1). */
  uniform(): number;
  /** Standard normal. */
  normal(): number;
  /** A 32-bit integer, for deriving child seeds. */
  int32(): number;
}

export type Seed = string | number;

/** Alea is seedrandom's fastest generator with good statistical quality. */
export function createRng(seed: Seed): Rng {
  const prng = seedrandom.alea(String(seed));
  let spare = NaN;
  return {
    uniform: () => prng(),
    int32: () => prng.int32(),
    normal(): number {
      // Marsaglia's polar method: two normals per accepted pair, keep the second.
      if (!Number.isNaN(spare)) {
        const z = spare;
        spare = NaN;
        return z;
      }
      let u: number, v: number, s: number;
      do {
        u = 2 * prng() - 1;
        v = 2 * prng() - 1;
        s = u * u + v * v;
      } while (s >= 1 || s === 0);
      const f = Math.sqrt((-2 * Math.log(s)) / s);
      spare = v * f;
      return u * f;
    },
  };
}

/** Fill `out` with standard normals. */
export function fillNormal(rng: Rng, out: Float64Array): Float64Array {
  for (let i = 0; i < out.length; i++) out[i] = rng.normal();
  return out;
}

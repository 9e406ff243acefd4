/** log Σ exp(v[i]) over v[offset .. offset+n), stable for any magnitudes; -Infinity when all are. */
export function logSumExp(v: ArrayLike<number>, offset = 0, n = v.length - offset): number {
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = v[offset + i]!;
    if (x > max) max = x;
  }
  if (max === -Infinity) return -Infinity;
  if (max === Infinity) return Infinity;
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.exp(v[offset + i]! - max);
  return max + Math.log(s);
}

/** log(exp(a) + exp(b)) without overflow. */
export function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

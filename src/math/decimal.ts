/**
 * `Number(s)` for the decimal strings Kafka offsets and timestamps come as, faster: a long
 * digit string is no array index, so V8 converts it in its general (slow) path (a 13-digit
 * timestamp: ~100 ns, against ~30 ns here). Up to 15 digits the sum below is exact; anything
 * else (`-1` for no timestamp, say) goes to Number.
 */
export function decimal(s: string): number {
  const n = s.length;
  if (n === 0 || n > 15) return Number(s);
  let x = 0;
  for (let i = 0; i < n; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return Number(s);
    x = x * 10 + d;
  }
  return x;
}

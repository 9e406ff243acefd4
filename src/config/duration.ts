const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
/** A number and a unit; without one, seconds (the keys say so: `…Seconds`). */
const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/;

/**
 * A duration in seconds from a number of seconds or a string with a unit.
 * `parseDuration("10m")` is 600; `parseDuration(2.5)` is 2.5. Returns undefined when it is
 * neither, so the caller can say what it expected.
 */
export function parseDuration(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = DURATION.exec(v);
  if (!m) return undefined;
  return Number(m[1]) * UNIT_SECONDS[m[2] ?? 's']!;
}

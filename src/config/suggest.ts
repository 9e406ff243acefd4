/**
 * "Did you mean" for unknown keys: the known keys of the schema at an issue's path, and the
 * closest one to what was written. Walks zod's definitions, so it never drifts from the schema.
 */

interface Def {
  type: string;
  shape?: Record<string, { _zod: { def: Def } }>;
  element?: { _zod: { def: Def } };
  innerType?: { _zod: { def: Def } };
  in?: { _zod: { def: Def } };
  options?: { _zod: { def: Def } }[];
  valueType?: { _zod: { def: Def } };
}

function unwrap(def: Def): Def[] {
  if (def.innerType) return unwrap(def.innerType._zod.def);
  if (def.type === 'pipe' && def.in) return unwrap(def.in._zod.def);
  if (def.type === 'union' && def.options) return def.options.flatMap((o) => unwrap(o._zod.def));
  return [def];
}

function step(defs: Def[], key: PropertyKey): Def[] {
  const out: Def[] = [];
  for (const def of defs) {
    if (typeof key === 'number' && def.element) out.push(...unwrap(def.element._zod.def));
    else if (def.shape && typeof key === 'string' && def.shape[key]) out.push(...unwrap(def.shape[key]._zod.def));
    else if (def.valueType) out.push(...unwrap(def.valueType._zod.def));
  }
  return out;
}

export function knownKeys(schema: { _zod: { def: unknown } }, path: readonly PropertyKey[]): string[] {
  let defs = unwrap(schema._zod.def as Def);
  for (const key of path) defs = step(defs, key);
  return [...new Set(defs.flatMap((d) => (d.shape ? Object.keys(d.shape) : [])))];
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The known key closest to `key`, if it is close enough to be a likely typo. */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

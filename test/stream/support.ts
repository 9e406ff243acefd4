import { parseConfig } from '../../src/config/resolve.js';
import type { StreamConfig } from '../../src/config/types.js';
import { createRng, type Rng } from '../../src/math/rng.js';
import type { SourceRecord } from '../../src/stream/record.js';

/** A resolved stream config from the few settings a test cares about. */
export function streamConfig(raw: Record<string, unknown>): StreamConfig {
  return parseConfig({ streams: [{ name: 's', fields: ['x'], ...raw }] }).streams[0]!;
}

/** n records {"x": …} (and "y" for d = 2) on topic t, drawn by `draw`. */
export function records(n: number, draw: (rng: Rng) => number[], seed: string | number, timestampMs?: number): SourceRecord[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => {
    const v = draw(rng);
    const body = v.length === 1 ? { x: v[0] } : { x: v[0], y: v[1] };
    return { topic: 't', value: JSON.stringify(body), ...(timestampMs === undefined ? {} : { timestampMs }) };
  });
}

export const normal =
  (mean = 0, sd = 1) =>
  (rng: Rng): number[] => [mean + sd * rng.normal()];

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gmmToJson } from '../../src/gmm/json.js';
import { syntheticPairs } from '../divergence.js';

/**
 * `node dist/bench/sklearn/pairs.js OUT.json`: the pairs that bench/sklearn/seed.py times
 * against scikit-learn, as {"pairs": [{name, p, q}]} in model JSON — the synthetic pairs of
 * bench/divergence.ts (same shapes and seeds, so the same mixtures) and every shared fixture pair.
 */

interface PairJson {
  name: string;
  p: unknown;
  q: unknown;
}

/** The fixture pairs as stored: already model JSON, so scikit-learn gets exactly what was published. */
function fixturePairs(): PairJson[] {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const candidates = [
    resolve(process.cwd(), '../shared/fixtures/gmm-pairs.json'),
    resolve(here, '../../../../shared/fixtures/gmm-pairs.json'), // from dist/bench/sklearn/
  ];
  const path = candidates.find((c) => existsSync(c));
  if (!path) {
    process.stderr.write('pairs: ../shared/fixtures/gmm-pairs.json not found; writing the synthetic pairs only\n');
    return [];
  }
  const json = JSON.parse(readFileSync(path, 'utf8')) as { cases: PairJson[] };
  return json.cases.map(({ name, p, q }) => ({ name, p, q }));
}

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: node dist/bench/sklearn/pairs.js OUT.json\n');
  process.exit(2);
}
const synthetic = syntheticPairs().map(({ name, p, q }) => ({ name, p: gmmToJson(p), q: gmmToJson(q) }));
const pairs = [...synthetic, ...fixturePairs()];
writeFileSync(out, `${JSON.stringify({ pairs })}\n`);
process.stderr.write(`pairs: wrote ${pairs.length} pairs to ${out}\n`);

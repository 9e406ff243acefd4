import { cpus, totalmem } from 'node:os';
import { benchAccuracy } from './accuracy.js';
import { benchDivergence } from './divergence.js';
import { benchEvaluate } from './evaluate.js';
import { benchFit } from './fit.js';
import { benchKafka } from './kafka.js';
import { benchMonitor } from './monitor.js';
import { benchNullTail } from './null-tail.js';
import { benchScale } from './scale.js';

/**
 * `npm run bench`: every benchmark in one run, so that ratios are taken side by side on the
 * same (shared, noisy) machine. `npm run bench -- divergence fit` runs only those parts.
 */
const parts: Record<string, (log: (line: string) => void) => Promise<void>> = {
  divergence: benchDivergence,
  accuracy: benchAccuracy,
  fit: benchFit,
  monitor: benchMonitor,
  evaluate: benchEvaluate,
  kafka: benchKafka,
  scale: benchScale,
  tail: benchNullTail,
};

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !(w in parts));
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown part ${unknown.join(', ')}; choose from ${Object.keys(parts).join(', ')}\n`);
  process.exit(2);
}
const cpu = cpus()[0]?.model ?? 'unknown cpu';
log(`# klaxon benchmarks — ${new Date().toISOString()}`);
log(`machine: ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
for (const [name, run] of Object.entries(parts)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  log(`\n## ${name}\n`);
  await run(log);
}

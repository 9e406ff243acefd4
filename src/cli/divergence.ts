import type { Command } from 'commander';
import { js, kl, METHODS, type DivergenceMethod } from '../divergence/index.js';
import { positiveInt, UsageError } from './errors.js';
import { readModel } from './files.js';
import { timed } from './timing.js';

interface DivergenceFlags {
  p: string;
  q: string;
  method: string;
  samples?: number;
  seed: string;
  repeat: number;
  json?: boolean;
}

/** `klaxon kl` and `klaxon js`: one divergence between two model JSON files. */
export function addDivergenceCommands(program: Command): void {
  for (const measure of ['kl', 'js'] as const) {
    program
      .command(measure)
      .description(
        measure === 'kl'
          ? 'KL(p‖q) between two Gaussian mixtures, in nats, with a standard error'
          : 'Jensen–Shannon divergence between two Gaussian mixtures, in nats, with a standard error',
      )
      .requiredOption('--p <file>', 'model JSON of p (scikit-learn field names)')
      .requiredOption('--q <file>', 'model JSON of q')
      .option('--method <method>', `one of ${METHODS.join(', ')}`, 'auto')
      .option('--samples <n>', 'sample count for sampling methods', positiveInt('--samples'))
      .option('--seed <seed>', 'seed for every random draw', '0')
      .option('--repeat <n>', 'time n runs after an untimed warm-up (n > 1) and report the median', positiveInt('--repeat'), 1)
      .option('--json', 'print one JSON object')
      .action((flags: DivergenceFlags) => {
        if (!(METHODS as readonly string[]).includes(flags.method)) {
          throw new UsageError(`--method must be one of ${METHODS.join(', ')}, got "${flags.method}"`);
        }
        const p = readModel(flags.p);
        const q = readModel(flags.q);
        if (p.d !== q.d) throw new UsageError(`dimension mismatch: p has d=${p.d}, q has d=${q.d}`);
        const estimate = measure === 'kl' ? kl : js;
        const opts = { method: flags.method as DivergenceMethod, seed: flags.seed, samples: flags.samples };
        const { result, msMedian } = timed(flags.repeat, () => estimate(p, q, opts));
        if (flags.json) {
          const out = {
            [measure]: result.value,
            stderr: result.stderr,
            method: result.method,
            samples: result.samples,
            ms_median: msMedian,
          };
          process.stdout.write(`${JSON.stringify(out)}\n`);
        } else {
          const name = measure === 'kl' ? 'KL(p‖q)' : 'JS(p, q)';
          process.stdout.write(
            `${name} = ${result.value.toPrecision(8)} ± ${result.stderr.toPrecision(2)} nats ` +
              `(${result.method}, ${result.samples} samples, ${msMedian.toFixed(3)} ms)\n`,
          );
        }
      });
  }
}

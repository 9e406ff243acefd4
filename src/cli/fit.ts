import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { fitGmm } from '../gmm/fit.js';
import { gmmToJson } from '../gmm/json.js';
import { COVARIANCE_TYPES, type CovarianceType } from '../gmm/model.js';
import { positiveInt, positiveNumber, UsageError } from './errors.js';
import { readData } from './files.js';
import { timed } from './timing.js';

interface FitFlags {
  data: string;
  components: number;
  covarianceType: string;
  nInit: number;
  maxIter: number;
  tol: number;
  regCovar: number;
  seed: string;
  out?: string;
  repeat: number;
  json?: boolean;
}

/** `klaxon fit`: EM on a CSV or JSON-lines file, writing the model JSON. */
export function addFitCommand(program: Command): void {
  program
    .command('fit')
    .description('fit a Gaussian mixture by EM to a CSV (with header) or JSON-lines file')
    .requiredOption('--data <file>', 'CSV with a header row, or JSON lines of numeric arrays or objects')
    .requiredOption('--components <k>', 'number of mixture components', positiveInt('--components'))
    .option('--covariance-type <type>', COVARIANCE_TYPES.join('|'), 'full')
    .option('--n-init <n>', 'initialisations; the best is kept', positiveInt('--n-init'), 1)
    .option('--max-iter <n>', 'EM iterations at most', positiveInt('--max-iter'), 100)
    .option('--tol <x>', 'convergence threshold on the mean log-likelihood', positiveNumber('--tol'), 1e-3)
    .option('--reg-covar <x>', 'added to the covariance diagonals', positiveNumber('--reg-covar'), 1e-6)
    .option('--seed <seed>', 'seed for initialisation', '0')
    .option('--out <file>', 'write the fitted model JSON here')
    .option('--repeat <n>', 'time n fits after an untimed warm-up (n > 1) and report the median', positiveInt('--repeat'), 1)
    .option('--json', 'print one JSON object')
    .action((flags: FitFlags) => {
      if (!(COVARIANCE_TYPES as readonly string[]).includes(flags.covarianceType)) {
        throw new UsageError(`--covariance-type must be one of ${COVARIANCE_TYPES.join(', ')}, got "${flags.covarianceType}"`);
      }
      const { X, n, d } = readData(flags.data);
      if (n < flags.components) {
        throw new UsageError(`${flags.data}: ${n} rows cannot fit ${flags.components} components`);
      }
      const opts = {
        components: flags.components,
        covarianceType: flags.covarianceType as CovarianceType,
        nInit: flags.nInit,
        maxIter: flags.maxIter,
        tol: flags.tol,
        regCovar: flags.regCovar,
        seed: flags.seed,
      };
      const { result, msMedian } = timed(flags.repeat, () => fitGmm(X, n, d, opts));
      if (flags.out) writeFileSync(flags.out, `${JSON.stringify(gmmToJson(result.model), null, 2)}\n`);
      const summary = {
        mean_loglik: result.meanLogLik,
        iterations: result.iterations,
        converged: result.converged,
        ms_median: msMedian,
      };
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(summary)}\n`);
      } else {
        process.stdout.write(
          `fitted K=${flags.components} (${flags.covarianceType}) to ${n}×${d}: mean log-likelihood ` +
            `${result.meanLogLik.toFixed(6)}, ${result.iterations} iterations, ` +
            `${result.converged ? 'converged' : 'NOT converged (raise --max-iter)'}, ${msMedian.toFixed(2)} ms` +
            `${flags.out ? `; model written to ${flags.out}` : '; not written (--out FILE writes the model JSON)'}\n`,
        );
      }
    });
}

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Runs once before the suite, so that `npm test` works on a fresh machine of this kind:
 * compile (tests of the command line run the same `dist/` as `npx klaxon`, never a stale
 * build), and install the Debian servers the integration tests drive where they are
 * missing. The Kafka broker is started on demand by test/support/kafka.ts.
 */
export default function setup(): void {
  // `npm run build`, not tsc alone: the build also makes the CLI executable, which npx needs.
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  const have = (bin: string): boolean => ['/usr/bin', '/usr/local/bin'].some((dir) => existsSync(`${dir}/${bin}`));
  if (!have('promtool') || !have('prometheus-alertmanager')) {
    execFileSync('bash', ['scripts/deploy/install-prometheus.sh'], { stdio: 'inherit' });
  }
  if (!have('chromium')) execFileSync('bash', ['scripts/install-chromium.sh'], { stdio: 'inherit' });
}

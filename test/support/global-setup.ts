import { execFileSync } from 'node:child_process';

/**
 * Runs once before the suite: compile, so that tests of the command line run the same
 * `dist/` that `npx klaxon` runs, never a stale build.
 */
export default function setup(): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}

/** Paths and external tools shared by the deploy tests. */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function repoPath(...parts: string[]): string {
  return join(REPO_ROOT, ...parts);
}

export function readYaml(...parts: string[]): unknown {
  return parse(readFileSync(repoPath(...parts), 'utf8'));
}

/** Files in a repo folder whose names end with `suffix`, as repo-relative paths, sorted. */
export function filesIn(dir: string, suffix: string): string[] {
  return readdirSync(repoPath(dir))
    .filter((f) => f.endsWith(suffix))
    .sort()
    .map((f) => join(dir, f));
}

const INSTALL_HINT = 'install it with: sudo bash scripts/deploy/install-prometheus.sh';

/**
 * The absolute path of a required command-line tool. A missing tool is an error, never a
 * reason to skip: a test that silently skips proves nothing.
 */
export function requireTool(name: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || path === '') {
    throw new Error(`${name} is not on PATH; ${INSTALL_HINT}`);
  }
  return path;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr, for assertion messages */
  output: string;
}

export function run(command: string, args: readonly string[]): RunResult {
  const r = spawnSync(command, args, { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    output: `$ ${command} ${args.join(' ')}\n${r.stdout}${r.stderr}`,
  };
}

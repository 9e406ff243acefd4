/**
 * klaxon as production runs it: the compiled command line, `klaxon run --config FILE`, in its
 * own process, serving HTTP on an ephemeral loopback port that it reports in its log.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { repoPath } from '../../deploy/tools.js';
import { waitFor } from '../../support/kafka.js';
import { startChild, type Child } from './children.js';

export const CLI = repoPath('dist', 'src', 'cli.js');

export interface Klaxon {
  readonly child: Child;
  /** http://127.0.0.1:PORT */
  readonly base: string;
  /** 127.0.0.1:PORT, the scrape target */
  readonly address: string;
  metrics(): Promise<string>;
}

/**
 * Writes `config` (with http on 127.0.0.1:0, its state in `dir`) to `dir/klaxon.yaml`, runs
 * klaxon on it from `dir`, and resolves once it has logged the port it listens on.
 */
export async function startKlaxon(name: string, dir: string, config: Record<string, unknown>): Promise<Klaxon> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build with npm run build (vitest's global setup does)`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'klaxon.yaml');
  writeFileSync(file, stringify({ ...config, http: { host: '127.0.0.1', port: 0 }, stateDir: join(dir, 'state') }));
  const child = startChild(name, process.execPath, [CLI, 'run', '--config', file], { cwd: dir });
  let port: number | undefined;
  child.onLine((line) => {
    if (port !== undefined || !line.startsWith('{')) return;
    try {
      const entry = JSON.parse(line) as { msg?: string; port?: number };
      if (entry.msg === 'http server listening' && typeof entry.port === 'number') port = entry.port;
    } catch {
      // not a log line
    }
  });
  await waitFor(
    () => {
      if (child.exited()) throw new Error('exited');
      return port !== undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100, what: `${name} to log its HTTP port` },
  ).catch((err: unknown) => {
    throw new Error(`${name} did not start: ${String(err)}\n${child.tail()}`);
  });
  const base = `http://127.0.0.1:${port!}`;
  return {
    child,
    base,
    address: `127.0.0.1:${port!}`,
    metrics: async () => {
      const res = await fetch(`${base}/metrics`);
      if (!res.ok) throw new Error(`${name} /metrics answered ${res.status}`);
      return res.text();
    },
  };
}

/**
 * The series names with at least one sample in a Prometheus text exposition (a histogram's as
 * `_bucket`, `_sum`, `_count`). A metric declared without samples is not there.
 */
export function exposedSeriesNames(text: string): Set<string> {
  return new Set([...text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/gm)].map((m) => m[1]!));
}

/**
 * Child processes for the end-to-end tests: each in its own process group, so that stopping it
 * also stops whatever it started, with its output kept for failure messages. Every child started
 * here is killed when the test process exits, even if a test forgot to stop it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

const MAX_LOG_CHARS = 200_000;

export interface Child {
  readonly name: string;
  readonly pid: number;
  /** stdout and stderr interleaved, the last MAX_LOG_CHARS of them */
  log(): string;
  /** The last `lines` lines of the log, for error messages. */
  tail(lines?: number): string;
  /** Whether the process has exited (or was never started). */
  exited(): boolean;
  /** SIGTERM to the whole process group; SIGKILL if it is still there after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** Subscribes to each line of output. */
  onLine(listener: (line: string) => void): void;
}

const live = new Set<ChildProcess>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is gone already
  }
}

process.once('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL');
});

/** Proxies would send loopback HTTP (scrapes, notifications) somewhere else. */
function withoutProxies(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (!/^(https?|all|no)_proxy$/i.test(k)) out[k] = v;
  return out;
}

export function startChild(
  name: string,
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Child {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: withoutProxies(options.env ?? process.env),
    detached: true, // its own process group: stop() reaches its children too
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  live.add(child);
  let log = '';
  let partial = '';
  let exitedFlag = false;
  const listeners: ((line: string) => void)[] = [];
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitedFlag = true;
      live.delete(child);
      log += `\n[${name} exited: code ${String(code)}, signal ${String(signal)}]\n`;
      resolve();
    });
    child.once('error', (err) => {
      exitedFlag = true;
      live.delete(child);
      log += `\n[${name} failed: ${err.message}]\n`;
      resolve();
    });
  });
  const onData = (d: Buffer): void => {
    const text = d.toString();
    log = (log + text).slice(-MAX_LOG_CHARS);
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) for (const l of listeners) l(line);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);

  return {
    name,
    pid: child.pid,
    log: () => log,
    tail: (lines = 30) => log.trimEnd().split('\n').slice(-lines).join('\n'),
    exited: () => exitedFlag,
    onLine: (listener) => void listeners.push(listener),
    async stop(graceMs = 5_000) {
      if (exitedFlag) return;
      killGroup(child, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs)));
      const late = await Promise.race([exit.then(() => false), timedOut]);
      clearTimeout(timer);
      if (late) {
        killGroup(child, 'SIGKILL');
        await exit;
      }
    },
  };
}

/** A loopback port that was free a moment ago (the servers started here cannot take port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

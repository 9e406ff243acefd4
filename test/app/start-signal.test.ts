// `klaxon run` stopped while it is still starting (a Kafka source waits out its first connect)
// says so and exits, instead of dying silently by the signal's default action.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';

/** A local port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe('klaxon run: a signal during start-up', () => {
  it('logs one line and exits 143 on SIGTERM while the Kafka source is still connecting', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'klaxon-start-signal-'));
    const config = path.join(dir, 'klaxon.json');
    const raw = {
      source: { type: 'kafka', brokers: [`127.0.0.1:${await closedPort()}`], groupId: 'g', topics: ['t'], checkpointTopic: null },
      http: { host: '127.0.0.1', port: 0 },
      streams: [{ name: 'x', topic: 't', fields: ['x'] }],
    };
    writeFileSync(config, JSON.stringify(raw)); // YAML is a superset of JSON
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/src/cli.js'), 'run', '--config', config], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString('utf8');
        if (stdout.includes('kafka source starting')) resolve();
      });
    });
    expect(stdout).not.toContain('klaxon started');
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(stderr.trim()).toBe('klaxon: SIGTERM while starting; exiting');
  }, 60_000);
});

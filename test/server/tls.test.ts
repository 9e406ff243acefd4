import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpServer } from '../../src/server/http.js';
import { ManualClock } from '../../src/stream/clock.js';
import { Monitor } from '../../src/stream/monitor.js';
import { streamConfig } from '../stream/support.js';
import { selfSignedCert } from '../support/tls.js';

const TOKEN = 'tls-test-token-0123456789';
const quiet = { info: (): void => {}, error: (): void => {}, warn: (): void => {} };

let dir: string;
let tls: { certFile: string; keyFile: string };
let server: HttpServer | undefined;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'klaxon-tls-'));
  tls = selfSignedCert(dir);
});

afterEach(async () => {
  await server?.close();
  server = undefined;
});

function httpsCall(port: number, p: string, opts: { method?: string; token?: string; body?: string; ca?: Buffer | undefined } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
    const req = httpsRequest(
      { host: '127.0.0.1', port, path: p, method: opts.method ?? 'GET', headers, agent: false, ...(opts.ca ? { ca: opts.ca } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

async function start(): Promise<{ port: number; m: Monitor }> {
  const m = new Monitor({ streams: [streamConfig({})], clock: new ManualClock(Date.now()), stateDir: mkdtempSync(path.join(tmpdir(), 'klaxon-tls-state-')) });
  await m.init();
  server = await startHttpServer({ view: m, control: m, registry: new Registry(), host: '127.0.0.1', port: 0, logger: quiet, apiToken: TOKEN, tls });
  return { port: server.port, m };
}

describe('HTTPS from http.tls', () => {
  it('serves every endpoint over TLS with the configured certificate, and the operator controls with it', async () => {
    const { port, m } = await start();
    expect(server!.protocol).toBe('https');
    const ca = readFileSync(tls.certFile);
    expect(await httpsCall(port, '/healthz', { ca })).toEqual({ status: 200, body: 'ok\n' });
    expect((await httpsCall(port, '/api/streams/s', { ca })).status).toBe(200);
    const muted = await httpsCall(port, '/api/streams/s/mute', { method: 'POST', token: TOKEN, body: '{"minutes": 10}', ca });
    expect(muted.status, muted.body).toBe(200);
    expect(m.stream('s')!.muted).toBe(true);
    // The client really checked the certificate: without trusting it, the handshake fails.
    await expect(httpsCall(port, '/healthz')).rejects.toThrow(/self[- ]signed/i);
  });

  it('does not answer plain HTTP on the TLS port', async () => {
    const { port } = await start();
    const answer = await new Promise<string>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => resolve(`HTTP ${res.statusCode}`));
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      req.end();
    });
    expect(answer).not.toBe('HTTP 200');
  });

  it('refuses to start with a one-line reason when the files are missing or not a certificate and key', async () => {
    const m = new Monitor({ streams: [streamConfig({})], stateDir: dir });
    const base = { view: m, registry: new Registry(), host: '127.0.0.1', port: 0, logger: quiet };
    await expect(startHttpServer({ ...base, tls: { certFile: path.join(dir, 'none.pem'), keyFile: tls.keyFile } })).rejects.toThrow(
      /^http\.tls\.certFile: cannot read .*none\.pem \(ENOENT\)$/,
    );
    const junk = path.join(dir, 'junk.pem');
    writeFileSync(junk, 'not a key\n');
    await expect(startHttpServer({ ...base, tls: { certFile: tls.certFile, keyFile: junk } })).rejects.toThrow(
      /^http\.tls: cannot use .*cert\.pem and .*junk\.pem: /,
    );
  });
});

import { request as httpRequest } from 'node:http';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/metrics.js';
import { startHttpServer, type HttpLogger, type HttpServer } from '../../src/server/http.js';
import type { StreamJson } from '../../src/server/api.js';
import { FakeView, oneDimStream, twoDimStream, warmingStream } from './fake-view.js';

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw request: the path goes out exactly as written (fetch would normalise `..`). */
function get(port: number, path: string, method = 'GET', headers: Record<string, string> = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

function recordingLogger(): { errors: unknown[]; info: () => void; error: (obj: object, msg: string) => void } {
  const errors: unknown[] = [];
  return { errors, info: () => {}, error: (obj, msg) => errors.push({ obj, msg }) };
}

let server: HttpServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(view = new FakeView([oneDimStream('a'), twoDimStream('b'), warmingStream('c')]), logger = recordingLogger()) {
  const registry = new Registry();
  createMetrics(registry, view);
  server = await startHttpServer({ view, registry, host: '127.0.0.1', port: 0, logger });
  return { port: server.port, view, registry, logger };
}

describe('startHttpServer', () => {
  it('binds an ephemeral port and closes even with a keep-alive connection open', async () => {
    const { port } = await start();
    expect(port).toBeGreaterThan(0);
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { keepalive: true });
    expect(await res.text()).toBe('ok\n');
    await server!.close();
    server = undefined;
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('serves /metrics in the registry content type', async () => {
    const { port, registry } = await start();
    const res = await get(port, '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(registry.contentType);
    expect(res.body).toContain('klaxon_divergence_nats{stream="a",measure="js"}');
    expect(res.body).toContain('klaxon_stream_ready{stream="c"} 0');
  });

  it('answers /healthz always and /readyz only once the monitor is ready', async () => {
    const { port, view } = await start();
    view.ready = false;
    expect(await get(port, '/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
    const notReady = await get(port, '/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(notReady.body).toMatch(/^not ready: [^\n]+\n$/);
    view.ready = true;
    expect(await get(port, '/readyz')).toMatchObject({ status: 200, body: 'ready\n' });
  });

  it('lists the streams as JSON, non-finite numbers as null', async () => {
    const view = new FakeView([oneDimStream('a'), warmingStream('c')]);
    view.list[0]!.lastEvaluation!.divergences.kl_ref_win.value = Number.POSITIVE_INFINITY;
    view.list[0]!.lastEvaluation!.divergences.kl_win_ref.stderr = Number.NaN;
    const { port } = await start(view);
    const res = await get(port, '/api/streams');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    const streams = JSON.parse(res.body) as StreamJson[];
    expect(streams.map((s) => s.name)).toEqual(['a', 'c']);
    const a = streams[0]!;
    expect(Object.keys(a).sort()).toEqual(
      [
        'alert',
        'dimension',
        'evaluationIntervalSeconds',
        'fields',
        'history',
        'lastEvaluation',
        'muted',
        'mutedUntilMs',
        'name',
        'phase',
        'ready',
        'recordsTotal',
        'reference',
        'referenceSamples',
        'referenceTimestampMs',
        'thresholds',
        'topic',
        'window',
        'windowChangedMs',
        'windowSamples',
      ].sort(),
    );
    expect(a.lastEvaluation?.divergences.kl_ref_win).toMatchObject({ value: null, method: 'quasi_monte_carlo' });
    expect(a.lastEvaluation?.divergences.kl_win_ref?.stderr).toBeNull();
    expect(a.lastEvaluation?.divergences.js?.value).toBeCloseTo(view.list[0]!.lastEvaluation!.divergences.js.value, 12);
    expect(a.reference).toEqual(view.list[0]!.reference);
    expect(a.window?.covariance_type).toBe('full');
    expect(a.history).toHaveLength(60);
    expect(a.thresholds.js).toEqual({ warning: 0.05, critical: 0.12 });
    expect(a.alert).toEqual({ warning: true, critical: false });
    const c = streams[1]!;
    expect(c).toMatchObject({ ready: false, phase: 'collecting_reference', lastEvaluation: null, reference: null, window: null });
  });

  it('serves one stream by URL-decoded name, and 404s anything else', async () => {
    const view = new FakeView([oneDimStream('a'), oneDimStream('odd name/ü'), oneDimStream('../..')]);
    const { port } = await start(view);
    const one = await get(port, '/api/streams/a');
    expect(one.status).toBe(200);
    expect((JSON.parse(one.body) as StreamJson).name).toBe('a');
    const odd = await get(port, `/api/streams/${encodeURIComponent('odd name/ü')}`);
    expect(odd.status).toBe(200);
    expect((JSON.parse(odd.body) as StreamJson).name).toBe('odd name/ü');
    // A stream really named `../..` is reachable only by its encoded name, as data, never as a path.
    expect((await get(port, '/api/streams/..%2F..')).status).toBe(200);

    for (const path of [
      '/api/streams/nope',
      '/api/streams/',
      '/api/streams/a/',
      '/api/streams/a/history',
      '/api/streams/../metrics',
      '/api/streams/..%2Fmetrics',
      '/api/streams/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/api/streams/%E0%A4%A',
      '/api/streams/%00',
      `/api/streams/${'x'.repeat(5000)}`,
      `/api/streams/${'%41'.repeat(1000)}`,
      '/api/streamsa',
      '/nope',
      '/metrics/',
      '/assets/',
      '/assets/../metrics',
      '//metrics',
    ]) {
      const res = await get(port, path);
      expect(res.status, path).toBe(404);
      expect(res.headers['content-type'], path).toBe('text/plain; charset=utf-8');
      expect(res.body, path).not.toMatch(/at |Error/);
    }
  });

  it('allows GET and HEAD only', async () => {
    const { port } = await start();
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const res = await get(port, '/metrics', method);
      expect(res.status, method).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD');
    }
    expect((await get(port, '/nope', 'POST')).status).toBe(405);
    const head = await get(port, '/api/streams', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(Number(head.headers['content-length'])).toBeGreaterThan(100);
  });

  it('serves the status page and its assets from the same origin, with revalidation', async () => {
    const { port } = await start();
    const page = await get(port, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    // Relative URLs only, so the page works behind a proxy that adds a path prefix.
    expect(page.body).toContain('<script src="assets/app.js"');
    expect(page.body).not.toMatch(/(?:src|href)="\//);
    expect(page.body).not.toMatch(/https?:\/\//);
    const assets: [string, string][] = [
      ['/assets/app.js', 'text/javascript; charset=utf-8'],
      ['/assets/app.css', 'text/css; charset=utf-8'],
      ['/favicon.svg', 'image/svg+xml'],
    ];
    for (const [path, type] of assets) {
      const res = await get(port, path);
      expect(res.status, path).toBe(200);
      expect(res.headers['content-type'], path).toBe(type);
      const etag = String(res.headers.etag);
      const again = await get(port, path, 'GET', { 'if-none-match': etag });
      expect(again.status, path).toBe(304);
      expect(again.body).toBe('');
    }
    expect((await get(port, '/?x=1')).status).toBe(200);
  });

  it('answers 500 without a stack when the view throws, and logs the error', async () => {
    const view = new FakeView();
    view.streams = () => {
      throw new Error('boom at secret/place.ts:12');
    };
    const logger = recordingLogger();
    const { port } = await start(view, logger);
    const res = await get(port, '/api/streams');
    expect(res.status).toBe(500);
    expect(res.body).toBe('internal server error\n');
    const metrics = await get(port, '/metrics');
    expect(metrics.status).toBe(500);
    expect(logger.errors).toHaveLength(2);
    expect(JSON.stringify(logger.errors[0])).toContain('http request failed');
    // Other endpoints are unaffected.
    expect((await get(port, '/healthz')).status).toBe(200);
  });

  it('takes a pino logger as it is', async () => {
    const logger: HttpLogger = pino({ enabled: false });
    server = await startHttpServer({ view: new FakeView(), registry: new Registry(), host: '127.0.0.1', port: 0, logger });
    expect((await get(server.port, '/healthz')).status).toBe(200);
  });

  it('rejects a port in use', async () => {
    const { port } = await start();
    await expect(
      startHttpServer({ view: new FakeView(), registry: new Registry(), host: '127.0.0.1', port, logger: recordingLogger() }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});

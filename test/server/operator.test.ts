import { existsSync, mkdtempSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gmmFromJson, gmmToJson } from '../../src/gmm/json.js';
import { gaussian } from '../../src/gmm/model.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { startHttpServer, type HttpServer } from '../../src/server/http.js';
import { ManualClock } from '../../src/stream/clock.js';
import { Monitor } from '../../src/stream/monitor.js';
import { normal, records, streamConfig } from '../stream/support.js';

const TOKEN = 'test-token-0123456789abcdef';
const T0 = Date.parse('2026-01-15T12:00:00Z');

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

interface Req {
  method?: string;
  token?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body chunked, without a content-length. */
  chunked?: boolean;
}

/** A raw request: the path goes out exactly as written (fetch would normalise `..` and `%2F`). */
function call(port: number, urlPath: string, r: Req = {}): Promise<Res> {
  const headers: Record<string, string> = { ...r.headers };
  if (r.token !== undefined) headers.authorization = `Bearer ${r.token}`;
  if (r.body !== undefined && !r.chunked) headers['content-length'] = String(Buffer.byteLength(r.body));
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: urlPath, method: r.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (r.body !== undefined && r.chunked) {
      const b = Buffer.from(r.body);
      for (let i = 0; i < b.length; i += 64 * 1024) req.write(b.subarray(i, i + 64 * 1024));
    } else if (r.body !== undefined) req.write(r.body);
    req.end();
  });
}

/** Every error answer is one line of text, never a stack trace. */
function expectOneLine(res: Res, status: number, pattern?: RegExp): void {
  expect(res.status, res.body).toBe(status);
  expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
  expect(res.body).toMatch(/^[^\n]+\n$/);
  expect(res.body).not.toMatch(/\bat \S+:\d+|Error:/);
  if (pattern) expect(res.body.trimEnd()).toMatch(pattern);
}

interface Ctx {
  m: Monitor;
  clock: ManualClock;
  stateDir: string;
  port: number;
  logs: Record<string, unknown>[];
  audits: () => Record<string, unknown>[];
}

let server: HttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A real monitor (stream `s`, evaluated once; `c` still collecting) behind the HTTP server. */
async function start(apiToken: string | null = TOKEN): Promise<Ctx> {
  const clock = new ManualClock(T0);
  const stateDir = mkdtempSync(path.join(tmpdir(), 'klaxon-http-op-'));
  const fast = { window: { size: 500 }, evaluationIntervalSeconds: 10, components: 1, fit: { nInit: 1 } };
  const m = new Monitor({
    streams: [streamConfig({ ...fast, hysteresis: { raiseAfter: 1, clearAfter: 1 } }), { ...streamConfig({ ...fast, reference: { policy: 'first_n', n: 10_000 } }), name: 'c' }],
    clock,
    stateDir,
  });
  await m.init();
  m.ingest('test', records(500, normal(0, 1), 1));
  await m.runDue();
  const registry = new Registry();
  createMetrics(registry, m);
  const logs: Record<string, unknown>[] = [];
  const logger = {
    info: (obj: object, msg: string): void => void logs.push({ ...obj, msg }),
    warn: (obj: object, msg: string): void => void logs.push({ ...obj, msg, level: 'warn' }),
    error: (obj: object, msg: string): void => void logs.push({ ...obj, msg, level: 'error' }),
  };
  server = await startHttpServer({ view: m, control: m, registry, host: '127.0.0.1', port: 0, logger, apiToken: apiToken ?? undefined });
  return { m, clock, stateDir, port: server.port, logs, audits: () => logs.filter((l) => l.audit === true) };
}

const json = (res: Res): Record<string, unknown> => JSON.parse(res.body) as Record<string, unknown>;

describe('operator endpoints: the token', () => {
  let ctx: Ctx;
  beforeEach(async () => {
    ctx = await start();
  });

  it('POST /rebaseline: 401 without a token, 403 with a wrong one, neither changing anything; then the change', async () => {
    const { m, port, stateDir } = ctx;
    const before = m.stream('s')!;
    const snapshot = path.join(stateDir, 's.reference.json');
    const model = JSON.stringify(gmmToJson(gaussian([3], [2])));

    const none = await call(port, '/api/streams/s/rebaseline', { method: 'POST', body: model });
    expectOneLine(none, 401, /^missing API token: send the header "Authorization: Bearer <token>"$/m);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="klaxon"');
    const basic = await call(port, '/api/streams/s/rebaseline', { method: 'POST', headers: { authorization: `Basic ${TOKEN}` } });
    expectOneLine(basic, 401);
    const wrong = await call(port, '/api/streams/s/rebaseline', { method: 'POST', token: `${TOKEN}x`, body: model });
    expectOneLine(wrong, 403, /^wrong API token$/m);
    const short = await call(port, '/api/streams/s/rebaseline', { method: 'POST', token: TOKEN.slice(0, -1) });
    expectOneLine(short, 403, /^wrong API token$/m);
    expect(m.stream('s')).toMatchObject({ reference: before.reference, referenceTimestampMs: before.referenceTimestampMs, ready: true });
    expect(existsSync(snapshot)).toBe(false);

    ctx.clock.advance(5_000);
    const ok = await call(port, '/api/streams/s/rebaseline', { method: 'POST', token: TOKEN, body: model });
    expect(ok.status, ok.body).toBe(200);
    expect(json(ok)).toEqual({
      stream: 's',
      source: 'model',
      referenceTimestampMs: T0 + 5_000,
      referenceTimestamp: '2026-01-15T12:00:05.000Z',
      referenceSamples: 0,
      components: 1,
    });
    expect(m.stream('s')!.reference!.means).toEqual([[3]]);
    expect(existsSync(snapshot)).toBe(true);

    // The same from the window: an empty body.
    const fromWindow = await call(port, '/api/streams/s/rebaseline', { method: 'POST', token: TOKEN });
    expect(fromWindow.status, fromWindow.body).toBe(200);
    expect(json(fromWindow)).toMatchObject({ source: 'window', referenceSamples: 500 });
    expect(m.stream('s')!.reference!.means[0]![0]).toBeCloseTo(0, 0);
  });

  it('POST /mute and DELETE /mute: 401 and 403 change nothing; then the change, on the API and in /metrics', async () => {
    const { m, port } = ctx;
    for (const token of [undefined, 'nope']) {
      const res = await call(port, '/api/streams/s/mute', { method: 'POST', token, body: '{"minutes": 60}' });
      expectOneLine(res, token === undefined ? 401 : 403);
    }
    expect(m.stream('s')!.muted).toBe(false);

    const ok = await call(port, '/api/streams/s/mute', { method: 'POST', token: TOKEN, body: '{"minutes": 60}' });
    expect(ok.status, ok.body).toBe(200);
    expect(json(ok)).toEqual({ stream: 's', muted: true, mutedUntil: '2026-01-15T13:00:00.000Z', mutedUntilMs: T0 + 3_600_000 });
    const view = json(await call(port, '/api/streams/s'));
    expect(view).toMatchObject({ muted: true, mutedUntilMs: T0 + 3_600_000 });
    expect((await call(port, '/metrics')).body).toMatch(/^klaxon_stream_muted\{stream="s"\} 1$/m);

    for (const token of [undefined, 'nope']) {
      const res = await call(port, '/api/streams/s/mute', { method: 'DELETE', token });
      expectOneLine(res, token === undefined ? 401 : 403);
    }
    expect(m.stream('s')!.muted).toBe(true);
    const un = await call(port, '/api/streams/s/mute', { method: 'DELETE', token: TOKEN });
    expect(un.status, un.body).toBe(200);
    expect(json(un)).toEqual({ stream: 's', muted: false, mutedUntil: null, mutedUntilMs: null });
    expect((await call(port, '/metrics')).body).toMatch(/^klaxon_stream_muted\{stream="s"\} 0$/m);
  });

  it('writes one audit line per attempt, with action, stream, time, address and outcome, and never the token', async () => {
    const { port, audits, logs } = ctx;
    await call(port, '/api/streams/s/mute', { method: 'POST', body: '{"minutes": 5}' });
    await call(port, '/api/streams/s/mute', { method: 'POST', token: 'guess-1234', body: '{"minutes": 5}' });
    await call(port, '/api/streams/s/mute', { method: 'POST', token: TOKEN, body: '{"minutes": 5}', headers: { 'x-forwarded-for': '10.1.2.3' } });
    await call(port, '/api/streams/s/mute', { method: 'POST', token: TOKEN, body: '{"minutes": -5}' });
    await call(port, '/api/streams/nope/rebaseline', { method: 'POST', token: TOKEN });
    await call(port, '/api/streams/s/mute', { method: 'DELETE', token: TOKEN });
    const lines = audits();
    expect(lines.map((l) => [l.action, l.stream, l.outcome, l.status])).toEqual([
      ['mute', 's', 'denied', 401],
      ['mute', 's', 'denied', 403],
      ['mute', 's', 'applied', 200],
      ['mute', 's', 'rejected', 400],
      ['rebaseline', 'nope', 'rejected', 404],
      ['unmute', 's', 'applied', 200],
    ]);
    for (const l of lines) {
      expect(l.msg).toBe('operator action');
      expect(Date.parse(String(l.at))).toBeGreaterThan(0);
      expect(l.remoteAddress).toMatch(/127\.0\.0\.1/);
    }
    expect(lines[0]).toMatchObject({ denial: 'unauthenticated' });
    expect(lines[1]).toMatchObject({ denial: 'forbidden', reason: 'wrong API token' });
    expect(lines[2]).toMatchObject({ forwardedFor: '10.1.2.3', mutedUntil: expect.stringMatching(/^2026-01-15T12:05/) });
    expect(lines[3]).toMatchObject({ reason: '"minutes" must be a positive number' });
    const all = JSON.stringify(logs);
    expect(all).not.toContain(TOKEN);
    expect(all).not.toContain('guess-1234');
  });
});

describe('operator endpoints: switched off without a token', () => {
  it('answers every mutating request 403 with the variable to set; reading stays open', async () => {
    const { m, port, logs } = await start(null);
    for (const [method, sub, body] of [
      ['POST', 'rebaseline', undefined],
      ['POST', 'mute', '{"minutes": 5}'],
      ['DELETE', 'mute', undefined],
    ] as const) {
      for (const token of [undefined, TOKEN, '']) {
        const res = await call(port, `/api/streams/s/${sub}`, { method, token, body });
        expectOneLine(res, 403, /^operator controls are switched off: start klaxon with an API token in KLAXON_API_TOKEN to enable them$/m);
      }
    }
    expect(m.stream('s')).toMatchObject({ muted: false, ready: true });
    for (const p of ['/metrics', '/healthz', '/readyz', '/api/streams', '/api/streams/s', '/api/streams/s/reference', '/']) {
      expect((await call(port, p)).status, p).toBe(200);
    }
    expect(logs.some((l) => l.msg === 'operator controls switched off: no API token in KLAXON_API_TOKEN')).toBe(true);
  });
});

describe('operator endpoints: bodies and names', () => {
  let ctx: Ctx;
  beforeEach(async () => {
    ctx = await start();
  });

  it('answers 413 to a body over 1 MiB, declared or chunked, and changes nothing', async () => {
    const { m, port } = ctx;
    const big = `{"weights": [1], "means": [[0]], "covariances": [[[1]]], "pad": "${'x'.repeat(1024 * 1024)}"}`;
    for (const chunked of [false, true]) {
      const res = await call(port, '/api/streams/s/rebaseline', { method: 'POST', token: TOKEN, body: big, chunked });
      expectOneLine(res, 413, /^request body too large: at most 1048576 bytes$/m);
    }
    // Far past the limit, the connection is cut rather than read to the end: a reset, or a 413.
    const huge = await call(port, '/api/streams/s/mute', { method: 'POST', token: TOKEN, body: Buffer.alloc(12 * 1024 * 1024, 32) }).then(
      (r) => r.status,
      () => 'reset',
    );
    expect([413, 'reset']).toContain(huge);
    expect(m.stream('s')).toMatchObject({ muted: false, referenceTimestampMs: T0 });
    // A body just under the limit is read (and refused for what it is, not for its size).
    const fits = await call(port, '/api/streams/s/mute', { method: 'POST', token: TOKEN, body: `{"minutes": 5${' '.repeat(1024 * 1024 - 20)}}` });
    expect(fits.status).toBe(200);
  });

  it('refuses a request without a token before reading its body, and closes the connection', async () => {
    const { port } = ctx;
    // The headers promise 5 MiB; only the first bytes ever come.
    const res = await new Promise<Res>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port, path: '/api/streams/s/rebaseline', method: 'POST', headers: { 'content-length': String(5 * 1024 * 1024) }, agent: false },
        (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => {
            resolve({ status: r.statusCode ?? 0, headers: r.headers, body: Buffer.concat(chunks).toString('utf8') });
            req.destroy();
          });
        },
      );
      req.on('error', reject);
      req.write('{"weights": ');
    });
    expectOneLine(res, 401);
    expect(res.headers.connection).toBe('close');
  });

  it('answers 400 with a one-line reason to malformed bodies', async () => {
    const { m, port } = ctx;
    const cases: [string, string, string | Buffer, RegExp][] = [
      ['POST', 'rebaseline', '{"weights": [1], "means": ', /^request body is not valid JSON: /],
      ['POST', 'rebaseline', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), /^request body is not UTF-8 text$/],
      ['POST', 'rebaseline', '[1, 2]', /^invalid model JSON: model must be a JSON object$/],
      ['POST', 'rebaseline', '{}', /^invalid model JSON: weights must be an array$/],
      ['POST', 'rebaseline', '{"weights": [0.5, 0.6], "means": [[0], [1]], "covariances": [[[1]], [[1]]]}', /^invalid model JSON: weights must sum to 1/],
      ['POST', 'rebaseline', JSON.stringify(gmmToJson(gaussian([0, 0], [1, 0, 0, 1]))), /^the model has 2 dimension\(s\) but stream s has 1 field\(s\): x$/],
      ['POST', 'mute', 'not json', /^request body is not valid JSON: /],
      ['POST', 'mute', '', /^missing or malformed body: expected \{"until": /],
      ['POST', 'mute', '[]', /^missing or malformed body: /],
      ['POST', 'mute', '{}', /^give exactly one of "until" and "minutes"/],
      ['POST', 'mute', '{"minutes": 5, "until": 1}', /^give exactly one of "until" and "minutes"/],
      ['POST', 'mute', '{"minutes": 5, "why": "deploy"}', /^unknown field "why": /],
      ['POST', 'mute', '{"minutes": "5"}', /^"minutes" must be a positive number$/],
      ['POST', 'mute', '{"minutes": 0}', /^"minutes" must be a positive number$/],
      ['POST', 'mute', '{"until": "tomorrow"}', /^"until" must be an ISO-8601 time with a zone/],
      ['POST', 'mute', '{"until": "2026-01-15T18:00:00"}', /^"until" must be an ISO-8601 time with a zone/],
      ['POST', 'mute', '{"until": 1768500000000}', /^"until" looks like milliseconds: give unix seconds$/],
      ['POST', 'mute', '{"until": "2026-01-15T11:00:00Z"}', /^the mute must end in the future, got 2026-01-15T11:00:00.000Z$/],
      ['POST', 'mute', '{"minutes": 43201}', /^a mute may last at most 30 days; for a lasting change re-baseline the stream instead$/],
      ['POST', 'mute', '{"until": null}', /^"until" must be an ISO-8601 time or unix seconds/],
      ['DELETE', 'mute', '{"minutes": 5}', /^DELETE \/mute takes no body$/],
    ];
    for (const [method, sub, body, pattern] of cases) {
      const res = await call(port, `/api/streams/s/${sub}`, { method, token: TOKEN, body });
      expectOneLine(res, 400, pattern);
    }
    expect(m.stream('s')).toMatchObject({ muted: false, referenceTimestampMs: T0 });
  });

  it('takes the mute end as an ISO-8601 time with a zone or as unix seconds', async () => {
    const { port } = ctx;
    const until = async (value: unknown): Promise<unknown> =>
      json(await call(port, '/api/streams/s/mute', { method: 'POST', token: TOKEN, body: JSON.stringify({ until: value }) })).mutedUntil;
    expect(await until('2026-01-15T18:30:00Z')).toBe('2026-01-15T18:30:00.000Z');
    expect(await until('2026-01-15T19:30:00+01:00')).toBe('2026-01-15T18:30:00.000Z');
    expect(await until((T0 + 7_200_000) / 1000)).toBe('2026-01-15T14:00:00.000Z');
    expect(await until(String((T0 + 7_200_000) / 1000))).toBe('2026-01-15T14:00:00.000Z');
  });

  it('answers 404 to unknown and odd stream names, after the token and before the body', async () => {
    const { port } = ctx;
    for (const name of ['nope', '..', '..%2F..', '%2E%2E', 's%2F', 's%2Fmute', '%2Fs', '%00', '%E0%A4%A', 'S', 'x'.repeat(5000), '%41'.repeat(1000), '']) {
      for (const [method, sub] of [
        ['POST', 'rebaseline'],
        ['POST', 'mute'],
        ['DELETE', 'mute'],
      ] as const) {
        const res = await call(port, `/api/streams/${name}/${sub}`, { method, token: TOKEN, body: '{"minutes": 5}' });
        expectOneLine(res, 404);
      }
    }
    for (const p of ['/api/streams/s/mute/x', '/api/streams/s/../s/mute', '/api/streams/s//mute', '/api/streams/../streams/s/mute']) {
      expect((await call(port, p, { method: 'POST', token: TOKEN, body: '{"minutes": 5}' })).status, p).toBeGreaterThanOrEqual(404);
    }
    // Without the token an unknown name is not told apart from a known one.
    expectOneLine(await call(port, '/api/streams/nope/mute', { method: 'POST', body: '{}' }), 401);
    expect(ctx.m.stream('s')!.muted).toBe(false);
  });

  it('answers 405 with Allow to the wrong method', async () => {
    const { port } = ctx;
    const cases: [string, string, string][] = [
      ['GET', '/api/streams/s/mute', 'POST, DELETE'],
      ['PUT', '/api/streams/s/mute', 'POST, DELETE'],
      ['GET', '/api/streams/s/rebaseline', 'POST'],
      ['DELETE', '/api/streams/s/rebaseline', 'POST'],
      ['POST', '/api/streams/s/reference', 'GET, HEAD'],
      ['POST', '/api/streams/s', 'GET, HEAD'],
      ['POST', '/api/streams', 'GET, HEAD'],
      ['OPTIONS', '/api/streams/s/mute', 'POST, DELETE'],
    ];
    for (const [method, p, allow] of cases) {
      const res = await call(port, p, { method, token: TOKEN });
      expectOneLine(res, 405);
      expect(res.headers.allow, `${method} ${p}`).toBe(allow);
    }
  });
});

describe('GET /api/streams/{name}/reference', () => {
  it('serves the reference as scikit-learn model JSON, open to all', async () => {
    const { m, port } = await start();
    const res = await call(port, '/api/streams/s/reference');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const model = JSON.parse(res.body) as Record<string, unknown>;
    expect(Object.keys(model).sort()).toEqual(['covariance_type', 'covariances', 'means', 'weights']);
    expect(model).toEqual(m.stream('s')!.reference);
    expect(gmmFromJson(model).d).toBe(1);
    expectOneLine(await call(port, '/api/streams/c/reference'), 404, /^the stream has no reference yet: it is still collecting/);
    expectOneLine(await call(port, '/api/streams/nope/reference'), 404, /^no such stream$/);
    expect((await call(port, '/api/streams/s/reference', { method: 'HEAD' })).status).toBe(200);
  });
});

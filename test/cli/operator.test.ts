import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/resolve.js';
import { gmmFromJson, gmmToJson, type GmmJson } from '../../src/gmm/json.js';
import { gaussian } from '../../src/gmm/model.js';
import { ROOT } from '../support/cli.js';
import { selfSignedCert } from '../support/tls.js';
import { waitForValue } from '../support/wait.js';

const TOKEN = 'cli-test-token-0123456789';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the compiled `klaxon` as a user would, asynchronously: the app under test runs in this
 * process, so a blocking spawnSync would keep it from answering.
 */
function klaxon(args: string[], env: Record<string, string | undefined> = { KLAXON_API_TOKEN: TOKEN }): Promise<Run> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, KLAXON_API_TOKEN: undefined, ...env };
  for (const k of Object.keys(childEnv)) if (childEnv[k] === undefined) delete childEnv[k];
  return new Promise((resolve) => {
    execFile(process.execPath, [`${ROOT}/dist/src/cli.js`, ...args], { cwd: ROOT, env: childEnv, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

function expectOneLineError(r: Run, code: number, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stdout).toBe('');
}

function config(dir: string, tls?: { certFile: string; keyFile: string }) {
  return parseConfig({
    source: { type: 'demo', seed: 'cli-operator', rate: 3000, driftAfterSeconds: 3600 },
    http: { host: '127.0.0.1', port: 0, ...(tls ? { tls } : {}) },
    log: { level: 'silent' },
    stateDir: path.join(dir, 'state'),
    defaults: { window: { size: 600 }, evaluationIntervalSeconds: 0.25, fit: { nInit: 1 } },
    streams: [{ name: 'payment_amount', topic: 'demo.payments', fields: ['amount'] }],
  });
}

let dir: string;
let app: App;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'klaxon-cli-op-'));
  app = await startApp({ config: config(dir), registry: new Registry(), logger: pino({ level: 'silent' }), env: { KLAXON_API_TOKEN: TOKEN } });
  url = `http://127.0.0.1:${app.httpPort}`;
  await waitForValue(() => (app.monitor.stream('payment_amount')!.ready ? true : undefined), 15_000, 'the stream to be ready');
});

afterAll(async () => {
  await app?.stop();
});

const view = () => app.monitor.stream('payment_amount')!;
const S = ['--stream', 'payment_amount'];

describe('klaxon mute / unmute', () => {
  it('mutes for --minutes or --until and unmutes, printing one line each', async () => {
    const m = await klaxon(['mute', ...S, '--url', url, '--minutes', '45']);
    expect(m.stderr).toBe('');
    expect(m.code).toBe(0);
    expect(m.stdout).toMatch(/^stream payment_amount muted until \d{4}-\d\d-\d\dT[\d:.]+Z\n$/);
    expect(view().muted).toBe(true);
    expect(Math.abs(view().mutedUntilMs! - (Date.now() + 45 * 60_000))).toBeLessThan(30_000);

    const until = new Date(Date.now() + 2 * 3_600_000);
    until.setUTCMilliseconds(0);
    const iso = await klaxon(['mute', ...S, '--url', url, '--until', until.toISOString(), '--json']);
    expect(iso.code).toBe(0);
    expect(JSON.parse(iso.stdout)).toEqual({ stream: 'payment_amount', muted: true, mutedUntil: until.toISOString(), mutedUntilMs: until.getTime() });
    const secs = await klaxon(['mute', ...S, '--url', `${url}/`, '--until', String(until.getTime() / 1000 + 60)]);
    expect(secs.code).toBe(0);
    expect(view().mutedUntilMs).toBe(until.getTime() + 60_000);

    const u = await klaxon(['unmute', ...S, '--url', url]);
    expect(u.code).toBe(0);
    expect(u.stdout).toBe('stream payment_amount is not muted\n');
    expect(view().muted).toBe(false);
  });

  it('refuses bad flags, a missing token, a wrong one and an unknown stream in one line, changing nothing', async () => {
    expectOneLineError(await klaxon(['mute', ...S, '--url', url]), 2, /^klaxon: give exactly one of --minutes and --until$/);
    expectOneLineError(await klaxon(['mute', ...S, '--url', url, '--minutes', '5', '--until', '1']), 2, /^klaxon: give exactly one/);
    expectOneLineError(await klaxon(['mute', ...S, '--url', url, '--minutes', 'soon']), 2, /^klaxon: --minutes must be a positive number, got "soon"$/);
    expectOneLineError(await klaxon(['mute', '--url', url, '--minutes', '5']), 1, /^klaxon: required option '--stream <name>' not specified/);
    expectOneLineError(await klaxon(['mute', ...S, '--url', 'ftp://x', '--minutes', '5']), 2, /^klaxon: --url must be http:\/\/ or https:\/\//);
    expectOneLineError(await klaxon(['mute', ...S, '--url', url, '--minutes', '5'], {}), 2, /^klaxon: KLAXON_API_TOKEN is not set: export the API token/);
    expectOneLineError(await klaxon(['mute', ...S, '--url', url, '--minutes', '5'], { KLAXON_API_TOKEN: 'wrong' }), 1, /^klaxon: server answered 403: wrong API token$/);
    expectOneLineError(await klaxon(['mute', ...S, '--url', url, '--until', '2000-01-01T00:00:00Z']), 1, /^klaxon: server answered 400: the mute must end in the future/);
    expectOneLineError(await klaxon(['unmute', '--stream', 'nope', '--url', url]), 1, /^klaxon: server answered 404: no such stream$/);
    expect(view().muted).toBe(false);
  });

  it('says so in one line when nothing answers at the URL', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    expectOneLineError(
      await klaxon(['unmute', ...S, '--url', `http://127.0.0.1:${closed}`]),
      1,
      /^klaxon: cannot reach http:\/\/127\.0\.0\.1:\d+: connection refused \(is klaxon running there\?\)$/,
    );
  });
});

describe('klaxon rebaseline / reference', () => {
  it('re-baselines from the window, or to a model file, and reads the reference back', async () => {
    const r = await klaxon(['rebaseline', ...S, '--url', url]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^stream payment_amount re-baselined from its window \(\d+ samples\): \d components, reference set \d{4}-.*Z\n$/);

    const modelFile = path.join(dir, 'model.json');
    const model = gmmToJson(gaussian([120], [900]));
    writeFileSync(modelFile, JSON.stringify(model));
    const withModel = await klaxon(['rebaseline', ...S, '--url', url, '--model', modelFile, '--json']);
    expect(withModel.code, withModel.stderr).toBe(0);
    expect(JSON.parse(withModel.stdout)).toMatchObject({ stream: 'payment_amount', source: 'model', components: 1, referenceSamples: 0 });
    expect(view().reference).toEqual(model);

    const out = path.join(dir, 'ref.json');
    const ref = await klaxon(['reference', ...S, '--url', url, '--out', out], {});
    expect(ref.code, ref.stderr).toBe(0); // reading needs no token
    expect(ref.stdout).toBe(`reference of stream payment_amount written to ${out}\n`);
    const written = JSON.parse(readFileSync(out, 'utf8')) as GmmJson;
    expect(written).toEqual(model);
    expect(gmmFromJson(written).d).toBe(1);
    const stdout = await klaxon(['reference', ...S, '--url', url], {});
    expect(JSON.parse(stdout.stdout)).toEqual(model);
  });

  it('checks the model file locally before sending it', async () => {
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{"weights": [1], "means": [[0]]');
    const before = view().referenceTimestampMs;
    expectOneLineError(await klaxon(['rebaseline', ...S, '--url', url, '--model', bad]), 2, /^klaxon: .*bad\.json: not valid JSON/);
    expectOneLineError(await klaxon(['rebaseline', ...S, '--url', url, '--model', path.join(dir, 'none.json')]), 2, /none\.json: no such file$/);
    const twoD = path.join(dir, '2d.json');
    writeFileSync(twoD, JSON.stringify(gmmToJson(gaussian([0, 0], [1, 0, 0, 1]))));
    expectOneLineError(
      await klaxon(['rebaseline', ...S, '--url', url, '--model', twoD]),
      1,
      /^klaxon: server answered 400: the model has 2 dimension\(s\) but stream payment_amount has 1 field\(s\): amount$/,
    );
    expect(view().referenceTimestampMs).toBe(before);
  });
});

describe('the operator verbs over HTTPS', () => {
  it('trust a self-signed certificate given with --ca, and refuse it otherwise', async () => {
    const tlsDir = mkdtempSync(path.join(tmpdir(), 'klaxon-cli-tls-'));
    const tls = selfSignedCert(tlsDir);
    const secure = await startApp({ config: config(tlsDir, tls), registry: new Registry(), logger: pino({ level: 'silent' }), env: { KLAXON_API_TOKEN: TOKEN } });
    try {
      const base = `https://127.0.0.1:${secure.httpPort}`;
      const muted = await klaxon(['mute', ...S, '--url', base, '--ca', tls.certFile, '--minutes', '5']);
      expect(muted.code, muted.stderr).toBe(0);
      expect(secure.monitor.stream('payment_amount')!.muted).toBe(true);
      expectOneLineError(await klaxon(['unmute', ...S, '--url', base]), 1, /^klaxon: cannot reach https:\/\/127\.0\.0\.1:\d+: .*SELF_SIGNED/i);
      expect(secure.monitor.stream('payment_amount')!.muted).toBe(true);
    } finally {
      await secure.stop();
    }
  });
});

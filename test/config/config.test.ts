import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig, parseDuration } from '../../src/config/index.js';

const minimal = { streams: [{ name: 'amount', fields: ['amount'] }] };

/** The issues a bad config raises, as `path: message` lines. */
function problems(raw: unknown, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(raw, { env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig defaults', () => {
  it('needs only a stream name and its fields', () => {
    const c = parseConfig(minimal);
    expect(c.source).toEqual({ type: 'demo', seed: 'klaxon', rate: 200, driftAfterSeconds: 60, malformedFraction: 0.002 });
    expect(c.http).toEqual({ host: '0.0.0.0', port: 9464, apiTokenEnv: 'KLAXON_API_TOKEN', tls: undefined });
    expect(c.log.level).toBe('info');
    expect(path.basename(c.stateDir)).toBe('.klaxon-state');
    const s = c.streams[0]!;
    expect(s).toMatchObject({
      name: 'amount',
      topic: undefined,
      fields: ['amount'],
      bounds: [{ min: -Infinity, max: Infinity }],
      components: { min: 1, max: 5 },
      covarianceType: 'full',
      window: { size: 2000, durationSeconds: undefined },
      minSamples: 200,
      reference: { policy: 'first_n', n: 2000 },
      refitIntervalSeconds: 10,
      evaluationIntervalSeconds: 10,
      hysteresis: { raiseAfter: 3, clearAfter: 3 },
      fit: { nInit: 3, maxIter: 100, tol: 1e-3, regCovar: 1e-6, maxSamples: 5000 },
    });
    expect(s.thresholds).toEqual({
      kl_ref_win: { warning: 0.2, critical: 0.4 },
      kl_win_ref: { warning: 0.2, critical: 0.4 },
      js: { warning: 0.05, critical: 0.1 },
    });
  });

  it('layers built-ins, then defaults, then the stream', () => {
    const c = parseConfig({
      defaults: { window: { size: 500, duration: '10m' }, components: 3, thresholds: { js: { warning: 0.02 } } },
      streams: [
        { name: 'a', fields: ['x'] },
        { name: 'b', fields: ['x', 'y'], window: { size: 5000 }, components: { min: 2, max: 4 }, thresholds: { kl_win_ref: null, js: { critical: null } } },
      ],
    });
    const [a, b] = c.streams;
    expect(a!.window).toEqual({ size: 500, durationSeconds: 600 });
    expect(a!.minSamples).toBe(200);
    expect(a!.components).toEqual({ min: 3, max: 3 });
    expect(a!.thresholds.js).toEqual({ warning: 0.02, critical: 0.1 });
    expect(b!.window).toEqual({ size: 5000, durationSeconds: 600 });
    expect(b!.minSamples).toBe(500); // 10% of a large window
    expect(b!.reference).toEqual({ policy: 'first_n', n: 5000 });
    expect(b!.components).toEqual({ min: 2, max: 4 });
    expect(b!.thresholds.kl_win_ref).toBeUndefined();
    expect(b!.thresholds.js).toEqual({ warning: 0.02 });
  });

  it('fills source defaults per type and resolves paths against baseDir', () => {
    const file = parseConfig({ ...minimal, source: { type: 'file', path: 'data/x.csv' } }, { baseDir: '/etc/klaxon' });
    expect(file.source).toEqual({
      type: 'file',
      path: '/etc/klaxon/data/x.csv',
      format: 'csv',
      rate: 0,
      loop: false,
      topic: 'file',
      timestampField: undefined,
    });
    const kafka = parseConfig(
      {
        source: { type: 'kafka', brokers: ['k1:9092'], sasl: { mechanism: 'scram-sha-512', username: 'u', passwordEnv: 'KLAXON_KAFKA_PASSWORD' } },
        streams: [{ name: 'a', topic: 'payments', fields: ['amount'] }],
      },
      { env: { KLAXON_KAFKA_PASSWORD: 'x' } },
    );
    expect(kafka.source).toMatchObject({ type: 'kafka', clientId: 'klaxon', groupId: 'klaxon', topics: ['payments'], ssl: false });
    expect(JSON.stringify(kafka)).not.toContain('"x"');
  });

  it('resolves scaleOut to the repartition topic and its partitions, and needs checkpoints with it', () => {
    const source = { type: 'kafka', brokers: ['k1:9092'], groupId: 'g' };
    const streams = [{ name: 'x', topic: 'payments', fields: ['x'] }];
    expect(parseConfig({ source, streams }).source).toMatchObject({ scaleOut: undefined });
    expect(parseConfig({ source: { ...source, scaleOut: {} }, streams }).source).toMatchObject({ scaleOut: { topic: 'g.repartition', partitions: 12 } });
    expect(parseConfig({ source: { ...source, scaleOut: { partitions: 3, repartitionTopic: 'r' } }, streams }).source).toMatchObject({
      scaleOut: { topic: 'r', partitions: 3 },
    });
    expect(() => parseConfig({ source: { ...source, scaleOut: {}, checkpointTopic: null }, streams })).toThrow(/source.checkpointTopic: is needed with scaleOut/);
    expect(() => parseConfig({ source: { ...source, scaleOut: { partitions: 0 } }, streams })).toThrow(/source.scaleOut.partitions: must be a positive integer/);
  });

  it('reads durations as seconds or with a unit', () => {
    expect(parseDuration('10m')).toBe(600);
    expect(parseDuration('250ms')).toBe(0.25);
    expect(parseDuration(2.5)).toBe(2.5);
    expect(parseDuration('1h')).toBe(3600);
    expect(parseDuration('10')).toBe(10); // a quoted number of seconds
    expect(parseDuration('ten')).toBeUndefined();
    expect(parseDuration('10 weeks')).toBeUndefined();
  });
});

describe('parseConfig errors name the key and what is wrong', () => {
  const stream = (extra: object): unknown => ({ streams: [{ name: 'ok', fields: ['a'] }, { name: 's', fields: ['a'], ...extra }] });

  it.each([
    [stream({ window: { size: -5 } }), 'streams[1].window.size: must be a positive integer'],
    [stream({ window: { size: 2.5 } }), 'streams[1].window.size: must be a positive integer'],
    [stream({ window: { duration: 'soon' } }), 'streams[1].window.duration: must be a positive duration'],
    [stream({ components: 'many' }), 'streams[1].components: must be a positive integer, "auto"'],
    [stream({ components: { min: 4, max: 2 } }), 'streams[1].components: min (4) must not exceed max (2)'],
    [stream({ covarianceType: 'round' }), 'streams[1].covarianceType: must be one of full, diag, spherical, tied'],
    [stream({ minSamples: 5000 }), 'streams[1].minSamples: must not exceed window.size (2000)'],
    [stream({ reference: { policy: 'latest' } }), 'streams[1].reference.policy: policy must be one of first_n, file, snapshot'],
    [stream({ reference: { policy: 'file' } }), 'streams[1].reference.path: is required'],
    [stream({ thresholds: { js: { warning: 0.2, critical: 0.1 } } }), 'streams[1].thresholds.js: critical (0.1) must be greater than warning (0.2)'],
    [stream({ thresholds: { js: { warning: 0.9 } } }), 'streams[1].thresholds.js.warning: must be below ln 2'],
    [stream({ thresholds: { kl: { warning: 1 } } }), 'streams[1].thresholds.kl: unknown key'],
    [stream({ hysteresis: { raiseAfter: 0 } }), 'streams[1].hysteresis.raiseAfter: must be a positive integer'],
    [stream({ bounds: { b: { min: 0 } } }), `streams[1].bounds["b"]: is not one of the stream's fields (a)`],
    [stream({ bounds: { a: { min: 2, max: 1 } } }), 'streams[1].bounds["a"]: min (2) must be less than max (1)'],
    [stream({ fields: [] }), 'streams[1].fields: must list at least one field'],
    [stream({ fields: ['a..b'] }), 'streams[1].fields[0]: must be a dotted JSON field path'],
    [stream({ evaluationIntervalSeconds: 0 }), 'streams[1].evaluationIntervalSeconds: must be a positive duration'],
    [stream({ windw: { size: 10 } }), 'streams[1].windw: unknown key (did you mean "window"?)'],
    [{ streams: [{ name: '1bad', fields: ['a'] }] }, 'streams[0].name: must be label-safe'],
    [{ streams: [{ name: 'a', fields: ['a'] }, { name: 'a', fields: ['b'] }] }, 'streams[1].name: duplicate stream name "a" (also streams[0])'],
    [{ streams: [{ fields: ['a'] }] }, 'streams[0].name: is required'],
    [{ streams: [] }, 'streams: must define at least one stream'],
    [{}, 'streams: is required'],
    [{ ...minimal, http: { port: 70000 } }, 'http.port: must be a port number (0..65535)'],
    [{ ...minimal, log: { level: 'loud' } }, 'log.level: must be one of fatal, error, warn, info, debug, trace, silent'],
    [{ ...minimal, source: { type: 'carrier-pigeon' } }, 'source.type: type must be one of demo, file, kafka'],
    [{ ...minimal, source: { type: 'demo', rate: 0 } }, 'source.rate: must be a positive number'],
    [{ ...minimal, source: { type: 'file', path: 'x', format: 'xml' } }, 'source.format: must be jsonl or csv'],
    [{ ...minimal, source: { type: 'kafka', brokers: ['nohost'], topics: ['t'] } }, 'source.brokers[0]: must be host:port'],
    [{ ...minimal, defaults: { window: { size: 'big' } } }, 'defaults.window.size: must be a positive integer'],
  ])('%#: %s', (raw, expected) => {
    expect(problems(raw).join('\n')).toContain(expected);
  });

  it('says once that minSamples exceeds the window, not again of a reference.n nobody set', () => {
    expect(problems(stream({ window: { size: 100 }, minSamples: 500 }))).toEqual(['streams[1].minSamples: must not exceed window.size (100), or the window never fills']);
    expect(problems(stream({ minSamples: 500, reference: { policy: 'first_n', n: 300 } })).join('\n')).toContain('streams[1].reference.n: must be at least minSamples (500)');
  });

  it('rejects inline secrets and says where to put them', () => {
    const raw = {
      source: { type: 'kafka', brokers: ['k:9092'], topics: ['t'], sasl: { mechanism: 'plain', username: 'u', password: 'hunter2' } },
      ...minimal,
    };
    const msgs = problems(raw).join('\n');
    expect(msgs).toContain('source.sasl.password: inline secrets are not allowed');
    expect(msgs).toContain('passwordEnv');
    expect(msgs).not.toContain('hunter2');
  });

  it('takes the operator API token only by environment variable name, and TLS files relative to the config', () => {
    const inline = problems({ http: { apiToken: 's3cret-token' }, ...minimal }).join('\n');
    expect(inline).toContain('http.apiToken: inline secrets are not allowed');
    expect(inline).toContain('apiTokenEnv');
    expect(inline).not.toContain('s3cret-token');
    expect(problems({ http: { apiTokenEnv: 'not a name' }, ...minimal })).toEqual(['http.apiTokenEnv: must be an environment variable name']);
    const c = parseConfig({ http: { apiTokenEnv: 'OPS_TOKEN', tls: { certFile: 'tls/cert.pem', keyFile: '/etc/klaxon/key.pem' } }, ...minimal }, { baseDir: '/srv/klaxon' });
    expect(c.http).toMatchObject({ apiTokenEnv: 'OPS_TOKEN', tls: { certFile: '/srv/klaxon/tls/cert.pem', keyFile: '/etc/klaxon/key.pem' } });
    expect(problems({ http: { tls: { certFile: 'c.pem' } }, ...minimal })[0]).toMatch(/^http\.tls\.keyFile: is required/);
  });

  it('requires the named secret to be in the environment', () => {
    const raw = {
      source: { type: 'kafka', brokers: ['k:9092'], topics: ['t'], sasl: { mechanism: 'plain', username: 'u', passwordEnv: 'KLAXON_TEST_PW' } },
      ...minimal,
    };
    expect(problems(raw, {})).toEqual(['source.sasl.passwordEnv: environment variable KLAXON_TEST_PW is not set; export it with the SASL password']);
    expect(() => parseConfig(raw, { env: { KLAXON_TEST_PW: 's' } })).not.toThrow();
  });

  it('requires topics with kafka when a stream has none', () => {
    expect(problems({ source: { type: 'kafka', brokers: ['k:9092'] }, ...minimal })).toEqual([
      'streams[0].topic: is required with the kafka source, unless source.topics lists the topics to consume',
    ]);
  });

  it('reports every problem at once, one per line', () => {
    const err = (() => {
      try {
        parseConfig({ http: { port: -1 }, streams: [{ name: 'a', fields: ['x'], window: { size: 0 } }] });
      } catch (e) {
        return e as ConfigError;
      }
    })()!;
    expect(err.issues).toHaveLength(2);
    expect(err.message).toBe(
      'invalid configuration:\n  http.port: must be a port number (0..65535)\n  streams[0].window.size: must be a positive integer',
    );
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'klaxon-config-'));

  it('names the file when it is missing or not YAML', () => {
    expect(() => loadConfig(path.join(dir, 'nope.yaml'))).toThrow(/nope\.yaml: file not found/);
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'streams: [\n');
    expect(() => loadConfig(bad)).toThrow(/bad\.yaml: not valid YAML/);
  });

  it('resolves relative paths against the file', () => {
    const f = path.join(dir, 'k.yaml');
    writeFileSync(f, 'source: { type: file, path: events.jsonl }\nstreams: [{ name: a, fields: [x] }]\n');
    const c = loadConfig(f);
    expect(c.source.type === 'file' && c.source.path).toBe(path.join(dir, 'events.jsonl'));
  });

  it('validates every example configuration shipped in config/', () => {
    const root = path.resolve(import.meta.dirname, '../../config');
    const files = [
      ...readdirSync(root).filter((f) => /^klaxon.*\.ya?ml$/.test(f)).map((f) => path.join(root, f)),
      ...(readdirSync(root).includes('examples')
        ? readdirSync(path.join(root, 'examples')).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(root, 'examples', f))
        : []),
    ];
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(() => loadConfig(f, { env: { KLAXON_KAFKA_PASSWORD: 'x' } }), f).not.toThrow();
    const demo = loadConfig(path.join(root, 'klaxon.yaml'));
    expect(demo.source.type).toBe('demo');
    expect(demo.streams.map((s) => s.name)).toEqual(['payment_amount', 'payment_latency', 'sensor_xy']);
  });
});

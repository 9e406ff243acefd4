import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { gmmFromJson, type GmmJson } from '../../src/gmm/json.js';
import { FIXTURES, klaxon, ROOT } from '../support/cli.js';

interface PairCase {
  name: string;
  dimension: number;
  p: GmmJson;
  q: GmmJson;
  kl: number;
  kl_stderr: number;
  js: number;
  js_stderr: number;
}
const pairs = (JSON.parse(readFileSync(join(FIXTURES, 'gmm-pairs.json'), 'utf8')) as { cases: PairCase[] }).cases;

let dir: string;
const file = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const model = (name: string, json: unknown): string => file(name, JSON.stringify(json));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'klaxon-cli-'));
});

/** A user error: non-zero exit, exactly one line on stderr, no stack trace. */
function expectOneLineError(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  expect(r.code).not.toBe(0);
  expect(r.code).not.toBeNull();
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(lines).toHaveLength(1);
}

describe('klaxon kl / js', () => {
  const fair = (est: number, se: number, ref: number, refSe: number): void => {
    expect(Math.abs(est - ref)).toBeLessThanOrEqual(4 * Math.hypot(se, refSe) + 1e-6 * Math.max(1, Math.abs(ref)));
  };

  it.each(['1d-large-shift', '2d-full-shift', '8d-full'])('prints the %s KL as JSON, matching the reference', (name) => {
    const c = pairs.find((x) => x.name === name)!;
    const r = klaxon(['kl', '--p', model(`${name}-p.json`, c.p), '--q', model(`${name}-q.json`, c.q), '--json', '--seed', '3']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(out).sort()).toEqual(['kl', 'method', 'ms_median', 'samples', 'stderr']);
    fair(out.kl as number, out.stderr as number, c.kl, c.kl_stderr);
  });

  it('prints JS as JSON and times --repeat runs', () => {
    const c = pairs.find((x) => x.name === '4d-full')!;
    const r = klaxon(['js', '--p', model('js-p.json', c.p), '--q', model('js-q.json', c.q), '--json', '--repeat', '5']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { js: number; stderr: number; ms_median: number };
    fair(out.js, out.stderr, c.js, c.js_stderr);
    expect(out.ms_median).toBeGreaterThan(0);
  });

  it('runs the seed baseline on request and reproduces it from the seed', () => {
    const c = pairs.find((x) => x.name === '2d-diag')!;
    const args = ['kl', '--p', model('mc-p.json', c.p), '--q', model('mc-q.json', c.q), '--method', 'monte-carlo', '--samples', '20000', '--seed', '11', '--json'];
    const a = JSON.parse(klaxon(args).stdout) as { kl: number; samples: number; method: string };
    const b = JSON.parse(klaxon(args).stdout) as { kl: number };
    expect(a.method).toBe('monte-carlo');
    expect(a.samples).toBe(20000);
    expect(a.kl).toBe(b.kl);
  });

  it('prints a readable line without --json', () => {
    const c = pairs.find((x) => x.name === '1d-small-shift')!;
    const r = klaxon(['kl', '--p', model('h-p.json', c.p), '--q', model('h-q.json', c.q)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^KL\(p‖q\) = [0-9.e-]+ ± [0-9.e-]+ nats \(/);
  });
});

describe('klaxon fit', () => {
  it('fits CSV data, writes a model that loads, and reports convergence', () => {
    const rows = ['x,y'];
    for (let i = 0; i < 600; i++) {
      const a = Math.sin(i * 12.9898) * 43758.5453;
      const u = a - Math.floor(a);
      const b = Math.sin(i * 78.233) * 12345.678;
      const v = b - Math.floor(b);
      rows.push(i % 2 ? `${u},${v}` : `${5 + u},${-5 + v}`);
    }
    const data = file('two-blobs.csv', rows.join('\n'));
    const out = join(dir, 'fitted.json');
    const r = klaxon(['fit', '--data', data, '--components', '2', '--covariance-type', 'diag', '--out', out, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(summary).sort()).toEqual(['converged', 'iterations', 'mean_loglik', 'ms_median']);
    expect(summary.converged).toBe(true);
    const g = gmmFromJson(JSON.parse(readFileSync(out, 'utf8')));
    expect(g.k).toBe(2);
    expect(g.covarianceType).toBe('diag');
    const xs = [g.means[0]!, g.means[2]!].sort((a, b) => a - b);
    expect(xs[0]).toBeCloseTo(0.5, 0);
    expect(xs[1]).toBeCloseTo(5.5, 0);
  });

  it('reads a CSV without a header (a first line of numbers) as data, every row of it', () => {
    const rows = Array.from({ length: 40 }, (_, i) => `${i % 5},${(i * 7) % 13}`);
    const bareFile = file('bare.csv', rows.join('\n'));
    expect(klaxon(['fit', '--data', bareFile, '--components', '1']).stdout).toMatch(/ to 40×2:/);
    const bare = klaxon(['fit', '--data', bareFile, '--components', '1', '--json']);
    const headed = klaxon(['fit', '--data', file('headed.csv', ['a,b', ...rows].join('\n')), '--components', '1', '--json']);
    expect((JSON.parse(bare.stdout) as { mean_loglik: number }).mean_loglik).toBe((JSON.parse(headed.stdout) as { mean_loglik: number }).mean_loglik);
    // One number a line: one column, all four of them (the mean of 1..4, not of 2..4).
    const out = join(dir, 'scalars.json');
    expect(klaxon(['fit', '--data', file('scalars.jsonl', '1\n2\n3\n4\n'), '--components', '1', '--out', out]).code).toBe(0);
    expect(gmmFromJson(JSON.parse(readFileSync(out, 'utf8'))).means[0]).toBe(2.5);
  });

  it('reads JSON lines of objects and of arrays alike', () => {
    const objs = Array.from({ length: 50 }, (_, i) => JSON.stringify({ a: i % 7, b: (i * 3) % 11 })).join('\n');
    const arrs = Array.from({ length: 50 }, (_, i) => JSON.stringify([i % 7, (i * 3) % 11])).join('\n');
    const a = klaxon(['fit', '--data', file('o.jsonl', objs), '--components', '1', '--json']);
    const b = klaxon(['fit', '--data', file('a.jsonl', arrs), '--components', '1', '--json']);
    expect(a.code).toBe(0);
    expect((JSON.parse(a.stdout) as { mean_loglik: number }).mean_loglik).toBe(
      (JSON.parse(b.stdout) as { mean_loglik: number }).mean_loglik,
    );
  });
});

describe('bad input: one line on stderr, non-zero exit', () => {
  const c = pairs.find((x) => x.name === '2d-diag')!;
  const d4 = pairs.find((x) => x.name === '4d-full')!;
  it('missing file', () => {
    expectOneLineError(klaxon(['kl', '--p', join(dir, 'nope.json'), '--q', join(dir, 'nope.json')]), /nope\.json: no such file/);
  });
  it('malformed JSON', () => {
    expectOneLineError(klaxon(['kl', '--p', file('bad.json', '{"weights": [1,'), '--q', model('ok.json', c.q)]), /bad\.json: not valid JSON/);
  });
  it('invalid model', () => {
    const bad = { ...c.p, weights: [0.5, 0.2, 0.1] };
    expectOneLineError(klaxon(['kl', '--p', model('w.json', bad), '--q', model('ok.json', c.q)]), /w\.json: invalid model: weights must sum to 1/);
  });
  it('dimension mismatch between p and q', () => {
    expectOneLineError(klaxon(['js', '--p', model('p2.json', c.p), '--q', model('q4.json', d4.q)]), /dimension mismatch: p has d=2, q has d=4/);
  });
  it('non-numeric cells in CSV', () => {
    expectOneLineError(klaxon(['fit', '--data', file('nn.csv', 'x,y\n1,2\n3,abc\n'), '--components', '1']), /nn\.csv:3: column "y" is not a finite number/);
  });
  it('malformed CSV row', () => {
    expectOneLineError(klaxon(['fit', '--data', file('short.csv', 'x,y\n1,2\n3\n'), '--components', '1']), /short\.csv:3: expected 2 cells, got 1/);
  });
  it('a negative sample count', () => {
    expectOneLineError(klaxon(['kl', '--p', model('ok.json', c.q), '--q', model('ok.json', c.q), '--samples', '-5']), /--samples must be a positive integer/);
  });
  it('monte-carlo with one sample, which has no standard error', () => {
    expectOneLineError(
      klaxon(['js', '--p', model('ok.json', c.q), '--q', model('ok.json', c.q), '--method', 'monte-carlo', '--samples', '1']),
      /monte-carlo needs at least 2 samples for a standard error, got 1/,
    );
  });
  it('an unknown method', () => {
    expectOneLineError(klaxon(['kl', '--p', model('ok.json', c.q), '--q', model('ok.json', c.q), '--method', 'magic']), /--method must be one of/);
  });
  it('an unknown command', () => {
    expectOneLineError(klaxon(['frobnicate']), /klaxon: unknown command 'frobnicate'/);
  });
  it('a missing required flag', () => {
    expectOneLineError(klaxon(['fit', '--components', '2']), /klaxon: required option '--data <file>' not specified/);
  });
});

describe('npx klaxon', () => {
  it('works from the repo root after npm install', () => {
    const r = spawnSync('npx', ['--no-install', 'klaxon', '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: klaxon/);
    expect(r.stdout).toMatch(/\bkl\b/);
    expect(r.stdout).toMatch(/\bfit\b/);
  });

  it('prints the package version', () => {
    const r = klaxon(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  });
});

import { describe, expect, it } from 'vitest';
import { klaxon } from '../support/cli.js';

describe('klaxon evaluate', () => {
  it('prints the table as JSON on a small run, with periodic progress lines when stderr is no terminal', () => {
    const r = klaxon(['evaluate', '--dims', '1', '--window', '200', '--replicates', '20', '--null-evaluations', '40', '--runs', '2', '--json']);
    expect(r.stderr).toMatch(/^evaluate: \d+%/m);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { dims: { d: number; falseAlarms: { evaluations: number }; drifts: unknown[] }[] };
    expect(out.dims).toHaveLength(1);
    expect(out.dims[0]!.falseAlarms.evaluations).toBe(40);
    expect(out.dims[0]!.drifts).toHaveLength(7);
  }, 120_000);

  it('runs with a window shorter than the default 100-record slide: its steps scale with the window', () => {
    const r = klaxon(['evaluate', '--dims', '1', '--window', '50', '--replicates', '10', '--null-evaluations', '20', '--runs', '1', '--json']);
    expect(r.stderr).not.toMatch(/out of bounds/);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { settings: { overlapStep: number; step: number } };
    expect(out.settings).toMatchObject({ overlapStep: 10, step: 5 });
  }, 120_000);

  it('refuses a bad flag in one line', () => {
    const r = klaxon(['evaluate', '--dims', '0,x']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--dims/);
  });
});

import { describe, expect, it } from 'vitest';
import { js, kl } from '../../src/divergence/index.js';
import { agreementBound, fixturePairs, stderrBound } from './support.js';

/**
 * The acceptance checks on the shared reference pairs: the default method within 4 combined
 * standard errors of the reference, with a standard error of at most 1% (or 1e-3 nats).
 */
const pairs = fixturePairs();

describe.each(pairs)('$name (d=$dimension)', (c) => {
  it('KL(p‖q) by the default method agrees with the reference, to the accuracy target', () => {
    const r = kl(c.p, c.q, { seed: 1 });
    expect(Number.isFinite(r.value)).toBe(true);
    expect(Math.abs(r.value - c.kl)).toBeLessThanOrEqual(agreementBound(r.stderr, c.klStderr, c.kl));
    expect(r.stderr).toBeLessThanOrEqual(stderrBound(c.kl));
  });

  it('JS(p, q) by the default method agrees with the reference, to the accuracy target', () => {
    const r = js(c.p, c.q, { seed: 1 });
    expect(r.value).toBeGreaterThanOrEqual(0);
    expect(r.value).toBeLessThanOrEqual(Math.LN2);
    expect(Math.abs(r.value - c.js)).toBeLessThanOrEqual(agreementBound(r.stderr, c.jsStderr, c.js));
    expect(r.stderr).toBeLessThanOrEqual(stderrBound(c.js));
  });

  it('the seed’s plain Monte Carlo (10^5 draws) agrees with the reference within 4 standard errors', () => {
    const a = kl(c.p, c.q, { method: 'monte-carlo', seed: 2 });
    const b = js(c.p, c.q, { method: 'monte-carlo', seed: 2 });
    expect(a.samples).toBe(100_000);
    expect(Math.abs(a.value - c.kl)).toBeLessThanOrEqual(agreementBound(a.stderr, c.klStderr, c.kl));
    expect(Math.abs(b.value - c.js)).toBeLessThanOrEqual(agreementBound(b.stderr, c.jsStderr, c.js));
  });
});

describe('1-D pairs', () => {
  const line = pairs.filter((c) => c.dimension === 1);

  it('the fixtures have 1-D quadrature references', () => {
    expect(line.length).toBeGreaterThan(0);
    for (const c of line) expect(c.klMethod).toBe('quadrature');
  });

  it.each(line)('$name: quadrature matches the reference to 1e-6 (the default picks it)', (c) => {
    const a = kl(c.p, c.q);
    const b = js(c.p, c.q);
    expect(a.method).toBe('quadrature');
    expect(b.method).toBe('quadrature');
    expect(Math.abs(a.value - c.kl)).toBeLessThanOrEqual(1e-6 * Math.max(1, c.kl));
    expect(Math.abs(b.value - c.js)).toBeLessThanOrEqual(1e-6);
    expect(a.stderr).toBeLessThan(1e-6);
  });
});

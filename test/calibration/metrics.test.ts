import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/metrics.js';
import { FakeView, oneDimStream } from '../server/fake-view.js';

describe('calibration metrics', () => {
  it('exports p-values, null quantiles, and calibrated thresholds in nats', async () => {
    const s = oneDimStream('a');
    s.calibration = {
      status: 'ready',
      replicates: 200,
      windowSamples: 500,
      pValues: { js: 0.004975, kl_ref_win: 0.5 },
      quantiles: { js: { '0.5': 0.001, '0.95': 0.002, '0.99': 0.003 } },
      thresholds: { js: { warning: { nats: 0.0042, level: 1e-4 } } },
    };
    const registry = new Registry();
    createMetrics(registry, new FakeView([s]));
    const text = await registry.metrics();
    expect(text).toContain('klaxon_drift_pvalue{stream="a",measure="js"} 0.004975');
    expect(text).toContain('klaxon_drift_pvalue{stream="a",measure="kl_ref_win"} 0.5');
    expect(text).not.toContain('klaxon_drift_pvalue{stream="a",measure="kl_win_ref"}');
    expect(text).toContain('klaxon_divergence_null_quantile_nats{stream="a",measure="js",level="0.99"} 0.003');
    expect(text).toContain('klaxon_divergence_threshold_nats{stream="a",measure="js",severity="warning"} 0.0042');
  });

  it('exports none of them for a view without calibration', async () => {
    const registry = new Registry();
    createMetrics(registry, new FakeView([oneDimStream('a')]));
    const text = await registry.metrics();
    expect(text).not.toMatch(/klaxon_drift_pvalue\{/);
    expect(text).not.toMatch(/klaxon_divergence_null_quantile_nats\{/);
  });
});

describe('/api/streams JSON', () => {
  it('carries the calibration and what moved when the view has them, non-finite numbers as null', async () => {
    const { streamJson } = await import('../../src/server/api.js');
    const s = oneDimStream('a');
    expect(Object.keys(streamJson(s))).not.toContain('calibration');
    s.calibration = { status: 'ready', replicates: 200, windowSamples: 500, pValues: { js: 0.01 }, quantiles: {}, thresholds: {} };
    s.whatMoved = [{ kind: 'mass_gained', window: 2, weightReference: 0, weightWindow: 0.1, contributionNats: Number.POSITIVE_INFINITY, klRefWin: 0, klWinRef: Number.POSITIVE_INFINITY }];
    const j = streamJson(s);
    expect(j.calibration?.pValues.js).toBe(0.01);
    expect(j.whatMoved?.[0]).toMatchObject({ kind: 'mass_gained', contributionNats: null });
  });
});

import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { startHttpServer } from '../../src/server/http.js';
import { FakeView, oneDimStream } from '../server/fake-view.js';

const CHROMIUM = '/usr/bin/chromium';

describe('status page: what moved', () => {
  it('lists the largest moves and the p-value', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run scripts/install-chromium.sh first`);
    const s = oneDimStream('a');
    s.calibration = { status: 'ready', replicates: 200, windowSamples: 500, pValues: { kl_ref_win: 0.004975, kl_win_ref: 0.01, js: 0.004975 }, quantiles: {}, thresholds: {} };
    s.whatMoved = [
      { kind: 'mass_gained', window: 2, weightReference: 0, weightWindow: 0.1, contributionNats: 0.21, klRefWin: 0, klWinRef: 0.21 },
      { kind: 'shifted', reference: 0, window: 0, weightReference: 0.6, weightWindow: 0.55, meanShiftSd: 0.8, contributionNats: 0.05, klRefWin: 0.03, klWinRef: 0.02 },
      { kind: 'unchanged', reference: 1, window: 1, weightReference: 0.4, weightWindow: 0.35, meanShiftSd: 0, contributionNats: 0, klRefWin: 0, klWinRef: 0 },
    ];
    const server = await startHttpServer({ view: new FakeView([s]), registry: new Registry(), host: '127.0.0.1', port: 0, logger: { info: () => {}, error: () => {} } });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${server.port}/`);
      await page.waitForSelector('[data-move]');
      const moves = await page.$$eval('[data-move]', (els) => els.map((e) => [e.getAttribute('data-move'), e.textContent]));
      expect(moves.map((m) => m[0])).toEqual(['mass_gained', 'shifted']);
      expect(moves[0]![1]).toContain('new mass: window component 3 (10%)');
      expect(moves[1]![1]).toContain('moved 0.8 sd');
      expect(await page.textContent('[data-meta="pvalue"]')).toMatch(/^p 0\.00/);
    } finally {
      await browser.close();
      await server.close();
    }
  }, 60_000);
});

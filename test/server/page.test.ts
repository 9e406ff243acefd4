import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpServer } from '../../src/server/http.js';
import { FakeView, history, oneDimStream, twoDimStream, warmingStream } from './fake-view.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = '/tmp';

const quietLogger = { info: (): void => {}, error: (): void => {} };

let server: HttpServer;
let browser: Browser;
let view: FakeView;
let base: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: run scripts/install-chromium.sh (Debian's chromium package) first`);
  }
  view = new FakeView([oneDimStream('latency_ms'), twoDimStream('user_profile'), warmingStream('cart_size')]);
  server = await startHttpServer({ view, registry: new Registry(), host: '127.0.0.1', port: 0, logger: quietLogger });
  base = `http://127.0.0.1:${server.port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

interface Problems {
  errors: string[];
}

/** Opens the page and records every console error, page error and failed or off-origin request. */
async function open(colorScheme: 'light' | 'dark'): Promise<{ page: Page; problems: Problems }> {
  const page = await browser.newPage({ viewport: { width: 1360, height: 1000 }, colorScheme });
  const problems: Problems = { errors: [] };
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.errors.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.errors.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.errors.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('request', (r) => {
    if (!r.url().startsWith(base)) problems.errors.push(`off-origin request: ${r.url()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.errors.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  await page.goto(`${base}/`);
  await page.waitForSelector('[data-stream="user_profile"] svg[data-chart="history"]');
  return { page, problems };
}

/** Path data → number of drawn vertices, and the spread of their y values. */
async function pathStats(page: Page, selector: string): Promise<{ count: number; vertices: number[]; ySpread: number[] }> {
  return page.$$eval(selector, (paths) => {
    const stats = paths.map((p) => {
      const d = p.getAttribute('d') ?? '';
      const ys = [...d.matchAll(/[ML](-?[\d.]+),(-?[\d.]+)/g)].map((m) => Number(m[2]));
      return { vertices: ys.length, spread: ys.length ? Math.max(...ys) - Math.min(...ys) : 0 };
    });
    return { count: paths.length, vertices: stats.map((s) => s.vertices), ySpread: stats.map((s) => s.spread) };
  });
}

describe('status page in Chromium', () => {
  it('draws a card per stream with densities, tiles and history, without errors', async () => {
    const { page, problems } = await open('light');

    const cards = await page.$$eval('[data-stream]', (els) =>
      els.map((e) => ({ name: e.getAttribute('data-stream'), state: e.getAttribute('data-state') })),
    );
    expect(cards).toEqual([
      { name: 'latency_ms', state: 'warning' },
      { name: 'user_profile', state: 'ok' },
      { name: 'cart_size', state: 'collecting' },
    ]);

    // 1-D: one density chart, reference and window curves, each a real curve.
    for (const series of ['reference', 'window']) {
      const s = await pathStats(page, `[data-stream="latency_ms"] svg[data-chart="density"] path[data-series="${series}"]`);
      expect(s.count, series).toBe(1);
      expect(s.vertices[0], series).toBeGreaterThan(100);
      expect(s.ySpread[0], series).toBeGreaterThan(50);
    }
    // 2-D: one marginal per dimension, both curves on each.
    expect(await page.locator('[data-stream="user_profile"] svg[data-chart="density"]').count()).toBe(2);
    for (const series of ['reference', 'window']) {
      const s = await pathStats(page, `[data-stream="user_profile"] svg[data-chart="density"] path[data-series="${series}"]`);
      expect(s.count, series).toBe(2);
      for (const v of s.vertices) expect(v).toBeGreaterThan(100);
      for (const y of s.ySpread) expect(y).toBeGreaterThan(40);
    }
    expect(await page.locator('[data-stream="user_profile"] .marginal .dim').allTextContents()).toEqual([
      'age',
      'basket_value',
    ]);

    // History: the value line over every evaluation, its error band, both thresholds.
    for (const name of ['latency_ms', 'user_profile']) {
      const line = await pathStats(page, `[data-stream="${name}"] svg[data-chart="history"] path[data-series="value"]`);
      expect(line.count).toBe(1);
      expect(line.vertices[0]).toBe(60);
      expect(line.ySpread[0]).toBeGreaterThan(5);
      const thresholds = await page
        .locator(`[data-stream="${name}"] svg[data-chart="history"] [data-threshold]`)
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-threshold')));
      expect(thresholds).toEqual(['warning', 'critical']);
      expect(await page.locator(`[data-stream="${name}"] path[data-series="stderr"]`).count()).toBe(1);
    }

    // Tiles: latest value ± stderr of each measure.
    const tiles = await page.locator('[data-stream="latency_ms"] .tile').evaluateAll((els) =>
      els.map((e) => ({ m: e.getAttribute('data-measure'), level: e.getAttribute('data-level'), text: e.textContent })),
    );
    expect(tiles.map((t) => t.m)).toEqual(['kl_ref_win', 'kl_win_ref', 'js']);
    expect(tiles[2]).toMatchObject({ level: 'warning' });
    const js = view.stream('latency_ms')!.lastEvaluation!.divergences.js;
    expect(tiles[2]?.text).toContain(`${Number(js.value.toPrecision(3))}± ${Number(js.stderr.toPrecision(2))}`);

    // The warming stream has no charts of numbers it does not have.
    expect(await page.locator('[data-stream="cart_size"] svg').count()).toBe(0);
    expect(await page.locator('[data-stream="cart_size"] .waiting').textContent()).toContain('812');

    expect(await page.locator('#summary').textContent()).toMatch(/3 streams.*0 critical.*1 warning.*1 without drift.*1 warming up/);

    await page.screenshot({ path: `${SHOTS}/klaxon-status-light.png`, fullPage: true });
    expect(problems.errors).toEqual([]);
    await page.close();
  });

  it('renders in dark mode and switches the history measure on click', async () => {
    const { page, problems } = await open('dark');
    const bg = await page.$eval('body', (b) => b.ownerDocument.defaultView!.getComputedStyle(b).backgroundColor);
    expect(bg).not.toBe('rgb(245, 246, 248)');
    await page.click('[data-stream="latency_ms"] .tile[data-measure="kl_ref_win"]');
    await page.waitForSelector('[data-stream="latency_ms"] svg[data-chart="history"][data-measure="kl_ref_win"]');
    expect(await page.locator('[data-stream="latency_ms"] .tile[aria-pressed="true"]').getAttribute('data-measure')).toBe(
      'kl_ref_win',
    );
    await page.screenshot({ path: `${SHOTS}/klaxon-status-dark.png`, fullPage: true });
    expect(problems.errors).toEqual([]);
    await page.close();
  });

  it('says under a card which thresholds the no-drift null says would alert without drift', async () => {
    const s = view.stream('user_profile')!;
    s.thresholdProblems = [
      { measure: 'kl_ref_win', severity: 'warning', nats: 0.2, noDriftShare: 0.7 },
      { measure: 'js', severity: 'critical', nats: 0.1, warningNats: 0.138 },
    ];
    try {
      const { page, problems } = await open('light');
      const note = page.locator('[data-stream="user_profile"] [data-meta="threshold-problems"]');
      expect(await note.textContent()).toBe('\u26a0 KL(ref\u2016win) warning 0.2 nats: 70% of no-drift windows reach it \u00b7 JS: warning 0.138 above critical 0.1 nats');
      expect(await page.locator('[data-stream="latency_ms"] [data-meta="threshold-problems"]').count()).toBe(0);
      expect(problems.errors).toEqual([]);
      await page.close();
    } finally {
      delete s.thresholdProblems;
    }
  });

  it('updates live from /api/streams', async () => {
    const { page, problems } = await open('light');
    const s = view.stream('user_profile')!;
    s.alert = { warning: true, critical: true };
    s.history = history(61, 0.004, 0.2);
    s.lastEvaluation = s.history.at(-1);
    await page.waitForSelector('[data-stream="user_profile"][data-state="critical"]', { timeout: 15_000 });
    expect(await page.locator('[data-stream="user_profile"] [data-badge]').textContent()).toMatch(/critical/);
    expect((await pathStats(page, '[data-stream="user_profile"] path[data-series="value"]')).vertices[0]).toBe(61);
    expect(await page.title()).toMatch(/1 critical/);
    expect(problems.errors).toEqual([]);
    await page.close();
  });
});

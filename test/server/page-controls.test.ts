import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/resolve.js';

const CHROMIUM = '/usr/bin/chromium';

/** The browser's sessionStorage, typed here: this project compiles without the DOM library. */
interface Session {
  sessionStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void };
}
const TOKEN = 'page-test-token-0123456789';

let app: App;
let browser: Browser;
let base: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: run scripts/install-chromium.sh (Debian's chromium package) first`);
  }
  const config = parseConfig({
    source: { type: 'demo', seed: 'page-controls', rate: 3000, driftAfterSeconds: 3600 },
    http: { host: '127.0.0.1', port: 0 },
    log: { level: 'silent' },
    stateDir: mkdtempSync(path.join(tmpdir(), 'klaxon-page-op-')),
    defaults: { window: { size: 600 }, evaluationIntervalSeconds: 0.25, fit: { nInit: 1 } },
    streams: [
      { name: 'payment_amount', topic: 'demo.payments', fields: ['amount'] },
      { name: 'sensor_xy', topic: 'demo.sensors', fields: ['x', 'y'] },
    ],
  });
  app = await startApp({ config, registry: new Registry(), logger: pino({ level: 'silent' }), env: { KLAXON_API_TOKEN: TOKEN } });
  base = `http://127.0.0.1:${app.httpPort}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

/** Opens the page in a fresh context (empty sessionStorage) and records page errors and CSP reports. */
async function open(): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 1000 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // A refused action logs its 4xx as a failed resource load; that one is expected below.
    if ((m.type() === 'error' || m.type() === 'warning') && !/status of 40[13]/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(base)) errors.push(`off-origin request: ${r.url()}`);
  });
  await page.goto(`${base}/`);
  await page.waitForSelector('[data-stream="payment_amount"] .tiles', { timeout: 20_000 });
  return { page, errors };
}

const card = (name: string): string => `[data-stream="${name}"]`;
const stream = (name: string) => app.monitor.stream(name)!;
const dialogOpen = (page: Page): Promise<boolean> => page.$eval('#op-dialog', (d) => (d as unknown as { open: boolean }).open);

describe('operator buttons on the status page', () => {
  it('mute asks for the token once, keeps it in sessionStorage, and the state changes; unmute then needs no prompt', async () => {
    const { page, errors } = await open();
    expect(await page.evaluate(() => (globalThis as unknown as Session).sessionStorage.getItem('klaxon.apiToken'))).toBeNull();

    await page.click(`${card('payment_amount')} button[data-action="mute"]`);
    await page.waitForSelector('#op-dialog[open]');
    expect(await page.isVisible('#op-token')).toBe(true);
    expect(await page.getAttribute('#op-token', 'type')).toBe('password');
    expect(await page.textContent('#op-title')).toBe('Mute payment_amount for one hour');
    // Confirming without a token does nothing.
    await page.click('#op-confirm');
    expect(await dialogOpen(page)).toBe(true);
    await page.fill('#op-token', TOKEN);
    await page.click('#op-confirm');

    await page.waitForSelector(`${card('payment_amount')}[data-muted="true"][data-state="muted"] [data-badge="muted"]`);
    expect(stream('payment_amount').muted).toBe(true);
    expect(stream('payment_amount').mutedUntilMs! - Date.now()).toBeGreaterThan(55 * 60_000);
    expect(await page.textContent(`${card('payment_amount')} [data-badge="muted"]`)).toMatch(/^muted until (\d{4}-\d\d-\d\d )?\d\d:\d\d$/);
    expect(await page.textContent(`${card('payment_amount')} .notice`)).toBe('muted for one hour');
    expect(await page.evaluate(() => (globalThis as unknown as Session).sessionStorage.getItem('klaxon.apiToken'))).toBe(TOKEN);
    expect(await page.textContent('#summary')).toContain('1 muted');
    expect(await dialogOpen(page)).toBe(false);

    await page.click(`${card('payment_amount')} button[data-action="unmute"]`);
    await page.waitForSelector(`${card('payment_amount')}[data-muted="false"] button[data-action="mute"]`);
    expect(await dialogOpen(page)).toBe(false);
    expect(stream('payment_amount').muted).toBe(false);
    expect(errors).toEqual([]);
  }, 60_000);

  it('re-baseline asks to confirm (not for the token again) and sets a new reference; cancel changes nothing', async () => {
    const { page, errors } = await open();
    await page.evaluate((t) => (globalThis as unknown as Session).sessionStorage.setItem('klaxon.apiToken', t), TOKEN);
    const before = stream('sensor_xy').referenceTimestampMs!;

    await page.click(`${card('sensor_xy')} button[data-action="rebaseline"]`);
    await page.waitForSelector('#op-dialog[open]');
    expect(await page.isVisible('#op-token')).toBe(false);
    await page.click('#op-cancel');
    expect(await dialogOpen(page)).toBe(false);
    await page.waitForTimeout(300);
    expect(stream('sensor_xy').referenceTimestampMs).toBe(before);

    await page.click(`${card('sensor_xy')} button[data-action="rebaseline"]`);
    await page.waitForSelector('#op-dialog[open]');
    expect(await page.textContent('#op-title')).toBe('Re-baseline sensor_xy?');
    await page.click('#op-confirm');
    await page.waitForSelector(`${card('sensor_xy')} .notice[data-level="ok"]`);
    expect(await page.textContent(`${card('sensor_xy')} .notice`)).toBe('re-baselined: the current window is the new reference');
    expect(stream('sensor_xy').referenceTimestampMs!).toBeGreaterThan(before);
    await page.waitForSelector(`${card('sensor_xy')} [data-meta="reference-set"]`);
    expect(errors).toEqual([]);
  }, 60_000);

  it('a wrong token shows the refusal, changes nothing, and is forgotten so the next click asks again', async () => {
    const { page, errors } = await open();
    await page.evaluate(() => (globalThis as unknown as Session).sessionStorage.setItem('klaxon.apiToken', 'not-the-token'));
    await page.click(`${card('payment_amount')} button[data-action="mute"]`);
    await page.waitForSelector(`${card('payment_amount')} .notice[data-level="error"]`);
    expect(await page.textContent(`${card('payment_amount')} .notice`)).toBe('wrong API token');
    expect(stream('payment_amount').muted).toBe(false);
    expect(await page.evaluate(() => (globalThis as unknown as Session).sessionStorage.getItem('klaxon.apiToken'))).toBeNull();

    await page.click(`${card('payment_amount')} button[data-action="mute"]`);
    await page.waitForSelector('#op-dialog[open]');
    expect(await page.isVisible('#op-token')).toBe(true);
    await page.keyboard.press('Escape');
    expect(await dialogOpen(page)).toBe(false);
    expect(stream('payment_amount').muted).toBe(false);
    expect(errors).toEqual([]);
  }, 60_000);
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/resolve.js';
import type { GmmJson } from '../../src/gmm/json.js';
import { waitForValue } from '../support/wait.js';

const TOKEN = 'app-test-token-0123456789';
const env = { KLAXON_API_TOKEN: TOKEN };

/** The demo, sped up (as in app.test.ts), on its own state directory. */
function demoConfig(stateDir: string, driftAfterSeconds: number) {
  return parseConfig({
    source: { type: 'demo', seed: 'operator-test', rate: 3000, driftAfterSeconds },
    http: { host: '127.0.0.1', port: 0 },
    log: { level: 'silent' },
    stateDir,
    defaults: { window: { size: 600 }, evaluationIntervalSeconds: 0.25, hysteresis: { raiseAfter: 2, clearAfter: 2 }, fit: { nInit: 1 } },
    streams: [
      { name: 'payment_amount', topic: 'demo.payments', fields: ['amount'] },
      { name: 'sensor_xy', topic: 'demo.sensors', fields: ['x', 'y'] },
    ],
  });
}

const metric = (text: string, name: string, labels: string): string | undefined =>
  new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(text)?.[1];

describe('operator controls on a running klaxon', () => {
  const apps: App[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.stop();
  });

  async function start(stateDir: string, driftAfterSeconds: number): Promise<{ app: App; base: string }> {
    const app = await startApp({ config: demoConfig(stateDir, driftAfterSeconds), registry: new Registry(), logger: pino({ level: 'silent' }), env });
    apps.push(app);
    return { app, base: `http://127.0.0.1:${app.httpPort}` };
  }

  const post = (url: string, body?: unknown, method = 'POST'): Promise<Response> =>
    fetch(url, { method, headers: { authorization: `Bearer ${TOKEN}` }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

  it('keeps a re-baseline and a mute across a restart on the same state directory', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'klaxon-app-op-'));
    const first = await start(stateDir, 3600);
    await waitForValue(async () => (first.app.monitor.stream('sensor_xy')!.ready ? true : undefined), 15_000, 'sensor_xy ready');

    const r = await post(`${first.base}/api/streams/sensor_xy/rebaseline`);
    expect(r.status, await r.clone().text()).toBe(200);
    const { referenceTimestampMs } = (await r.json()) as { referenceTimestampMs: number };
    const m = await post(`${first.base}/api/streams/payment_amount/mute`, { minutes: 90 });
    expect(m.status).toBe(200);
    const { mutedUntilMs } = (await m.json()) as { mutedUntilMs: number };
    const reference = (await (await fetch(`${first.base}/api/streams/sensor_xy/reference`)).json()) as GmmJson;
    await first.app.stop();

    const second = await start(stateDir, 3600);
    const again = (await (await fetch(`${second.base}/api/streams/sensor_xy/reference`)).json()) as GmmJson;
    expect(again).toEqual(reference);
    const views = (await (await fetch(`${second.base}/api/streams`)).json()) as { name: string; referenceTimestampMs: number; muted: boolean; mutedUntilMs: number }[];
    expect(views.find((v) => v.name === 'sensor_xy')).toMatchObject({ referenceTimestampMs, muted: false });
    expect(views.find((v) => v.name === 'payment_amount')).toMatchObject({ muted: true, mutedUntilMs });
    const text = await (await fetch(`${second.base}/metrics`)).text();
    expect(metric(text, 'klaxon_stream_muted', 'stream="payment_amount"')).toBe('1');
    expect(metric(text, 'klaxon_reference_timestamp_seconds', 'stream="sensor_xy"')).toBe(String(referenceTimestampMs / 1000));
    // The restarted sensor_xy did not collect a reference: it was ready to evaluate at once.
    expect(second.app.monitor.stream('sensor_xy')!.phase).not.toBe('collecting_reference');
  }, 60_000);

  it('exports a muted drifting stream’s divergence with klaxon_drift_alert 0, and the alert rises after unmute', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'klaxon-app-op-'));
    const { base } = await start(stateDir, 2);
    const muted = await post(`${base}/api/streams/sensor_xy/mute`, { minutes: 60 });
    expect(muted.status).toBe(200);
    const scrape = async (): Promise<string> => (await fetch(`${base}/metrics`)).text();

    // sensor_xy drifts hard (critical) after 2 s; payment_amount, not muted, warns.
    const drifted = await waitForValue(
      async () => {
        const t = await scrape();
        const js = Number(metric(t, 'klaxon_divergence_nats', 'stream="sensor_xy",measure="js"'));
        const critical = Number(metric(t, 'klaxon_divergence_threshold_nats', 'stream="sensor_xy",measure="js",severity="critical"'));
        return js > critical && metric(t, 'klaxon_drift_alert', 'stream="payment_amount",severity="warning"') === '1' ? t : undefined;
      },
      25_000,
      'drift on both streams',
    );
    expect(metric(drifted, 'klaxon_stream_muted', 'stream="sensor_xy"')).toBe('1');
    expect(metric(drifted, 'klaxon_drift_alert', 'stream="sensor_xy",severity="critical"')).toBe('0');
    expect(metric(drifted, 'klaxon_drift_alert', 'stream="sensor_xy",severity="warning"')).toBe('0');
    expect(metric(drifted, 'klaxon_stream_muted', 'stream="payment_amount"')).toBe('0');

    const un = await post(`${base}/api/streams/sensor_xy/mute`, undefined, 'DELETE');
    expect(un.status).toBe(200);
    const after = await waitForValue(
      async () => {
        const t = await scrape();
        return metric(t, 'klaxon_drift_alert', 'stream="sensor_xy",severity="critical"') === '1' ? t : undefined;
      },
      10_000,
      'the critical alert after unmute',
    );
    expect(metric(after, 'klaxon_stream_muted', 'stream="sensor_xy"')).toBe('0');
  }, 60_000);
});

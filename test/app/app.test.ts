import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/resolve.js';
import { waitForValue } from '../support/wait.js';

/** The demo, sped up: drift at 2 s, 3,000 records/s per topic, small windows, evaluations 4× a second. */
const demoConfig = parseConfig({
  source: { type: 'demo', seed: 'app-test', rate: 3000, driftAfterSeconds: 2 },
  http: { host: '127.0.0.1', port: 0 },
  log: { level: 'silent' },
  defaults: { window: { size: 600 }, evaluationIntervalSeconds: 0.25, hysteresis: { raiseAfter: 2, clearAfter: 2 }, fit: { nInit: 1 } },
  streams: [
    { name: 'payment_amount', topic: 'demo.payments', fields: ['amount'] },
    { name: 'payment_latency', topic: 'demo.payments', fields: ['latency_ms'] },
    { name: 'sensor_xy', topic: 'demo.sensors', fields: ['x', 'y'] },
  ],
});

const alert = (text: string, stream: string, severity: string): string | undefined =>
  new RegExp(`^klaxon_drift_alert\\{stream="${stream}",severity="${severity}"\\} (\\d)$`, 'm').exec(text)?.[1];

describe('startApp on the demo source', () => {
  let app: App | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('raises the drift alert on the drifting streams and keeps the stable one quiet, on /metrics', async () => {
    const logs: { msg: string; stream?: string; severity?: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
    app = await startApp({ config: demoConfig, registry: new Registry(), logger });
    const base = `http://127.0.0.1:${app.httpPort}`;
    const scrape = async (): Promise<string> => (await fetch(`${base}/metrics`)).text();

    // Before the drift: every stream evaluated, none alerting.
    const calm = await waitForValue(
      async () => {
        const t = await scrape();
        return ['payment_amount', 'payment_latency', 'sensor_xy'].every((s) => alert(t, s, 'warning') !== undefined) ? t : undefined;
      },
      10_000,
      'all streams ready',
    );
    for (const s of ['payment_amount', 'payment_latency', 'sensor_xy']) expect(alert(calm, s, 'warning'), s).toBe('0');

    const drifted = await waitForValue(
      async () => {
        const t = await scrape();
        return alert(t, 'payment_amount', 'warning') === '1' && alert(t, 'sensor_xy', 'critical') === '1' ? t : undefined;
      },
      20_000,
      'drift alerts on payment_amount and sensor_xy',
    );
    expect(drifted).toMatch(/^klaxon_drift_alert\{stream="payment_amount",severity="warning"\} 1$/m);
    expect(alert(drifted, 'payment_latency', 'warning')).toBe('0');
    expect(alert(drifted, 'payment_latency', 'critical')).toBe('0');
    // A mean shift of 0.8 sd is a warning (KL ≈ 0.32), not critical (0.4).
    expect(alert(drifted, 'payment_amount', 'critical')).toBe('0');
    expect(app.monitor.rejects().reduce((a, r) => a + r.count, 0)).toBeGreaterThan(0); // the demo's malformed records
    expect(logs.some((l) => l.msg === 'drift alert raised' && l.stream === 'payment_amount' && l.severity === 'warning')).toBe(true);
    expect(app.monitor.isReady()).toBe(true);
    // The stable stream stayed quiet the whole time.
    expect(app.monitor.stream('payment_latency')!.history.length).toBeGreaterThan(5);
    expect(app.monitor.stream('payment_latency')!.alert).toEqual({ warning: false, critical: false });

    await app.stop();
    expect(app.monitor.isReady()).toBe(false);
    await expect(fetch(`${base}/metrics`)).rejects.toThrow();
    expect(logs.at(-1)!.msg).toBe('klaxon stopped');
  }, 40_000);

  it('stops the parts already started when startup fails', async () => {
    const config = parseConfig({
      http: { host: '127.0.0.1', port: 0 },
      streams: [{ name: 's', fields: ['x'], reference: { policy: 'file', path: '/nonexistent/model.json' } }],
    });
    await expect(startApp({ config, registry: new Registry(), logger: pino({ level: 'silent' }) })).rejects.toThrow(
      /stream s: cannot load reference model \/nonexistent\/model\.json/,
    );
  });
});

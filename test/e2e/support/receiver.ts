/**
 * The far end of Alertmanager's notifications: one loopback HTTP server standing in for every
 * integration the receivers use (Slack, PagerDuty, a generic webhook). It answers each the way
 * the real service does and keeps what it was sent.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Delivery {
  /** `slack`, `pagerduty` or `webhook`: the first path segment */
  integration: string;
  /** the Alertmanager receiver, the second path segment */
  receiver: string;
  body: unknown;
  receivedAt: number;
}

/** Alertmanager's generic webhook payload (version 4), the parts the tests read. */
export interface WebhookPayload {
  receiver: string;
  status: 'firing' | 'resolved';
  groupLabels: Record<string, string>;
  alerts: { status: 'firing' | 'resolved'; labels: Record<string, string>; annotations: Record<string, string> }[];
}

export interface NotificationReceiver {
  /** http://127.0.0.1:PORT */
  readonly base: string;
  /** The URL to give an integration of a receiver: `${base}/${integration}/${receiver}`. */
  url(integration: string, receiver: string): string;
  deliveries(): readonly Delivery[];
  /** The generic-webhook payloads, each with the receiver that sent it. */
  webhooks(): WebhookPayload[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<NotificationReceiver> {
  const deliveries: Delivery[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const [, integration = '', receiver = ''] = (req.url ?? '').split('/');
      let body: unknown;
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
      deliveries.push({ integration, receiver, body, receivedAt: Date.now() });
      // PagerDuty's Events API v2 answers 202 and a JSON status; Slack's webhooks 200 "ok".
      if (integration === 'pagerduty') {
        res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"success","message":"Event processed"}');
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    url: (integration, receiver) => `${base}/${integration}/${encodeURIComponent(receiver)}`,
    deliveries: () => deliveries,
    webhooks: () => deliveries.filter((d) => d.integration === 'webhook').map((d) => d.body as WebhookPayload),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

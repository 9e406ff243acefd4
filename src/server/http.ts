import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { MonitorView } from '../stream/view.js';
import { streamJson } from './api.js';
import { pageAsset } from './page/assets.js';

/** The slice of a pino logger the server uses; pino's `Logger` fits it. */
export interface HttpLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface HttpServerOptions {
  view: MonitorView;
  registry: Registry;
  /** Interface to bind, e.g. `0.0.0.0` or `127.0.0.1`. */
  host: string;
  /** 0 binds an ephemeral port; the bound one is returned. */
  port: number;
  logger: HttpLogger;
}

export interface HttpServer {
  port: number;
  close(): Promise<void>;
}

const API_STREAMS = '/api/streams';
/** Longer names than this are no stream of ours: 404 before decoding. */
const MAX_STREAM_NAME_CHARS = 512;
const ALLOW = 'GET, HEAD';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Reply {
  status: number;
  type: string;
  body: string | Buffer;
  headers?: Record<string, string>;
}

const text = (status: number, body: string): Reply => ({ status, type: 'text/plain; charset=utf-8', body: `${body}\n` });
const json = (value: unknown): Reply => ({
  status: 200,
  type: 'application/json; charset=utf-8',
  body: JSON.stringify(value),
});

/** The stream name in `/api/streams/{name}`, or a 404: one path segment, percent-decoded. */
function streamName(rest: string): string {
  if (rest.length === 0 || rest.length > MAX_STREAM_NAME_CHARS || rest.includes('/')) {
    throw new HttpError(404, 'not found');
  }
  try {
    return decodeURIComponent(rest);
  } catch {
    throw new HttpError(404, 'not found');
  }
}

async function route(view: MonitorView, registry: Registry, path: string, req: IncomingMessage): Promise<Reply> {
  switch (path) {
    case '/metrics':
      return { status: 200, type: registry.contentType, body: await registry.metrics() };
    case '/healthz':
      return text(200, 'ok');
    case '/readyz':
      return view.isReady() ? text(200, 'ready') : text(503, 'not ready: source not connected or streams not initialised');
    case API_STREAMS:
      return json(view.streams().map(streamJson));
  }
  if (path.startsWith(`${API_STREAMS}/`)) {
    const stream = view.stream(streamName(path.slice(API_STREAMS.length + 1)));
    if (!stream) throw new HttpError(404, 'no such stream');
    return json(streamJson(stream));
  }
  const asset = pageAsset(path);
  if (!asset) throw new HttpError(404, 'not found');
  if (req.headers['if-none-match'] === asset.etag) {
    return { status: 304, type: asset.type, body: '', headers: { etag: asset.etag, 'cache-control': 'no-cache' } };
  }
  return { status: 200, type: asset.type, body: asset.body, headers: { etag: asset.etag, ...asset.headers } };
}

function send(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
  res.writeHead(reply.status, {
    'content-type': reply.type,
    'content-length': String(body.length),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...reply.headers,
  });
  res.end(req.method === 'HEAD' || reply.status === 304 ? undefined : body);
}

/**
 * The monitor's HTTP face, on plain node:http: `/metrics`, `/healthz`, `/readyz`,
 * `/api/streams[/{name}]` and the status page at `/`. GET and HEAD only.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { view, registry, host, port, logger } = options;

  const server = createServer((req, res) => {
    const rawUrl = req.url ?? '/';
    // The raw path, not a normalised URL: `/api/streams/../metrics` must not become `/metrics`.
    const path = rawUrl.split('?', 1)[0] ?? '/';
    const handle = async (): Promise<Reply> => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return { ...text(405, 'method not allowed'), headers: { allow: ALLOW } };
      }
      return route(view, registry, path, req);
    };
    handle()
      .catch((err: unknown): Reply => {
        if (err instanceof HttpError) return text(err.status, err.message);
        logger.error({ err, method: req.method, url: rawUrl.slice(0, 200) }, 'http request failed');
        return text(500, 'internal server error');
      })
      .then(
        (reply) => send(req, res, reply),
        (err: unknown) => {
          logger.error({ err, method: req.method, url: rawUrl.slice(0, 200) }, 'http response failed');
          res.destroy();
        },
      );
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Malformed requests never reach the handler; answer them as node would, minus the noise.
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err }, 'http server error'));
  const bound = (server.address() as AddressInfo).port;
  logger.info({ host, port: bound }, 'http server listening');

  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets (Prometheus, browsers) would otherwise hold close() open.
        server.closeIdleConnections();
        setImmediate(() => server.closeAllConnections());
      }),
  };
}

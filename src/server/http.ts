import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { MonitorControl } from '../stream/control.js';
import type { MonitorView } from '../stream/view.js';
import { streamJson } from './api.js';
import { BearerAuth, DEFAULT_TOKEN_ENV } from './auth.js';
import { operatorRoute, type OperatorAction, type OperatorDeps } from './operator.js';
import { pageAsset } from './page/assets.js';
import { HttpError, json, text, type Reply } from './reply.js';

/** The slice of a pino logger the server uses; pino's `Logger` fits it. */
export interface HttpLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  warn?(obj: object, msg: string): void;
}

/** Certificate and private key files (PEM) to serve HTTPS instead of HTTP. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface HttpServerOptions {
  view: MonitorView;
  registry: Registry;
  /** Interface to bind, e.g. `0.0.0.0` or `127.0.0.1`. */
  host: string;
  /** 0 binds an ephemeral port; the bound one is returned. */
  port: number;
  logger: HttpLogger;
  /** What the mutating endpoints act on; without it they answer 403. */
  control?: MonitorControl;
  /** The bearer token the mutating endpoints require; without one they are switched off (403). */
  apiToken?: string;
  /** The environment variable the token is read from, for the messages that name it. */
  apiTokenEnv?: string;
  /** Serve HTTPS with this certificate and key. */
  tls?: TlsFiles;
}

export interface HttpServer {
  port: number;
  /** `https` when serving TLS. */
  protocol: 'http' | 'https';
  close(): Promise<void>;
}

const API_STREAMS = '/api/streams';
/** Longer names than this are no stream of ours: 404 before decoding. */
const MAX_STREAM_NAME_CHARS = 512;
const READ_ONLY = 'GET, HEAD';
/** Tokens shorter than this are guessable; klaxon warns but does not refuse them. */
const MIN_TOKEN_CHARS = 16;

/** `/api/streams/{name}/{sub}`: the methods each sub-resource takes, and the operator action per method. */
const STREAM_RESOURCES: Readonly<Record<string, { allow: string; actions: Partial<Record<string, OperatorAction>> }>> = {
  '': { allow: READ_ONLY, actions: {} },
  reference: { allow: READ_ONLY, actions: {} },
  rebaseline: { allow: 'POST', actions: { POST: 'rebaseline' } },
  mute: { allow: 'POST, DELETE', actions: { POST: 'mute', DELETE: 'unmute' } },
};

/** The stream name of `/api/streams/{name}`: one raw path segment, percent-decoded, or a 404. */
function streamName(segment: string): string {
  if (segment.length === 0 || segment.length > MAX_STREAM_NAME_CHARS) throw new HttpError(404, 'not found');
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(404, 'not found');
  }
}

const methodNotAllowed = (allow: string): HttpError => new HttpError(405, 'method not allowed', { allow });

async function streamRoute(rest: string, req: IncomingMessage, view: MonitorView, operator: OperatorDeps): Promise<Reply> {
  const segments = rest.split('/');
  if (segments.length > 2) throw new HttpError(404, 'not found');
  const [segment, sub = ''] = segments as [string, string?];
  const resource = STREAM_RESOURCES[sub];
  if (resource === undefined || (segments.length === 2 && sub === '')) {
    if (req.method === 'GET' || req.method === 'HEAD') throw new HttpError(404, 'not found');
    throw methodNotAllowed(READ_ONLY);
  }
  const method = req.method ?? '';
  if (!resource.allow.split(', ').includes(method)) throw methodNotAllowed(resource.allow);
  const action = resource.actions[method];
  if (action !== undefined) {
    // The name is checked after the token: without one, nobody learns which streams exist here.
    let name: string;
    try {
      name = streamName(segment);
    } catch {
      name = segment;
    }
    return operatorRoute(action, name, req, operator);
  }
  const stream = view.stream(streamName(segment));
  if (!stream) throw new HttpError(404, 'no such stream');
  if (sub === 'reference') {
    if (!stream.reference) throw new HttpError(404, 'the stream has no reference yet: it is still collecting the data for one');
    return json(stream.reference);
  }
  return json(streamJson(stream));
}

async function route(view: MonitorView, registry: Registry, path: string, req: IncomingMessage, operator: OperatorDeps): Promise<Reply> {
  if (path.startsWith(`${API_STREAMS}/`)) return streamRoute(path.slice(API_STREAMS.length + 1), req, view, operator);
  if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed(READ_ONLY);
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
    // A body still arriving was refused unread (no token, unknown stream, too large): close
    // rather than let node read the rest of it to keep the connection.
    ...(req.complete ? {} : { connection: 'close' }),
    ...reply.headers,
  });
  res.end(req.method === 'HEAD' || reply.status === 304 ? undefined : body);
}

function readTls(tls: TlsFiles): { cert: Buffer; key: Buffer } {
  const read = (what: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`http.tls.${what}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  };
  return { cert: read('certFile', tls.certFile), key: read('keyFile', tls.keyFile) };
}

function createServer(tls: TlsFiles | undefined, handler: RequestListener): Server {
  if (tls === undefined) return createHttpServer(handler);
  try {
    return createHttpsServer(readTls(tls), handler);
  } catch (err) {
    if ((err as Error).message.startsWith('http.tls.')) throw err;
    throw new Error(`http.tls: cannot use ${tls.certFile} and ${tls.keyFile}: ${(err as Error).message}`, { cause: err });
  }
}

const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || host.startsWith('127.');

/**
 * The monitor's HTTP face, on plain node:http (or node:https with `tls`): `/metrics`,
 * `/healthz`, `/readyz`, `GET /api/streams[/{name}[/reference]]` and the status page at `/`,
 * all open; and the operator controls, `POST /api/streams/{name}/rebaseline`, `POST` and
 * `DELETE /api/streams/{name}/mute`, behind a bearer token (see `operator.ts`).
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { view, registry, host, port, logger } = options;
  const auth = new BearerAuth(options.apiToken, options.apiTokenEnv ?? DEFAULT_TOKEN_ENV);
  const operator: OperatorDeps = { view, control: options.control, auth, logger };
  const warn = (obj: object, msg: string): void => (logger.warn ?? logger.error).call(logger, obj, msg);

  const server = createServer(options.tls, (req, res) => {
    const rawUrl = req.url ?? '/';
    // The raw path, not a normalised URL: `/api/streams/../metrics` must not become `/metrics`.
    const path = rawUrl.split('?', 1)[0] ?? '/';
    route(view, registry, path, req, operator)
      .catch((err: unknown): Reply => {
        if (err instanceof HttpError) return text(err.status, err.message, err.headers);
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
  const protocol = options.tls ? 'https' : 'http';
  logger.info({ host, port: bound, protocol, operatorControls: auth.enabled }, 'http server listening');
  if (!auth.enabled) {
    logger.info({ tokenEnv: auth.tokenEnv }, `operator controls switched off: no API token in ${auth.tokenEnv}`);
  } else {
    if ((options.apiToken ?? '').length < MIN_TOKEN_CHARS) {
      warn({ tokenEnv: auth.tokenEnv }, `the API token is shorter than ${MIN_TOKEN_CHARS} characters: use a long random one (openssl rand -hex 32)`);
    }
    if (!options.tls && !isLoopback(host)) {
      warn({ host }, 'operator controls over plain HTTP: the API token crosses the network in clear; set http.tls or serve klaxon behind a TLS proxy');
    }
  }

  return {
    port: bound,
    protocol,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets (Prometheus, browsers) would otherwise hold close() open.
        server.closeIdleConnections();
        setImmediate(() => server.closeAllConnections());
      }),
  };
}

import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { UsageError } from './errors.js';
import { readText } from './files.js';

/** A refusal or failure reported by the klaxon server, or no answer from it: one line, exit 1. */
export class RemoteError extends Error {
  override readonly name = 'RemoteError';
  readonly exitCode = 1;
}

export interface RemoteOptions {
  /** Base URL of the running klaxon, e.g. http://127.0.0.1:9464. */
  url: string;
  /** Bearer token for the mutating endpoints. */
  token?: string;
  /** PEM file of a CA (or a self-signed certificate) to trust for https. */
  caFile?: string;
  timeoutMs?: number;
}

export interface RemoteResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The base URL, checked: http or https, no query, no fragment. */
export function baseUrl(raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError(`--url must be a URL like http://127.0.0.1:9464, got "${raw}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`--url must be http:// or https://, got "${raw}"`);
  if (u.username || u.password) throw new UsageError('--url must not carry credentials: the token goes in KLAXON_API_TOKEN');
  return u;
}

/** `/api/streams/{name}/{sub}` under the base URL, the name percent-encoded as one path segment. */
export function streamUrl(base: URL, stream: string, sub: string): URL {
  const prefix = base.pathname.replace(/\/+$/, '');
  const u = new URL(base.href);
  u.pathname = `${prefix}/api/streams/${encodeURIComponent(stream)}/${sub}`;
  u.search = '';
  u.hash = '';
  return u;
}

/** One request; resolves with any HTTP answer, rejects (RemoteError) only when there is none. */
export function send(method: string, url: URL, options: RemoteOptions, body?: string): Promise<RemoteResponse> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  const ca = options.caFile === undefined ? undefined : readText(options.caFile);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, timeout: options.timeoutMs ?? 30_000, ...(ca ? { ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => reject(new RemoteError(`${url.origin}: ${err.message}`)));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${(options.timeoutMs ?? 30_000) / 1000} s`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ECONNREFUSED' ? 'connection refused (is klaxon running there?)' : (err.code ?? err.message);
      reject(new RemoteError(`cannot reach ${url.origin}: ${why}`));
    });
    req.end(body);
  });
}

/** The JSON of a 2xx answer; anything else becomes a one-line RemoteError with the server's reason. */
export function expectJson(res: RemoteResponse): unknown {
  if (res.status < 200 || res.status > 299) {
    const reason = res.body.trim().split('\n')[0]?.slice(0, 300) || 'no reason given';
    throw new RemoteError(`server answered ${res.status}: ${reason}`);
  }
  try {
    return JSON.parse(res.body) as unknown;
  } catch {
    throw new RemoteError(`server answered ${res.status} but not with JSON`);
  }
}

import { createHash } from 'node:crypto';
import { CLIENT_JS } from './client.js';
import { FAVICON_SVG, INDEX_HTML } from './html.js';
import { STYLE_CSS } from './style.js';

/**
 * The status page and the few files it loads, kept as strings in modules so a plain `tsc`
 * build ships them. Everything is same-origin: the page works offline and under a strict CSP.
 */
export interface PageAsset {
  type: string;
  body: Buffer;
  etag: string;
  headers: Record<string, string>;
}

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function asset(type: string, content: string, headers: Record<string, string> = {}): PageAsset {
  const body = Buffer.from(content);
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  // Revalidate every time: a cheap 304, and a new build is picked up at once.
  return { type, body, etag, headers: { 'cache-control': 'no-cache', ...headers } };
}

const ASSETS: ReadonlyMap<string, PageAsset> = new Map([
  ['/', asset('text/html; charset=utf-8', INDEX_HTML, { 'content-security-policy': CSP, 'referrer-policy': 'no-referrer' })],
  ['/assets/app.js', asset('text/javascript; charset=utf-8', CLIENT_JS)],
  ['/assets/app.css', asset('text/css; charset=utf-8', STYLE_CSS)],
  ['/favicon.svg', asset('image/svg+xml', FAVICON_SVG)],
]);

export function pageAsset(path: string): PageAsset | undefined {
  return ASSETS.get(path);
}

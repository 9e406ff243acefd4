import type { IncomingMessage } from 'node:http';
import { HttpError } from './reply.js';

/** Request bodies larger than this get 413: a model JSON of a few hundred components fits easily. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * An oversized body is read on (and dropped) up to this many bytes so that the client, still
 * sending, reads the 413 instead of a connection reset; past it the connection is cut.
 */
const DRAIN_BYTES = 8 * MAX_BODY_BYTES;

/** The request body, at most `limit` bytes, else a 413. */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const tooLarge = (): HttpError =>
    new HttpError(413, `request body too large: at most ${limit} bytes`, { connection: 'close' });
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > DRAIN_BYTES) {
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let total = 0;
    req.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total <= limit) chunks.push(chunk);
      else if (total > DRAIN_BYTES) {
        req.destroy();
        reject(tooLarge());
      }
    });
    req.on('end', () => (total > limit ? reject(tooLarge()) : resolve(Buffer.concat(chunks, total))));
    req.on('error', reject);
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The body as JSON; undefined for an empty body. Anything else unreadable is a 400 with a one-line reason. */
export function parseJsonBody(body: Buffer): unknown {
  let s: string;
  try {
    s = utf8.decode(body);
  } catch {
    throw new HttpError(400, 'request body is not UTF-8 text');
  }
  if (s.trim() === '') return undefined;
  try {
    return JSON.parse(s) as unknown;
  } catch (err) {
    throw new HttpError(400, `request body is not valid JSON: ${(err as Error).message.split('\n')[0]}`);
  }
}

import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError } from './reply.js';

/** The default environment variable holding the operator API token. */
export const DEFAULT_TOKEN_ENV = 'KLAXON_API_TOKEN';

/** Why a request to a mutating endpoint was refused, for the audit log. */
export type Denial = 'disabled' | 'unauthenticated' | 'forbidden';

export class AuthError extends HttpError {
  constructor(
    readonly denial: Denial,
    status: 401 | 403,
    message: string,
    headers: Record<string, string> = {},
  ) {
    super(status, message, headers);
  }
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Bearer-token check for the mutating endpoints. Without a token they are switched off: every
 * request gets 403 with a one-line reason naming the variable to set, so an operator who
 * forgot it finds out at once (a 404 would look like a wrong URL).
 *
 * Tokens are compared as SHA-256 digests with `timingSafeEqual`: equal lengths whatever the
 * token's, so neither its content nor its length leaks through the response time.
 */
export class BearerAuth {
  private readonly expected: Buffer | undefined;

  constructor(
    token: string | undefined,
    /** Where the token comes from, for the "switched off" message. */
    readonly tokenEnv: string = DEFAULT_TOKEN_ENV,
  ) {
    this.expected = token === undefined || token === '' ? undefined : digest(token);
  }

  get enabled(): boolean {
    return this.expected !== undefined;
  }

  /** Throws an AuthError (401 or 403) unless `authorization` carries the token. */
  check(authorization: string | undefined): void {
    if (this.expected === undefined) {
      throw new AuthError(
        'disabled',
        403,
        `operator controls are switched off: start klaxon with an API token in ${this.tokenEnv} to enable them`,
      );
    }
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
    if (!m) {
      throw new AuthError('unauthenticated', 401, 'missing API token: send the header "Authorization: Bearer <token>"', {
        'www-authenticate': 'Bearer realm="klaxon"',
      });
    }
    if (!timingSafeEqual(digest(m[1]!), this.expected)) throw new AuthError('forbidden', 403, 'wrong API token');
  }
}

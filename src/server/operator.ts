import type { IncomingMessage } from 'node:http';
import { gmmFromJson } from '../gmm/json.js';
import type { Gmm } from '../gmm/model.js';
import { ControlError, type MonitorControl, type MuteResult, type MuteUntil } from '../stream/control.js';
import type { MonitorView } from '../stream/view.js';
import { AuthError, type BearerAuth } from './auth.js';
import { parseJsonBody, readBody } from './body.js';
import { HttpError, json, type Reply } from './reply.js';

/**
 * The mutating endpoints (`POST /api/streams/{name}/rebaseline`, `POST` and `DELETE
 * /api/streams/{name}/mute`): bearer token first, then the stream, then the body, each
 * refusal a one-line reason. Every attempt, refused or not, leaves one audit log line.
 */

export type OperatorAction = 'rebaseline' | 'mute' | 'unmute';

/** The slice of a pino logger the audit trail uses. */
export interface AuditLogger {
  info(obj: object, msg: string): void;
}

export interface OperatorDeps {
  view: MonitorView;
  control: MonitorControl | undefined;
  auth: BearerAuth;
  logger: AuditLogger;
}

/** Audit lines hold at most this much of anything the client chose (stream name, forwarded-for). */
const MAX_LOGGED_CHARS = 200;

const CONTROL_STATUS: Record<ControlError['code'], number> = {
  not_found: 404,
  invalid: 400,
  conflict: 409,
  storage: 500,
};

const MUTE_BODY_HINT = 'expected {"until": ISO-8601 time with a zone, or unix seconds} or {"minutes": N}';

/** ISO 8601 date-time with an explicit zone: a time without one would depend on the server's. */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** Unix seconds above this are in the year 5138: the caller sent milliseconds. */
const MAX_PLAUSIBLE_SECONDS = 1e11;

function untilMs(v: unknown): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new HttpError(400, '"until" must be a finite number of unix seconds');
    if (v > MAX_PLAUSIBLE_SECONDS) throw new HttpError(400, '"until" looks like milliseconds: give unix seconds');
    return v * 1000;
  }
  if (typeof v === 'string') {
    if (/^\s*\d+(\.\d+)?\s*$/.test(v)) return untilMs(Number(v));
    const ms = ISO_WITH_ZONE.test(v.trim()) ? Date.parse(v.trim()) : NaN;
    if (!Number.isFinite(ms)) {
      throw new HttpError(400, `"until" must be an ISO-8601 time with a zone (e.g. 2026-01-31T18:00:00Z) or unix seconds, got ${JSON.stringify(v.slice(0, 64))}`);
    }
    return ms;
  }
  throw new HttpError(400, `"until" must be an ISO-8601 time or unix seconds; ${MUTE_BODY_HINT}`);
}

/** The end of a mute from `{"until": …}` or `{"minutes": N}`; the monitor checks it is ahead and not too far. */
export function parseMuteBody(body: unknown): MuteUntil {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, `missing or malformed body: ${MUTE_BODY_HINT}`);
  }
  const o = body as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => k !== 'until' && k !== 'minutes');
  if (unknown.length > 0) throw new HttpError(400, `unknown field ${JSON.stringify(unknown[0]!.slice(0, 64))}: ${MUTE_BODY_HINT}`);
  if (('until' in o) === ('minutes' in o)) throw new HttpError(400, `give exactly one of "until" and "minutes": ${MUTE_BODY_HINT}`);
  if ('minutes' in o) {
    const m = o.minutes;
    if (typeof m !== 'number' || !Number.isFinite(m) || m <= 0) throw new HttpError(400, '"minutes" must be a positive number');
    return { minutes: m };
  }
  return { untilMs: untilMs(o.until) };
}

/** The model of a re-baseline: undefined (no body) means "fit the current window". */
function parseModelBody(body: unknown): Gmm | undefined {
  if (body === undefined) return undefined;
  try {
    return gmmFromJson(body);
  } catch (err) {
    throw new HttpError(400, `invalid model JSON: ${(err as Error).message}`);
  }
}

const muteJson = (r: MuteResult): object => ({
  stream: r.stream,
  muted: r.muted,
  mutedUntil: r.mutedUntilMs === undefined ? null : new Date(r.mutedUntilMs).toISOString(),
  mutedUntilMs: r.mutedUntilMs ?? null,
});

async function perform(action: OperatorAction, name: string, req: IncomingMessage, deps: OperatorDeps): Promise<{ reply: Reply; detail: object }> {
  const { control, auth, view } = deps;
  auth.check(typeof req.headers.authorization === 'string' ? req.headers.authorization : undefined);
  if (control === undefined) throw new AuthError('disabled', 403, 'operator controls are not available on this server');
  // Unknown streams are refused before the body is read.
  if (view.stream(name) === undefined) throw new HttpError(404, 'no such stream');
  const body = parseJsonBody(await readBody(req));
  switch (action) {
    case 'rebaseline': {
      const model = parseModelBody(body);
      const r = await control.rebaseline(name, model);
      return {
        reply: json({ ...r, referenceTimestamp: new Date(r.referenceTimestampMs).toISOString() }),
        detail: { source: r.source, components: r.components, referenceSamples: r.referenceSamples },
      };
    }
    case 'mute': {
      const r = await control.mute(name, parseMuteBody(body));
      return { reply: json(muteJson(r)), detail: { mutedUntil: r.mutedUntilMs === undefined ? null : new Date(r.mutedUntilMs).toISOString() } };
    }
    case 'unmute': {
      if (body !== undefined) throw new HttpError(400, 'DELETE /mute takes no body');
      const r = await control.unmute(name);
      return { reply: json(muteJson(r)), detail: {} };
    }
  }
}

/**
 * Runs one operator action and writes its audit line: action, stream, when, from where,
 * outcome (applied, denied, rejected or failed), the HTTP status and the reason. Never the
 * token, nor any other header but the forwarded-for chain.
 */
export async function operatorRoute(action: OperatorAction, name: string, req: IncomingMessage, deps: OperatorDeps): Promise<Reply> {
  const forwarded = req.headers['x-forwarded-for'];
  const audit = {
    audit: true,
    action,
    stream: name.slice(0, MAX_LOGGED_CHARS),
    at: new Date().toISOString(),
    remoteAddress: req.socket.remoteAddress,
    ...(typeof forwarded === 'string' ? { forwardedFor: forwarded.slice(0, MAX_LOGGED_CHARS) } : {}),
  };
  try {
    const { reply, detail } = await perform(action, name, req, deps);
    deps.logger.info({ ...audit, outcome: 'applied', status: reply.status, ...detail }, 'operator action');
    return reply;
  } catch (err) {
    let e = err;
    if (err instanceof ControlError) e = new HttpError(CONTROL_STATUS[err.code], err.message);
    if (e instanceof HttpError) {
      const outcome = e instanceof AuthError ? 'denied' : e.status >= 500 ? 'failed' : 'rejected';
      deps.logger.info({ ...audit, outcome, status: e.status, reason: e.message, ...(e instanceof AuthError ? { denial: e.denial } : {}) }, 'operator action');
      throw e;
    }
    deps.logger.info({ ...audit, outcome: 'failed', status: 500, reason: 'internal error' }, 'operator action');
    throw err;
  }
}

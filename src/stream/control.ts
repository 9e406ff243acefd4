import type { Gmm } from '../gmm/model.js';

/**
 * What an operator may change on a running monitor: the counterpart of `MonitorView` for the
 * mutating HTTP endpoints, the CLI verbs behind them and the status page's buttons. Every
 * change is kept in the state directory before it takes effect, so it survives a restart.
 */
export interface MonitorControl {
  /**
   * Makes a new reference: fitted to the stream's current window (no `model`), or `model`,
   * fitted elsewhere. Resets the window mixture's warm start and the alert hysteresis.
   */
  rebaseline(stream: string, model?: Gmm): Promise<RebaselineResult>;
  /** Holds the stream's drift alerts at 0 until the mute ends; divergences are still evaluated and exported. */
  mute(stream: string, until: MuteUntil): Promise<MuteResult>;
  /** Ends a mute now; a stream that was not muted stays so. */
  unmute(stream: string): Promise<MuteResult>;
}

/** When a mute ends: an absolute time, or minutes from now (the monitor's clock). */
export type MuteUntil = { untilMs: number } | { minutes: number };

/** The longest mute: an operator who wants longer should re-baseline, or change the thresholds. */
export const MAX_MUTE_MS = 30 * 24 * 3600 * 1000;

export interface RebaselineResult {
  stream: string;
  /** Where the new reference came from. */
  source: 'window' | 'model';
  /** When it was set, in ms since the epoch. */
  referenceTimestampMs: number;
  /** Vectors it describes: the window's size, or 0 for a model fitted elsewhere. */
  referenceSamples: number;
  components: number;
}

export interface MuteResult {
  stream: string;
  muted: boolean;
  mutedUntilMs: number | undefined;
}

export type ControlErrorCode =
  /** No stream of that name. */
  | 'not_found'
  /** The request itself is wrong (a model of another dimension, a mute in the past or too long). */
  | 'invalid'
  /** Not possible in the stream's current state (too few samples in the window). */
  | 'conflict'
  /** The change could not be kept in the state directory; nothing changed. */
  | 'storage';

/** A refused or failed operator action. Its message is one line, fit for the operator who asked. */
export class ControlError extends Error {
  override readonly name = 'ControlError';

  constructor(
    readonly code: ControlErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The end of a mute in ms since the epoch, checked against `nowMs`: in the future, at most MAX_MUTE_MS ahead. */
export function muteEndMs(until: MuteUntil, nowMs: number): number {
  const end = 'untilMs' in until ? until.untilMs : nowMs + until.minutes * 60_000;
  if (!Number.isFinite(end)) throw new ControlError('invalid', 'the mute end is not a finite time');
  if (end <= nowMs) {
    throw new ControlError('invalid', `the mute must end in the future, got ${new Date(end).toISOString()}`);
  }
  if (end - nowMs > MAX_MUTE_MS) {
    throw new ControlError(
      'invalid',
      `a mute may last at most ${MAX_MUTE_MS / 86_400_000} days; for a lasting change re-baseline the stream instead`,
    );
  }
  return end;
}

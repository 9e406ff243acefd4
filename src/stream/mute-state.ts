import type { Clock } from './clock.js';
import { ControlError, type MuteResult } from './control.js';
import type { MonitorLogger } from './logger.js';
import { loadMute, removeMute, saveMute } from './mute.js';

/**
 * One stream's operator mute: when it ends, kept in the state directory (see `mute.ts`) before
 * it takes effect, so a restart stays quiet until the same time. The stream serialises the
 * changes under its lock; this holds only the bookkeeping.
 */
export class StreamMute {
  /** When the mute ends; undefined when not muted. */
  private untilMs: number | undefined;

  constructor(
    private readonly stream: string,
    private readonly deps: { clock: Clock; logger: MonitorLogger; stateDir: string },
  ) {}

  /** When the mute ends, while it holds at `nowMs`; else undefined. */
  endsAt(nowMs: number): number | undefined {
    return this.isMuted(nowMs) ? this.untilMs : undefined;
  }

  isMuted(nowMs: number): boolean {
    return this.untilMs !== undefined && nowMs < this.untilMs;
  }

  /** Restores a kept mute that has not ended yet; an unreadable file leaves the stream unmuted. */
  async restore(): Promise<void> {
    try {
      const mute = await loadMute(this.deps.stateDir, this.stream);
      if (mute !== undefined && mute.untilMs > this.deps.clock.now()) {
        this.untilMs = mute.untilMs;
        this.deps.logger.info({ stream: this.stream, mutedUntil: new Date(mute.untilMs).toISOString() }, 'mute restored');
      }
    } catch (err) {
      this.deps.logger.warn({ stream: this.stream, err }, 'cannot read the mute file; the stream is not muted');
    }
  }

  /** Forgets a mute that has ended by `nowMs`, saying so once. */
  expire(nowMs: number): void {
    if (this.untilMs !== undefined && !this.isMuted(nowMs)) {
      this.deps.logger.info({ stream: this.stream, mutedUntil: new Date(this.untilMs).toISOString() }, 'mute ended');
      this.untilMs = undefined;
    }
  }

  /** Mutes until `end` (already checked by `muteEndMs`), kept first: if it cannot be kept, nothing changes. */
  async set(end: number): Promise<MuteResult> {
    try {
      await saveMute(this.deps.stateDir, { stream: this.stream, untilMs: end, setAtMs: this.deps.clock.now() });
    } catch (err) {
      this.deps.logger.error({ stream: this.stream, err }, 'cannot save the mute; the stream is not muted');
      throw new ControlError('storage', "cannot keep the mute in the state directory, so nothing changed (see klaxon's log)", { cause: err });
    }
    this.untilMs = end;
    this.deps.logger.info({ stream: this.stream, mutedUntil: new Date(end).toISOString() }, 'stream muted');
    return { stream: this.stream, muted: true, mutedUntilMs: end };
  }

  /** Ends the mute now, removing the kept one first; idempotent. */
  async clear(): Promise<MuteResult> {
    try {
      await removeMute(this.deps.stateDir, this.stream);
    } catch (err) {
      this.deps.logger.error({ stream: this.stream, err }, 'cannot remove the mute file; the stream stays muted');
      throw new ControlError('storage', "cannot remove the mute from the state directory, so nothing changed (see klaxon's log)", { cause: err });
    }
    if (this.untilMs !== undefined) this.deps.logger.info({ stream: this.stream }, 'stream unmuted');
    this.untilMs = undefined;
    return { stream: this.stream, muted: false, mutedUntilMs: undefined };
  }
}

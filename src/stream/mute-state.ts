import type { Clock } from './clock.js';
import { ControlError, type MuteResult } from './control.js';
import type { MonitorLogger } from './logger.js';
import { mutedUntil, replacesMute, type MuteChange } from './mute-change.js';
import { loadMute, saveMute } from './mute.js';

/**
 * One stream's operator mute: the latest decision about it (see `mute-change.ts`), kept in the
 * state directory (see `mute.ts`) before it takes effect, so a restart stays quiet until the
 * same time. A source with a checkpoint topic carries the decision to the stream's next owner
 * (`change`, `adopt`). The stream serialises the changes under its lock; this holds only the
 * bookkeeping.
 */
export class StreamMute {
  /** The latest decision, in force or not: an ended mute still outranks an older one. */
  private last: MuteChange | undefined;
  /** Whether the end of `last`'s mute was logged (or it had ended before it was taken on). */
  private endLogged = true;

  constructor(
    private readonly stream: string,
    private readonly deps: { clock: Clock; logger: MonitorLogger; stateDir: string },
  ) {}

  /** When the mute ends, while it holds at `nowMs`; else undefined. */
  endsAt(nowMs: number): number | undefined {
    return mutedUntil(this.last, nowMs);
  }

  isMuted(nowMs: number): boolean {
    return this.endsAt(nowMs) !== undefined;
  }

  /** The latest decision, for the checkpoint topic; undefined when no operator ever decided. */
  change(): MuteChange | undefined {
    return this.last;
  }

  /**
   * Restores the kept mute; one that has ended mutes nothing but keeps its time, so that an
   * older decision in a checkpoint cannot come back over it. An unreadable file leaves the
   * stream unmuted.
   */
  async restore(): Promise<void> {
    try {
      const mute = await loadMute(this.deps.stateDir, this.stream);
      if (mute === undefined) return;
      this.install(mute);
      const until = this.endsAt(this.deps.clock.now());
      if (until !== undefined) this.deps.logger.info({ stream: this.stream, mutedUntil: new Date(until).toISOString() }, 'mute restored');
    } catch (err) {
      this.deps.logger.warn({ stream: this.stream, err }, 'cannot read the mute file; the stream is not muted');
    }
  }

  /**
   * Takes on a decision kept elsewhere (the checkpoint topic, written by another owner) when it
   * is newer than the one held: a later mute, or an unmute, made while the stream was away.
   * False when it is not newer. The state directory is brought in line by `keep`.
   */
  adopt(kept: MuteChange): boolean {
    if (!replacesMute(this.last, kept)) return false;
    this.install(kept);
    const until = this.endsAt(this.deps.clock.now());
    this.deps.logger.info(
      { stream: this.stream, mutedUntil: until === undefined ? null : new Date(until).toISOString(), changedAtMs: kept.changedAtMs },
      until === undefined ? 'not muted, as decided since on another instance (checkpoint)' : 'mute restored from checkpoint',
    );
    return true;
  }

  /**
   * Writes the held decision to the state directory, after `adopt`: a stale mute file would
   * otherwise disagree with what is in force (and come back where no checkpoint topic is read).
   * Best effort: the decision is in force either way.
   */
  async keep(): Promise<void> {
    const last = this.last;
    if (last === undefined) return;
    try {
      await saveMute(this.deps.stateDir, last);
    } catch (err) {
      this.deps.logger.warn({ stream: this.stream, err }, 'cannot bring the mute file in line with the checkpointed mute');
    }
  }

  /** Says once that a mute has ended by `nowMs`; the decision stays (see `last`). */
  expire(nowMs: number): void {
    if (this.endLogged || this.last?.untilMs === undefined || this.isMuted(nowMs)) return;
    this.endLogged = true;
    this.deps.logger.info({ stream: this.stream, mutedUntil: new Date(this.last.untilMs).toISOString() }, 'mute ended');
  }

  /** Mutes until `end` (already checked by `muteEndMs`), kept first: if it cannot be kept, nothing changes. */
  async set(end: number): Promise<MuteResult> {
    const change: MuteChange = { stream: this.stream, untilMs: end, changedAtMs: this.nextChangeMs() };
    try {
      await saveMute(this.deps.stateDir, change);
    } catch (err) {
      this.deps.logger.error({ stream: this.stream, err }, 'cannot save the mute; the stream is not muted');
      throw new ControlError('storage', "cannot keep the mute in the state directory, so nothing changed (see klaxon's log)", { cause: err });
    }
    this.install(change);
    this.deps.logger.info({ stream: this.stream, mutedUntil: new Date(end).toISOString() }, 'stream muted');
    return { stream: this.stream, muted: true, mutedUntilMs: end };
  }

  /**
   * Ends the mute now, keeping the unmute first (it replaces the kept mute); idempotent.
   * Recorded as a decision even when nothing here was muted: a mute kept on another instance,
   * or in the checkpoint topic, must not outlive it, across a restart too.
   */
  async clear(): Promise<MuteResult> {
    const change: MuteChange = { stream: this.stream, untilMs: undefined, changedAtMs: this.nextChangeMs() };
    try {
      await saveMute(this.deps.stateDir, change);
    } catch (err) {
      this.deps.logger.error({ stream: this.stream, err }, 'cannot keep the unmute; the stream stays muted');
      throw new ControlError('storage', "cannot keep the unmute in the state directory, so nothing changed (see klaxon's log)", { cause: err });
    }
    if (this.isMuted(this.deps.clock.now())) this.deps.logger.info({ stream: this.stream }, 'stream unmuted');
    this.install(change);
    return { stream: this.stream, muted: false, mutedUntilMs: undefined };
  }

  /**
   * The time of a new decision: now, but always after the one it replaces. Instances' clocks
   * differ, and a decision made here after taking one on from another instance must still be
   * the newer one (so must an unmute in the same millisecond as its mute).
   */
  private nextChangeMs(): number {
    return Math.max(this.deps.clock.now(), (this.last?.changedAtMs ?? -Infinity) + 1);
  }

  private install(change: MuteChange): void {
    this.last = change;
    this.endLogged = !this.isMuted(this.deps.clock.now());
  }
}

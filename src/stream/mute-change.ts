/**
 * An operator's latest decision about a stream's mute, and the rule that picks between two of
 * them. With scale-out a stream moves between instances, each of which may hold its own
 * decision (its state directory, from an earlier ownership) beside the one the checkpoint topic
 * carries from the last owner: the newest decision wins, whatever it says, as for references.
 * So an unmute is a decision too (with its time), not the absence of one: otherwise an older
 * mute kept elsewhere would come back over it.
 */
export interface MuteChange {
  stream: string;
  /** When the mute ends, in ms since the epoch; undefined for an unmute. */
  untilMs: number | undefined;
  /** When the operator made this decision (the deciding instance's clock). */
  changedAtMs: number;
}

/**
 * Whether `kept` (from the checkpoint topic) replaces `held` (what the stream has now): only a
 * strictly newer decision does, as a checkpointed reference replaces a loaded one only when it
 * is strictly newer (StreamReference.restore). A tie keeps what is held.
 */
export function replacesMute(held: MuteChange | undefined, kept: MuteChange): boolean {
  return held === undefined || kept.changedAtMs > held.changedAtMs;
}

/**
 * When the decision's mute ends, if it holds at `nowMs`; else undefined. A mute that has ended
 * stays the latest decision (so an older one cannot come back over it) but mutes nothing.
 */
export function mutedUntil(change: MuteChange | undefined, nowMs: number): number | undefined {
  const until = change?.untilMs;
  return until !== undefined && nowMs < until ? until : undefined;
}

interface MuteChangeJson {
  version: 1;
  stream: string;
  /** null for an unmute. */
  untilMs: number | null;
  changedAtMs: number;
}

/** The decision as the checkpoint topic stores it (key `mute/<stream>`). */
export function muteChangeToJson(change: MuteChange): object {
  const body: MuteChangeJson = { version: 1, stream: change.stream, untilMs: change.untilMs ?? null, changedAtMs: change.changedAtMs };
  return body;
}

/** A decision from its JSON (as `muteChangeToJson` writes it); `where` names the topic and key in the error when it is not one. */
export function muteChangeFromJson(json: unknown, stream: string, where: string): MuteChange {
  const raw = (typeof json === 'object' && json !== null ? json : {}) as Partial<MuteChangeJson>;
  const until = raw.untilMs;
  const untilOk = until === null || (typeof until === 'number' && Number.isFinite(until));
  if (raw.version !== 1 || !untilOk || typeof raw.changedAtMs !== 'number' || !Number.isFinite(raw.changedAtMs)) {
    throw new Error(`${where} is not a klaxon mute decision`);
  }
  return { stream, untilMs: until ?? undefined, changedAtMs: raw.changedAtMs };
}

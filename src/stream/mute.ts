import type { MuteChange } from './mute-change.js';
import { readStateFile, stateFile, writeStateFile } from './state-file.js';

/**
 * A stream's latest mute decision (mute-change.ts), kept in the state directory beside its
 * reference snapshot (`<stream>.mute.json`), so that a restarted klaxon stays quiet until the
 * same time, and an unmute stays an unmute: were its file deleted, a restart would hold no
 * decision, and an older mute in the Kafka checkpoint topic would come back over it.
 */

/**
 * The file: when the decision was made is `setAtMs`. An unmute is written as a mute that ends
 * when it is decided (`untilMs` = `setAtMs`) marked `unmuted`: a klaxon from before unmutes
 * were kept reads it as a mute that has ended.
 */
interface MuteFile {
  version: 1;
  stream: string;
  until: string;
  untilMs: number;
  setAtMs: number;
  unmuted?: true;
}

/** The stream's kept decision, or undefined when there is none. Throws when the file exists but is not a mute. */
export async function loadMute(dir: string, stream: string): Promise<MuteChange | undefined> {
  const file = stateFile(dir, stream, 'mute');
  const raw = (await readStateFile(file)) as Partial<MuteFile> | null | undefined;
  if (raw === undefined) return undefined;
  if (raw?.version !== 1 || typeof raw.untilMs !== 'number' || !Number.isFinite(raw.untilMs)) {
    throw new Error(`${file} is not a klaxon mute file`);
  }
  return { stream, untilMs: raw.unmuted === true ? undefined : raw.untilMs, changedAtMs: Number(raw.setAtMs) || 0 };
}

export async function saveMute(dir: string, change: MuteChange): Promise<void> {
  const untilMs = change.untilMs ?? change.changedAtMs;
  const body: MuteFile = {
    version: 1,
    stream: change.stream,
    until: new Date(untilMs).toISOString(),
    untilMs,
    setAtMs: change.changedAtMs,
    ...(change.untilMs === undefined && { unmuted: true as const }),
  };
  await writeStateFile(dir, stateFile(dir, change.stream, 'mute'), body);
}

import { readStateFile, removeStateFile, stateFile, writeStateFile } from './state-file.js';

/**
 * A stream's mute, kept in the state directory beside its reference snapshot
 * (`<stream>.mute.json`), so that a restarted klaxon stays quiet until the same time.
 */
export interface MuteRecord {
  stream: string;
  /** When the mute ends, in ms since the epoch. */
  untilMs: number;
  /** When it was set. */
  setAtMs: number;
}

interface MuteFile {
  version: 1;
  stream: string;
  until: string;
  untilMs: number;
  setAtMs: number;
}

/** The stream's kept mute, or undefined when there is none. Throws when the file exists but is not a mute. */
export async function loadMute(dir: string, stream: string): Promise<MuteRecord | undefined> {
  const file = stateFile(dir, stream, 'mute');
  const raw = (await readStateFile(file)) as Partial<MuteFile> | null | undefined;
  if (raw === undefined) return undefined;
  if (raw?.version !== 1 || typeof raw.untilMs !== 'number' || !Number.isFinite(raw.untilMs)) {
    throw new Error(`${file} is not a klaxon mute file`);
  }
  return { stream, untilMs: raw.untilMs, setAtMs: Number(raw.setAtMs) || 0 };
}

export async function saveMute(dir: string, mute: MuteRecord): Promise<void> {
  const body: MuteFile = {
    version: 1,
    stream: mute.stream,
    until: new Date(mute.untilMs).toISOString(),
    untilMs: mute.untilMs,
    setAtMs: mute.setAtMs,
  };
  await writeStateFile(dir, stateFile(dir, mute.stream, 'mute'), body);
}

export async function removeMute(dir: string, stream: string): Promise<void> {
  await removeStateFile(stateFile(dir, stream, 'mute'));
}

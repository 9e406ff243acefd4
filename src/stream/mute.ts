import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

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

/** Stream names are label-safe, hence file-name-safe too. */
function fileFor(dir: string, stream: string): string {
  return path.join(dir, `${stream}.mute.json`);
}

/** The stream's kept mute, or undefined when there is none. Throws when the file exists but is not a mute. */
export async function loadMute(dir: string, stream: string): Promise<MuteRecord | undefined> {
  const file = fileFor(dir, stream);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const raw = JSON.parse(text) as Partial<MuteFile> | null;
  if (raw?.version !== 1 || typeof raw.untilMs !== 'number' || !Number.isFinite(raw.untilMs)) {
    throw new Error(`${file} is not a klaxon mute file`);
  }
  return { stream, untilMs: raw.untilMs, setAtMs: Number(raw.setAtMs) || 0 };
}

/** Writes atomically (temporary file, then rename), so a crash never leaves half a file. */
export async function saveMute(dir: string, mute: MuteRecord): Promise<void> {
  await mkdir(dir, { recursive: true });
  const file = fileFor(dir, mute.stream);
  const body: MuteFile = {
    version: 1,
    stream: mute.stream,
    until: new Date(mute.untilMs).toISOString(),
    untilMs: mute.untilMs,
    setAtMs: mute.setAtMs,
  };
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(body, null, 2)}\n`);
  await rename(tmp, file);
}

export async function removeMute(dir: string, stream: string): Promise<void> {
  await rm(fileFor(dir, stream), { force: true });
}

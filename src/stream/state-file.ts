import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * What klaxon keeps per stream in its state directory (`<stream>.<kind>.json`): the
 * reference snapshot and an operator's mute. Stream names are label-safe, hence
 * file-name-safe too.
 */
export type StateKind = 'reference' | 'mute';

export function stateFile(dir: string, stream: string, kind: StateKind): string {
  return path.join(dir, `${stream}.${kind}.json`);
}

/** The parsed file, or undefined when there is none; any other read error is thrown. */
export async function readStateFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return JSON.parse(text) as unknown;
}

/** Writes atomically (temporary file, then rename), so a crash never leaves half a file. */
export async function writeStateFile(dir: string, file: string, body: object): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(body, null, 2)}\n`);
  await rename(tmp, file);
}

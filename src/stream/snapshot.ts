import { nullFromJson, nullToJson, type NullDistribution, type NullJson } from '../calibration/null.js';
import { gmmFromJson, gmmToJson, type GmmJson } from '../gmm/json.js';
import type { Gmm } from '../gmm/model.js';
import { readStateFile, stateFile, writeStateFile } from './state-file.js';

/** A reference kept across restarts (`reference.policy: snapshot`). */
export interface ReferenceSnapshot {
  stream: string;
  fields: string[];
  samples: number;
  /** Mean log-likelihood of the model on the data it was fitted to, when known. */
  meanLogLik: number | undefined;
  createdAtMs: number;
  model: Gmm;
  /**
   * 'operator' when an operator re-baselined the stream (`POST …/rebaseline`): such a snapshot
   * is restored whatever the stream's reference policy, not only under `snapshot`.
   */
  setBy?: 'operator' | undefined;
  /** The reference's bootstrap null, once computed: kept with it so that a restart does not redo it. */
  null?: NullDistribution | undefined;
}

interface SnapshotFile {
  version: 1;
  stream: string;
  fields: string[];
  samples: number;
  meanLogLik?: number;
  createdAtMs: number;
  model: GmmJson;
  setBy?: 'operator';
  null?: NullJson;
}

/** Reads a stream's snapshot; undefined when there is none. Throws when one exists but cannot be used. */
export async function loadSnapshot(dir: string, stream: string): Promise<ReferenceSnapshot | undefined> {
  const file = stateFile(dir, stream, 'reference');
  const raw = await readStateFile(file);
  return raw === undefined ? undefined : snapshotFromJson(raw, stream, file);
}

/**
 * A snapshot from its JSON (as `snapshotToJson` writes it); `where` names the file or topic
 * in the error when it is not one.
 */
export function snapshotFromJson(json: unknown, stream: string, where: string): ReferenceSnapshot {
  const raw = (typeof json === 'object' && json !== null ? json : {}) as Partial<SnapshotFile>;
  if (raw.version !== 1 || !Array.isArray(raw.fields)) throw new Error(`${where} is not a klaxon reference snapshot`);
  return {
    stream,
    fields: raw.fields,
    samples: Number(raw.samples) || 0,
    meanLogLik: typeof raw.meanLogLik === 'number' && Number.isFinite(raw.meanLogLik) ? raw.meanLogLik : undefined,
    createdAtMs: Number(raw.createdAtMs) || 0,
    model: gmmFromJson(raw.model),
    ...(raw.setBy === 'operator' ? { setBy: 'operator' as const } : {}),
    // An unreadable null is not fatal: it is recomputed.
    ...(raw.null === undefined ? {} : { null: nullFromJson(raw.null) }),
  };
}

export async function saveSnapshot(dir: string, snap: ReferenceSnapshot): Promise<void> {
  await writeStateFile(dir, stateFile(dir, snap.stream, 'reference'), snapshotToJson(snap));
}

/** The snapshot as JSON: the file format, also what a Kafka checkpoint stores. */
export function snapshotToJson(snap: ReferenceSnapshot): object {
  const body: SnapshotFile = {
    version: 1,
    stream: snap.stream,
    fields: snap.fields,
    samples: snap.samples,
    ...(snap.meanLogLik === undefined ? {} : { meanLogLik: snap.meanLogLik }),
    createdAtMs: snap.createdAtMs,
    model: gmmToJson(snap.model),
    ...(snap.setBy === 'operator' ? { setBy: 'operator' as const } : {}),
    ...(snap.null === undefined ? {} : { null: nullToJson(snap.null) }),
  };
  return body;
}

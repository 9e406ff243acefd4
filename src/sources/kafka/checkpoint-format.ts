import { muteChangeFromJson, muteChangeToJson, type MuteChange } from '../../stream/mute-change.js';
import { snapshotFromJson, snapshotToJson, type ReferenceSnapshot } from '../../stream/snapshot.js';
import { partitionKey } from './partitions.js';

/**
 * What the checkpoint topic holds, key by key, apart from reading and writing it (checkpoint.ts).
 * One key per stream and kind, and one per partition, so that compaction keeps the latest of each:
 *
 * - `reference/<stream>`: the reference, as a snapshot file holds it;
 * - `mute/<stream>`: the operator's latest mute or unmute (mute-change.ts). Kept under keys of
 *   their own, so a topic written before mutes were checkpointed loads as before (no
 *   decisions), and a klaxon that predates them skips these keys as it skips any it does not know;
 * - `offset/<topic>/<partition>`: the oldest offset any window still holds.
 */

/** Where a partition is replayed from (`offset`), taken when the group had committed `committed`. */
export interface ReplayOffset {
  topic: string;
  partition: number;
  offset: number;
  committed: number;
}

/** The contents of the checkpoint topic: the latest value per key. */
export interface Checkpoint {
  references: ReferenceSnapshot[];
  /** The operators' latest mute decisions, per stream. */
  mutes: MuteChange[];
  /** Per `partitionKey`: the offset a restart replays from to rebuild every window. */
  offsets: Map<string, number>;
}

const REFERENCE = 'reference/';
const MUTE = 'mute/';
const OFFSET = 'offset/';

/** Folds the topic's messages, oldest first, into a `Checkpoint`: a later value replaces an earlier one, a tombstone (null) removes it. */
export class CheckpointReader {
  private readonly references = new Map<string, ReferenceSnapshot>();
  private readonly mutes = new Map<string, MuteChange>();
  private readonly offsets = new Map<string, number>();

  constructor(private readonly topic: string) {}

  /** Takes one message in; throws when its value cannot be read (the caller skips it), ignores keys it does not know. */
  read(key: string | undefined, value: Buffer | null): void {
    if (key === undefined) return;
    const where = `checkpoint ${this.topic} key ${key}`;
    const json = (): unknown => JSON.parse(value!.toString('utf8'));
    if (key.startsWith(REFERENCE)) {
      const stream = key.slice(REFERENCE.length);
      if (value === null) this.references.delete(stream);
      else this.references.set(stream, snapshotFromJson(json(), stream, where));
    } else if (key.startsWith(MUTE)) {
      const stream = key.slice(MUTE.length);
      if (value === null) this.mutes.delete(stream);
      else this.mutes.set(stream, muteChangeFromJson(json(), stream, where));
    } else if (key.startsWith(OFFSET)) {
      const rest = key.slice(OFFSET.length);
      const slash = rest.lastIndexOf('/');
      const pk = partitionKey(rest.slice(0, slash), Number(rest.slice(slash + 1)));
      if (value === null) this.offsets.delete(pk);
      else this.offsets.set(pk, Number((json() as { offset: string }).offset));
    }
  }

  checkpoint(): Checkpoint {
    return { references: [...this.references.values()], mutes: [...this.mutes.values()], offsets: new Map(this.offsets) };
  }
}

/** The messages of one checkpoint write. */
export function checkpointMessages(
  references: readonly ReferenceSnapshot[],
  offsets: ReadonlyMap<string, ReplayOffset>,
  mutes: readonly MuteChange[],
): { key: string; value: string }[] {
  return [
    ...references.map((r) => ({ key: `${REFERENCE}${r.stream}`, value: JSON.stringify(snapshotToJson(r)) })),
    ...mutes.map((m) => ({ key: `${MUTE}${m.stream}`, value: JSON.stringify(muteChangeToJson(m)) })),
    ...[...offsets.values()].map((o) => ({
      key: `${OFFSET}${o.topic}/${o.partition}`,
      value: JSON.stringify({ version: 1, topic: o.topic, partition: o.partition, offset: String(o.offset), committed: String(o.committed) }),
    })),
  ];
}

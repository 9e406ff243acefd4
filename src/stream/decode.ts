import { BatchScanner, MAX_MESSAGES, VECTOR, VERDICT_REASONS } from './json-batch.js';
import { FieldScanner, FOUND, numberFromString, SCAN_REASONS } from './json-fields.js';
import type { SourceRecord } from './record.js';

/**
 * Why a record could not feed a stream. A fixed, small set: these become metric label values.
 * `invalid_json` and `not_object` reject the whole record (counted once); the others reject
 * it for one stream (counted once per stream it should have fed).
 */
export const REJECT_REASONS = [
  'invalid_json',
  'not_object',
  'missing_field',
  'not_numeric',
  'not_finite',
  'out_of_bounds',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** What the decoder needs to know of a stream. */
export interface DecodeTarget {
  /** Only records on this topic; undefined for any topic. */
  topic: string | undefined;
  /** Dotted JSON paths; a numeric segment indexes an array (`values.0`). */
  fields: readonly string[];
  /** Per field; a value outside [min, max] rejects the record for this stream. */
  bounds?: readonly { min: number; max: number }[];
}

export interface DecodeSinks {
  /** A vector for target `target`; `vector` is reused, copy it before the next call. */
  vector(target: number, vector: Float64Array, record: SourceRecord): void;
  /** `target` is -1 when the whole record was rejected. */
  reject(reason: RejectReason, target: number, record: SourceRecord): void;
  /**
   * Optional, and what `vector` would be told, a stream at a time: target `target`'s vectors
   * from records [from, to), in order, record from + i's being row at + i of `rows` (d wide,
   * reused) where verdicts[at + i] is 0. Given it, the batch path hands a run's vectors over
   * this way, stream by stream, and then its rejects, in record order.
   */
  vectors?(target: number, rows: Float64Array, verdicts: Uint8Array, at: number, records: readonly SourceRecord[], from: number, to: number): void;
}

interface Compiled {
  index: number;
  paths: string[][];
  min: Float64Array;
  max: Float64Array;
  out: Float64Array;
}

/** The streams one topic feeds, and a scanner for every field they read. */
interface Route {
  targets: Compiled[];
  scanner: FieldScanner;
  /** The same fields read a chunk at a time, when every path is a top-level key; slots alike. */
  batch: BatchScanner | undefined;
  /**
   * Runs to pass before the batch scanner is tried again: it gave up on most of the last run's
   * messages (numeric strings at a field, say), each of which was then scanned twice. Doubles
   * at each such run, up to 63, as json-shape.ts rests its learning.
   */
  rest: number;
  /** Such runs in a row (up to 6). */
  misses: number;
  /** Per target, per field: its slot in the scanner. */
  slots: Int32Array[];
}

/** Shorter runs of one topic's Buffer messages are scanned one by one: the batch call's set-up would not pay. */
export const MIN_RUN = 8;

export interface DecoderOptions {
  /** Read Buffer messages with the JSON scanner where it is sure (default true); false always JSON.parses. */
  fastPath?: boolean;
}

/**
 * Turns messages into feature vectors, one per stream the message feeds (one topic can feed
 * several streams). Never throws: a record that cannot feed a stream is reported to
 * `sinks.reject` with its reason and skipped. Field paths are compiled once, up front.
 *
 * A Buffer message is first scanned for its fields in place (json-fields.ts: no string, no
 * objects); where the scanner is unsure (escapes, duplicate keys, invalid JSON, …) the message
 * is JSON.parsed and the fields read off the object. Both ways give the same vectors and the
 * same reject reasons, record for record (the decoder's property tests compare them).
 */
export class Decoder {
  private readonly anyTopic: Route;
  private readonly byTopic = new Map<string, Route>();
  private readonly fastPath: boolean;
  /** The route of the last record's topic: records come in runs of one topic. */
  private lastTopic: string | undefined;
  private lastRoute: Route;
  /** Messages decoded by a scanner alone, without JSON.parse. */
  scanned = 0;
  /** Of those, the ones the batch scanner read. */
  batched = 0;

  constructor(
    targets: readonly DecodeTarget[],
    private readonly sinks: DecodeSinks,
    options: DecoderOptions = {},
  ) {
    this.fastPath = options.fastPath ?? true;
    const compiled = targets.map((t, index): Compiled => {
      const d = t.fields.length;
      const min = new Float64Array(d).fill(-Infinity);
      const max = new Float64Array(d).fill(Infinity);
      t.bounds?.forEach((b, i) => {
        min[i] = b.min;
        max[i] = b.max;
      });
      return { index, paths: t.fields.map((f) => f.split('.')), min, max, out: new Float64Array(d) };
    });
    const anyTopic = compiled.filter((_, i) => targets[i]!.topic === undefined);
    this.anyTopic = route(anyTopic);
    this.lastRoute = this.anyTopic;
    const topics = new Set(targets.flatMap((t) => (t.topic === undefined ? [] : [t.topic])));
    for (const topic of topics) {
      this.byTopic.set(topic, route(compiled.filter((_, i) => targets[i]!.topic === topic || targets[i]!.topic === undefined)));
    }
  }

  private routeOf(topic: string): Route {
    if (topic !== this.lastTopic) {
      this.lastRoute = this.byTopic.get(topic) ?? this.anyTopic;
      this.lastTopic = topic;
    }
    return this.lastRoute;
  }

  /**
   * Decodes a batch of records, in order: the same vectors and rejects, in the same order, as
   * `decode` of each (with a `vectors` sink: each stream's vectors in the same order, and the
   * rejects in the same order). Runs of one topic's Buffer messages whose fields are all
   * top-level keys go through the batch scanner (json-batch.ts) a chunk at a time.
   */
  decodeAll(batch: readonly SourceRecord[]): void {
    const n = batch.length;
    let i = 0;
    while (i < n) {
      const topic = batch[i]!.topic;
      const r = this.routeOf(topic);
      const scanner = r.batch;
      let end = i;
      if (this.fastPath && scanner !== undefined) {
        const last = Math.min(n, i + MAX_MESSAGES);
        while (end < last && typeof batch[end]!.value !== 'string' && batch[end]!.topic === topic) end++;
      }
      const resting = end - i >= MIN_RUN && r.rest > 0;
      if (resting) r.rest--;
      // A short run (or none, a resting scanner, or one whose memory cannot hold the run): one
      // by one, up to the next record the run did not take.
      if (end - i < MIN_RUN || resting || !scanner!.scan(batch, i, end)) {
        for (const stop = Math.max(end, i + 1); i < stop; i++) this.decodeIn(r, batch[i]!);
        continue;
      }
      // The messages read go over in stretches, each before the next given up on is decoded.
      const status = scanner!.status;
      const first = i;
      let stretch = i;
      let gaveUp = 0;
      for (; i < end; i++) {
        if (status[i - first] === 1) continue;
        this.fromBatch(r, batch, first, stretch, i);
        this.decodeIn(r, batch[i]!);
        stretch = i + 1;
        gaveUp++;
      }
      this.fromBatch(r, batch, first, stretch, end);
      if (2 * gaveUp > end - first) {
        r.misses = Math.min(r.misses + 1, 6);
        r.rest = (1 << r.misses) - 1;
      } else r.misses = 0;
    }
  }

  /**
   * The vectors and rejects of records [from, to), all read by the route's batch scanner in a
   * run that began at `first`: as `emit` would make them.
   */
  private fromBatch(r: Route, batch: readonly SourceRecord[], first: number, from: number, to: number): void {
    if (from === to) return;
    const scanner = r.batch!;
    const { verdicts, rows } = scanner;
    const targets = r.targets;
    this.scanned += to - from;
    this.batched += to - from;
    const at = from - first;
    const bulk = this.sinks.vectors !== undefined;
    if (bulk) {
      for (let t = 0; t < targets.length; t++) this.sinks.vectors!(targets[t]!.index, rows[t]!, verdicts[t]!, at, batch, from, to);
      if (scanner.refused === 0) return;
    }
    for (let i = from; i < to; i++) {
      const record = batch[i]!;
      const row = at + i - from;
      for (let t = 0; t < targets.length; t++) {
        const target = targets[t]!;
        const verdict = verdicts[t]![row]!;
        if (verdict !== VECTOR) this.sinks.reject(VERDICT_REASONS[verdict]!, target.index, record);
        else if (!bulk) {
          const { out } = target;
          const d = out.length;
          const vectors = rows[t]!;
          for (let f = 0; f < d; f++) out[f] = vectors[row * d + f]!;
          this.sinks.vector(target.index, out, record);
        }
      }
    }
  }

  /** Decodes one record; returns how many vectors it produced. */
  decode(record: SourceRecord): number {
    return this.decodeIn(this.routeOf(record.topic), record);
  }

  private decodeIn(r: Route, record: SourceRecord): number {
    const targets = r.targets;
    if (targets.length === 0) return 0;
    const v = record.value;
    if (this.fastPath && typeof v !== 'string' && r.scanner.scan(v)) {
      this.scanned++;
      return this.emit(r, record, r.scanner.codes, r.scanner.values, 0);
    }
    let obj: unknown;
    try {
      obj = JSON.parse(typeof v === 'string' ? v : v.toString('utf8'));
    } catch {
      this.sinks.reject('invalid_json', -1, record);
      return 0;
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      this.sinks.reject('not_object', -1, record);
      return 0;
    }
    let produced = 0;
    for (let t = 0; t < targets.length; t++) {
      const target = targets[t]!;
      const reason = fill(target, obj);
      if (reason === undefined) {
        this.sinks.vector(target.index, target.out, record);
        produced++;
      } else this.sinks.reject(reason, target.index, record);
    }
    return produced;
  }

  /** The vectors and rejects of a scanned record (its outcomes from `at` in codes and values), as `fill` would have made them. */
  private emit(r: Route, record: SourceRecord, codes: Uint8Array, values: Float64Array, at: number): number {
    let produced = 0;
    for (let t = 0; t < r.targets.length; t++) {
      const target = r.targets[t]!;
      const slots = r.slots[t]!;
      const { out, min, max } = target;
      let reason: RejectReason | undefined;
      for (let f = 0; f < slots.length; f++) {
        const slot = at + slots[f]!;
        const code = codes[slot]!;
        if (code !== FOUND) {
          reason = SCAN_REASONS[code];
          break;
        }
        const x = values[slot]!;
        if (x < min[f]! || x > max[f]!) {
          reason = 'out_of_bounds';
          break;
        }
        out[f] = x;
      }
      if (reason === undefined) {
        this.sinks.vector(target.index, out, record);
        produced++;
      } else this.sinks.reject(reason, target.index, record);
    }
    return produced;
  }
}

/** A route over `targets`, in stream order: every distinct field path gets one scanner slot. */
function route(targets: Compiled[]): Route {
  const paths = new Map<string, number>();
  const list: string[][] = [];
  const slots = targets.map((t) =>
    Int32Array.from(t.paths, (path) => {
      const key = JSON.stringify(path);
      let slot = paths.get(key);
      if (slot === undefined) {
        slot = list.length;
        paths.set(key, slot);
        list.push(path);
      }
      return slot;
    }),
  );
  const batchTargets = targets.map((t, i) => ({ fields: slots[i]!, min: t.min, max: t.max }));
  return { targets, scanner: new FieldScanner(list), batch: BatchScanner.accepts(list, batchTargets) ? new BatchScanner(list.map((p) => p[0]!), batchTargets) : undefined, rest: 0, misses: 0, slots };
}

function fill(target: Compiled, obj: object): RejectReason | undefined {
  const { paths, out, min, max } = target;
  for (let f = 0; f < paths.length; f++) {
    const x = readNumber(obj, paths[f]!);
    if (typeof x !== 'number') return x;
    if (x < min[f]! || x > max[f]!) return 'out_of_bounds';
    out[f] = x;
  }
  return undefined;
}

/**
 * The number at `path`, or why there is none. Own properties only, so a path like
 * `constructor` is missing rather than a function off the prototype. A JSON `null` is
 * missing; a numeric string ("12.5") is accepted, as producers often send decimals as text.
 */
function readNumber(obj: object, path: readonly string[]): number | RejectReason {
  let v: unknown = obj;
  for (let i = 0; i < path.length; i++) {
    if (typeof v !== 'object' || v === null) return 'missing_field';
    const key = path[i]!;
    if (!Object.prototype.hasOwnProperty.call(v, key)) return 'missing_field';
    v = (v as Record<string, unknown>)[key];
  }
  if (typeof v === 'number') return Number.isFinite(v) ? v : 'not_finite';
  if (v === null || v === undefined) return 'missing_field';
  if (typeof v === 'string') return numberFromString(v);
  return 'not_numeric';
}

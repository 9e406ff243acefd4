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
}

interface Compiled {
  index: number;
  paths: string[][];
  min: Float64Array;
  max: Float64Array;
  out: Float64Array;
}

/** Cap on the topic → targets cache, so a flood of unknown topics cannot grow it without bound. */
const MAX_CACHED_TOPICS = 10_000;
const NON_FINITE_WORD = /^\s*[+-]?(nan|inf|infinity)\s*$/i;


/**
 * Turns messages into feature vectors, one per stream the message feeds (one topic can feed
 * several streams). Never throws: a record that cannot feed a stream is reported to
 * `sinks.reject` with its reason and skipped. Field paths are split once, up front; the cost
 * per record is one JSON.parse plus a few property reads per field.
 */
export class Decoder {
  private readonly targets: Compiled[];
  private readonly anyTopic: Compiled[];
  private readonly byTopic = new Map<string, Compiled[]>();
  private readonly routes = new Map<string, Compiled[]>();

  constructor(
    targets: readonly DecodeTarget[],
    private readonly sinks: DecodeSinks,
  ) {
    this.targets = targets.map((t, index) => {
      const d = t.fields.length;
      const min = new Float64Array(d).fill(-Infinity);
      const max = new Float64Array(d).fill(Infinity);
      t.bounds?.forEach((b, i) => {
        min[i] = b.min;
        max[i] = b.max;
      });
      return { index, paths: t.fields.map((f) => f.split('.')), min, max, out: new Float64Array(d) };
    });
    this.anyTopic = this.targets.filter((_, i) => targets[i]!.topic === undefined);
    targets.forEach((t, i) => {
      if (t.topic === undefined) return;
      const list = this.byTopic.get(t.topic) ?? [];
      list.push(this.targets[i]!);
      this.byTopic.set(t.topic, list);
    });
  }

  /** The streams a topic feeds. */
  private route(topic: string): Compiled[] {
    let r = this.routes.get(topic);
    if (r === undefined) {
      r = [...(this.byTopic.get(topic) ?? []), ...this.anyTopic].sort((a, b) => a.index - b.index);
      if (this.routes.size < MAX_CACHED_TOPICS) this.routes.set(topic, r);
    }
    return r;
  }

  /** Decodes one record; returns how many vectors it produced. */
  decode(record: SourceRecord): number {
    const targets = this.route(record.topic);
    if (targets.length === 0) return 0;
    let obj: unknown;
    try {
      const v = record.value;
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
      const reason = this.fill(target, obj);
      if (reason === undefined) {
        this.sinks.vector(target.index, target.out, record);
        produced++;
      } else this.sinks.reject(reason, target.index, record);
    }
    return produced;
  }

  private fill(target: Compiled, obj: object): RejectReason | undefined {
    const { paths, out, min, max } = target;
    for (let f = 0; f < paths.length; f++) {
      const x = readNumber(obj, paths[f]!);
      if (typeof x !== 'number') return x;
      if (x < min[f]! || x > max[f]!) return 'out_of_bounds';
      out[f] = x;
    }
    return undefined;
  }
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
  if (typeof v === 'string') {
    if (v.trim() === '') return 'not_numeric';
    const x = Number(v);
    if (Number.isFinite(x)) return x;
    return Number.isNaN(x) && !NON_FINITE_WORD.test(v) ? 'not_numeric' : 'not_finite';
  }
  return 'not_numeric';
}

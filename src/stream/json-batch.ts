import { instantiate, WASM_PAGE as PAGE } from '../math/wasm-module.js';
import type { RejectReason } from './decode.js';
import { SCAN_REASONS } from './json-fields.js';
import type { SourceRecord } from './record.js';
import { JSON_SCAN_WASM } from './json-scan-wasm.js';

/**
 * The decoder's batch scanner: the top-level numeric fields of many JSON messages read in one
 * call into WebAssembly (assembly/json-scan.ts), instead of json-fields.ts's scan a message at a
 * time, and each stream's vector made there too: a verdict per message and stream (its vector,
 * or the reason it has none), and the vectors one after another. It is sure or it gives up,
 * message by message, as json-fields.ts does; a message it gives up on is the JavaScript
 * scanner's (and JSON.parse's), so every message decodes as before.
 *
 * Only flat paths (one segment, ASCII: `amount`, not `payload.amount`) are read here;
 * `BatchScanner.accepts` says whether a route's paths are.
 *
 * Memory: the module's own data, then from 64 KiB the configuration (the scanner last used
 * writes its own), then a chunk's spans, outcomes, numbers, verdicts, vectors and bytes,
 * growing the memory as a chunk needs (WebAssembly memory never shrinks: a chunk of very large
 * messages keeps its room). Growing detaches the views, so they are taken again after it.
 */

interface Exports {
  memory: WebAssembly.Memory;
  configure(table: number, n: number, seen: number, shape: number, targets: number, t: number): void;
  scan(spans: number, n: number, status: number, codes: number, values: number, verdicts: number, rows: number): number;
  dataEnd(): number;
}

const exports = instantiate<Exports>(JSON_SCAN_WASM);
const memory = exports.memory;

const CONFIG_AT = PAGE;
/** The keys' table, their bytes, the duplicate marks, the shape and the targets: at most this much. */
const CONFIG_BYTES = 16_384;
/** The scanner's record of the last message's members (assembly/json-scan.ts: 32 of 16 + 32 bytes). */
const SHAPE_BYTES = 32 * (16 + 32);
/** How far past a message the scanner may read (two 16-byte loads). */
const READ_PAST = 32;
const CHUNK_AT = CONFIG_AT + CONFIG_BYTES;
/** Messages per call: a longer run is scanned in parts. */
export const MAX_MESSAGES = 4096;
if (exports.dataEnd() > CONFIG_AT) throw new Error(`json-batch: the module's data (${exports.dataEnd()} bytes) reaches past ${CONFIG_AT}`);

/** A stream the fields feed: its fields (by number, in its order) and their bounds. */
export interface BatchTarget {
  fields: Int32Array;
  min: Float64Array;
  max: Float64Array;
}

/** The verdict on a message for a stream: its vector (then in `rows`), or why not. */
export const VECTOR = 0;
/** The reasons behind the other verdicts, by verdict: json-fields.ts's codes, then out of bounds (assembly/json-scan.ts's OUT_OF_BOUNDS). */
export const VERDICT_REASONS: readonly (RejectReason | undefined)[] = [...SCAN_REASONS, 'out_of_bounds'];

/** The scanner whose configuration is in the module now. */
let configured: BatchScanner | undefined;

export class BatchScanner {
  /** After `scan`: per message, 1 when it was read, 0 when given up on. */
  status = new Uint8Array(0);
  /** After `scan`: per target, its verdict on each message read. */
  verdicts: Uint8Array[] = [];
  /** After `scan`: per target, its vector from each message whose verdict is VECTOR (row i of n × d). */
  rows: Float64Array[] = [];
  /** After `scan`: how many verdicts on the messages read are not VECTOR. */
  refused = 0;
  private readonly keys: Buffer[];
  private readonly targets: readonly BatchTarget[];

  /** Whether every path is one ASCII segment (a top-level key), and the configuration fits. */
  static accepts(paths: readonly (readonly string[])[], targets: readonly BatchTarget[]): boolean {
    let bytes = 12 * paths.length + 8 + SHAPE_BYTES;
    for (const path of paths) {
      if (path.length !== 1 || !/^[\x20-\x7e]*$/.test(path[0]!)) return false;
      bytes += path[0]!.length;
    }
    for (const t of targets) bytes += 16 + 20 * t.fields.length + 8;
    return paths.length > 0 && bytes <= CONFIG_BYTES;
  }

  /** Reads the keys `keys`, field f being keys[f], for `targets` (BatchScanner.accepts must hold). */
  constructor(keys: readonly string[], targets: readonly BatchTarget[]) {
    this.keys = keys.map((k) => Buffer.from(k, 'latin1'));
    this.targets = targets;
  }

  private configure(): void {
    const k = this.keys.length;
    const view = new DataView(memory.buffer);
    const seen = CONFIG_AT + 8 * k;
    let at = seen + 4 * k;
    this.keys.forEach((key, f) => {
      view.setUint32(CONFIG_AT + 8 * f, at, true);
      view.setUint32(CONFIG_AT + 8 * f + 4, key.length, true);
      new Uint8Array(memory.buffer, at, key.length).set(key);
      at += key.length;
    });
    const shape = (at + 7) & ~7;
    const table = shape + SHAPE_BYTES;
    at = table + 16 * this.targets.length;
    // Per target: d, then where its bounds (lower, upper) and its field numbers are.
    this.targets.forEach((t, i) => {
      const d = t.fields.length;
      const entry = table + 16 * i;
      view.setUint32(entry, d, true);
      view.setUint32(entry + 8, at, true);
      new Float64Array(memory.buffer, at, d).set(t.min);
      view.setUint32(entry + 12, (at += 8 * d), true);
      new Float64Array(memory.buffer, at, d).set(t.max);
      view.setUint32(entry + 4, (at += 8 * d), true);
      new Int32Array(memory.buffer, at, d).set(t.fields);
      at = (at + 4 * d + 7) & ~7;
    });
    exports.configure(CONFIG_AT, k, seen, shape, table, this.targets.length);
    configured = this;
  }

  /**
   * Scans the values of records [from, to), every one a Buffer, to ≤ from + MAX_MESSAGES. The
   * results are in `status`, `verdicts`, `rows` and `refused` until the next scan. False, with
   * nothing scanned, when the module's memory cannot hold the chunk (WebAssembly memory ends at
   * 4 GiB): the caller decodes those messages one by one.
   */
  scan(records: readonly SourceRecord[], from: number, to: number): boolean {
    const n = to - from;
    const k = this.keys.length;
    const spansAt = CHUNK_AT;
    const statusAt = spansAt + 8 * n;
    const codesAt = statusAt + n;
    const verdictsAt = codesAt + n * k;
    const valuesAt = (verdictsAt + n * this.targets.length + 7) & ~7;
    const rowsAt = valuesAt + 8 * n * k;
    const bytesAt = rowsAt + 8 * n * this.targets.reduce((sum, t) => sum + t.fields.length, 0);
    if (!reserve(bytesAt + READ_PAST)) return false;
    if (configured !== this) this.configure();
    // Each message's bytes copied after the last (a copy each is cheaper than finding out
    // whether they share a buffer: reading a Buffer's `buffer` takes longer than a short copy).
    let buffer = memory.buffer;
    let bytes = new Uint8Array(buffer);
    let spans = new Uint32Array(buffer, spansAt, 2 * n);
    let at = bytesAt;
    for (let i = 0; i < n; i++) {
      const v = records[from + i]!.value as Buffer;
      const end = at + v.length;
      if (end + READ_PAST > bytes.length) {
        if (!reserve(end + READ_PAST)) return false;
        buffer = memory.buffer;
        bytes = new Uint8Array(buffer);
        spans = new Uint32Array(buffer, spansAt, 2 * n);
      }
      bytes.set(v, at);
      spans[2 * i] = at;
      spans[2 * i + 1] = at = end;
    }
    this.refused = exports.scan(spansAt, n, statusAt, codesAt, valuesAt, verdictsAt, rowsAt);
    this.status = new Uint8Array(buffer, statusAt, n);
    let rows = rowsAt;
    this.targets.forEach((t, i) => {
      this.verdicts[i] = new Uint8Array(buffer, verdictsAt + n * i, n);
      this.rows[i] = new Float64Array(buffer, rows, n * t.fields.length);
      rows += 8 * n * t.fields.length;
    });
    return true;
  }
}

/** The most a 32-bit WebAssembly memory holds. */
const MAX_MEMORY = 65_536 * PAGE;

/**
 * Grows the module's memory to at least `bytes`, to twice that when it can (fewer grows as
 * chunks get larger); false when it cannot. Every view of the memory must be taken again after.
 */
function reserve(bytes: number): boolean {
  const have = memory.buffer.byteLength;
  if (bytes <= have) return true;
  if (bytes > MAX_MEMORY) return false;
  const pages = (target: number): number => Math.ceil((target - have) / PAGE);
  for (const target of [Math.min(2 * bytes, MAX_MEMORY), bytes]) {
    try {
      memory.grow(pages(target));
      return true;
    } catch {
      // the engine refused this much (its own limit, or the machine's): try the least that will do
    }
  }
  return false;
}

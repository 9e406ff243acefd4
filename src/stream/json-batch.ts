import type { SourceRecord } from './record.js';
import { JSON_SCAN_WASM } from './json-scan-wasm.js';

/**
 * The decoder's batch scanner: the top-level numeric fields of many JSON messages read in one
 * call into WebAssembly (assembly/json-scan.ts), instead of json-fields.ts's scan a message at a
 * time. A Kafka fetch holds its messages in one buffer, so a chunk's bytes go over in one copy.
 * It is sure or it gives up, message by message, as json-fields.ts does; a message it gives up
 * on is the JavaScript scanner's (and JSON.parse's), so every message decodes as before.
 *
 * Only flat paths (one segment, ASCII: `amount`, not `payload.amount`) are read here;
 * `BatchScanner.accepts` says whether a route's paths are.
 *
 * Memory: the module's own data, then from 64 KiB the configured keys (the scanner last used
 * writes its own), then a chunk's spans, outcomes, numbers and bytes, growing the memory as a
 * chunk needs. Growing detaches the views, so they are taken again after each scan.
 */

interface Exports {
  memory: WebAssembly.Memory;
  configure(table: number, n: number, seen: number, shape: number): void;
  scan(spans: number, n: number, bias: number, status: number, codes: number, values: number): void;
  dataEnd(): number;
}

const exports = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(JSON_SCAN_WASM, 'base64')), {}).exports as unknown as Exports;
const memory = exports.memory;

const PAGE = 65_536;
const KEYS_AT = PAGE;
/** The keys' table, their bytes, the duplicate marks and the shape: at most this much. */
const KEYS_BYTES = 16_384;
/** The scanner's record of the last message's members (assembly/json-scan.ts: 32 of 12 + 32 bytes). */
const SHAPE_BYTES = 32 * (12 + 32);
/** How far past a message the scanner may read (two 16-byte loads). */
const READ_PAST = 32;
const CHUNK_AT = KEYS_AT + KEYS_BYTES;
/** Messages per call: a longer run is scanned in parts. */
export const MAX_MESSAGES = 4096;
if (exports.dataEnd() > KEYS_AT) throw new Error(`json-batch: the module's data (${exports.dataEnd()} bytes) reaches past ${KEYS_AT}`);

/** The scanner whose keys are in the module now. */
let configured: BatchScanner | undefined;

export class BatchScanner {
  /** After `scan`: per message, 1 when it was read, 0 when given up on. */
  status = new Uint8Array(0);
  /** After `scan`: message i's field f outcome at i·fields + f (json-fields.ts's codes). */
  codes = new Uint8Array(0);
  /** After `scan`: message i's field f number at i·fields + f, when its code is FOUND. */
  values = new Float64Array(0);
  readonly fields: number;
  private readonly keys: Buffer[];

  /** Whether every path is one ASCII segment (a top-level key), and their keys fit. */
  static accepts(paths: readonly (readonly string[])[]): boolean {
    let bytes = 12 * paths.length + 8 + SHAPE_BYTES;
    for (const path of paths) {
      if (path.length !== 1 || !/^[\x20-\x7e]*$/.test(path[0]!)) return false;
      bytes += path[0]!.length;
    }
    return paths.length > 0 && bytes <= KEYS_BYTES;
  }

  /** Reads the keys `keys`, field f being keys[f] (BatchScanner.accepts must hold). */
  constructor(keys: readonly string[]) {
    this.keys = keys.map((k) => Buffer.from(k, 'latin1'));
    this.fields = keys.length;
  }

  private configure(): void {
    const k = this.fields;
    const view = new DataView(memory.buffer);
    const seen = KEYS_AT + 8 * k;
    let at = seen + 4 * k;
    this.keys.forEach((key, f) => {
      view.setUint32(KEYS_AT + 8 * f, at, true);
      view.setUint32(KEYS_AT + 8 * f + 4, key.length, true);
      new Uint8Array(memory.buffer, at, key.length).set(key);
      at += key.length;
    });
    exports.configure(KEYS_AT, k, seen, (at + 7) & ~7);
    configured = this;
  }

  /**
   * Scans the values of records [from, to), every one a Buffer, to < from + MAX_MESSAGES. The
   * results are in `status`, `codes` and `values` until the next scan.
   */
  scan(records: readonly SourceRecord[], from: number, to: number): void {
    const n = to - from;
    const k = this.fields;
    const spansAt = CHUNK_AT;
    const statusAt = spansAt + 8 * n;
    const codesAt = statusAt + n;
    const valuesAt = (codesAt + n * k + 7) & ~7;
    const bytesAt = valuesAt + 8 * n * k;
    reserve(bytesAt);
    // Each message's place in the buffer it came from, straight into the spans; and whether they
    // all came from one (a fetch's), close together (no more than a few times their own bytes).
    let spans = new Uint32Array(memory.buffer, spansAt, 2 * n);
    let shared: ArrayBufferLike | undefined = (records[from]!.value as Buffer).buffer;
    let low = Infinity;
    let high = 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const v = records[from + i]!.value as Buffer;
      const start = v.byteOffset;
      const end = start + v.length;
      spans[2 * i] = start;
      spans[2 * i + 1] = end;
      total += end - start;
      if (v.buffer !== shared) shared = undefined;
      if (start < low) low = start;
      if (end > high) high = end;
    }
    const span = shared !== undefined && high - low <= 4 * total + PAGE ? high - low : -1;
    reserve(bytesAt + (span >= 0 ? span : total) + READ_PAST);
    const buffer = memory.buffer;
    if (configured !== this) this.configure();
    const bytes = new Uint8Array(buffer);
    let bias = 0;
    if (span >= 0) {
      // One copy of the span; the spans move by where it lands.
      bytes.set(new Uint8Array(shared!, low, span), bytesAt);
      bias = (bytesAt - low) >>> 0;
    } else {
      spans = new Uint32Array(buffer, spansAt, 2 * n);
      let at = bytesAt;
      for (let i = 0; i < n; i++) {
        const v = records[from + i]!.value as Buffer;
        bytes.set(v, at);
        spans[2 * i] = at;
        spans[2 * i + 1] = at += v.length;
      }
    }
    exports.scan(spansAt, n, bias, statusAt, codesAt, valuesAt);
    this.status = new Uint8Array(buffer, statusAt, n);
    this.codes = new Uint8Array(buffer, codesAt, n * k);
    this.values = new Float64Array(buffer, valuesAt, n * k);
  }
}

/** Grows the module's memory to at least `bytes`; every view of it must be taken again after. */
function reserve(bytes: number): void {
  const have = memory.buffer.byteLength;
  if (bytes > have) memory.grow(Math.ceil((bytes - have) / PAGE));
}

import type { RejectReason } from './decode.js';
import { KeyShape } from './json-shape.js';

/**
 * Reads the values at a few dotted paths straight from the bytes of a JSON message, without
 * JSON.parse: no string for the message, no objects, no garbage. It is the decoder's fast
 * path, and it only answers when it is sure to agree with JSON.parse and the property reads
 * that follow it (see `readNumber` in decode.ts); otherwise `scan` returns false and the
 * decoder parses. It gives up on:
 *
 * - anything that is not a valid JSON text, or whose top level is not an object (the reject
 *   reason is then JSON.parse's to decide);
 * - an escape in a key of an object on a path (the key might spell a path segment), or in a
 *   string value at a path; bytes ≥ 0x80 in either (UTF-8 decoding would be needed);
 * - a key on a path that appears twice in one object (JSON.parse keeps the last);
 * - an array on a path whose next segment is not a canonical array index (`length`, `01`);
 * - nesting deeper than MAX_DEPTH.
 *
 * Elsewhere, string contents are checked for JSON validity only (escapes well formed, no raw
 * control characters); bytes ≥ 0x80 are passed over, as UTF-8 decoding never turns them into
 * a quote, a backslash or a control character, nor swallows an ASCII byte after them.
 */

/** A field's outcome after a scan: FOUND (its number is in `values`), or a reason. */
export const FOUND = 0;
const MISSING = 1;
const NOT_NUMERIC = 2;
const NOT_FINITE = 3;
export const SCAN_REASONS: readonly (RejectReason | undefined)[] = [undefined, 'missing_field', 'not_numeric', 'not_finite'];

/** Deeper than this, leave it to JSON.parse. */
const MAX_DEPTH = 64;
/** Largest array index (2^32 − 2); a larger numeric segment is not an index. */
const MAX_INDEX = 4_294_967_294;
/** 10^0 … 10^22: every one an exact double. */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));
const NON_FINITE_WORD = /^\s*[+-]?(nan|inf|infinity)\s*$/i;

/**
 * A numeric string as the decoder reads it: producers often send decimals as text. Shared by
 * both paths, so that they agree.
 */
export function numberFromString(v: string): number | RejectReason {
  if (v.trim() === '') return 'not_numeric';
  const x = Number(v);
  if (Number.isFinite(x)) return x;
  return Number.isNaN(x) && !NON_FINITE_WORD.test(v) ? 'not_numeric' : 'not_finite';
}

interface PathNode {
  /** The segment's UTF-8 bytes. */
  key: Buffer;
  /** The segment as an array index; -1 when it is not a canonical one. */
  index: number;
  /** The field slot whose path ends here; -1 when none does. */
  slot: number;
  children: PathNode[];
  /** The children by their key's byte length: most keys in a message are on no path, and most differ in length from every one that is. */
  byLength: (PathNode[] | undefined)[];
  /** Every child is a canonical array index: an array here can be walked. */
  indexable: boolean;
  /** Every child key is ASCII: a key with other bytes matches none of them. */
  asciiKeys: boolean;
  /** The scan that last met this node's key: a second meeting is a duplicate key. */
  seen: number;
  /** A field ends here and no path goes deeper. */
  leaf: boolean;
  /** The members this object had in the last message (when it is an object). */
  shape: KeyShape<PathNode>;
}

function node(segment: string): PathNode {
  const canonical = /^(0|[1-9][0-9]*)$/.test(segment) && Number(segment) <= MAX_INDEX;
  return { key: Buffer.from(segment, 'utf8'), index: canonical ? Number(segment) : -1, slot: -1, children: [], byLength: [], indexable: true, asciiKeys: true, seen: 0, leaf: false, shape: new KeyShape() };
}

// Every read is bounds-checked by hand (`p < n ? b[p]! : -1`): a typed-array read past the end
// yields undefined, and a load site that has seen one is compiled slower from then on.

function ws(b: Uint8Array, p: number, n: number): number {
  while (p < n) {
    const c = b[p]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return p;
    p++;
  }
  return p;
}

/** A key's bytes by class, one table look-up a byte: as is (ASCII, or ≥ 0x80), its closing quote, or a give-up (an escape, a control character). */
const KEY_ASCII = 0;
const KEY_HIGH = 1;
const KEY_END = 2;
const KEY_GIVE_UP = 3;
const KEY_BYTE = Uint8Array.from({ length: 256 }, (_, c) =>
  c === 0x22 ? KEY_END : c === 0x5c || c < 0x20 ? KEY_GIVE_UP : c >= 0x80 ? KEY_HIGH : KEY_ASCII,
);

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** After the backslash at p - 1: the position after a valid escape, or -1. */
function escape(b: Uint8Array, p: number, n: number): number {
  const c = p < n ? b[p]! : -1;
  if (c === 0x22 || c === 0x5c || c === 0x2f || c === 0x62 || c === 0x66 || c === 0x6e || c === 0x72 || c === 0x74) return p + 1;
  if (c !== 0x75 || p + 4 >= n) return -1;
  return isHex(b[p + 1]!) && isHex(b[p + 2]!) && isHex(b[p + 3]!) && isHex(b[p + 4]!) ? p + 5 : -1;
}

/** From after the opening quote: the position after the closing one, or -1. */
function skipString(b: Uint8Array, p: number, n: number): number {
  for (;;) {
    let c = -1;
    while (p < n && (c = b[p]!) !== 0x22 && c !== 0x5c && c >= 0x20) p++;
    if (p >= n) return -1;
    if (c === 0x22) return p + 1;
    if (c !== 0x5c) return -1;
    p = escape(b, p + 1, n);
    if (p < 0) return -1;
  }
}

/** Past a run of digits from p. */
function digits(b: Uint8Array, p: number, n: number): number {
  while (p < n && ((b[p]! - 0x30) >>> 0) <= 9) p++;
  return p;
}

/** A JSON number from p: the position after it, or -1. */
function skipNumber(b: Uint8Array, p: number, n: number): number {
  if (p < n && b[p] === 0x2d) p++;
  let c = p < n ? b[p]! : -1;
  if (c === 0x30) p++;
  else if (c >= 0x31 && c <= 0x39) p = digits(b, p + 1, n);
  else return -1;
  c = p < n ? b[p]! : -1;
  if (c === 0x2e) {
    const q = digits(b, p + 1, n);
    if (q === p + 1) return -1;
    p = q;
    c = p < n ? b[p]! : -1;
  }
  if (c === 0x65 || c === 0x45) {
    p++;
    c = p < n ? b[p]! : -1;
    if (c === 0x2b || c === 0x2d) p++;
    const q = digits(b, p, n);
    if (q === p) return -1;
    p = q;
  }
  return p;
}

const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];

function literal(b: Uint8Array, p: number, n: number, word: readonly number[]): number {
  if (p + word.length > n) return -1;
  for (let i = 0; i < word.length; i++) if (b[p + i] !== word[i]) return -1;
  return p + word.length;
}

function skipValue(b: Uint8Array, p: number, n: number, depth: number): number {
  switch (p < n ? b[p]! : -1) {
    case 0x22:
      return skipString(b, p + 1, n);
    case 0x7b:
      return skipObject(b, p + 1, n, depth + 1);
    case 0x5b:
      return skipArray(b, p + 1, n, depth + 1);
    case 0x74:
      return literal(b, p, n, TRUE);
    case 0x66:
      return literal(b, p, n, FALSE);
    case 0x6e:
      return literal(b, p, n, NULL);
    default:
      return skipNumber(b, p, n);
  }
}

/** From after `{`: validates the object, the position after `}`, or -1. */
function skipObject(b: Uint8Array, p: number, n: number, depth: number): number {
  if (depth > MAX_DEPTH) return -1;
  p = ws(b, p, n);
  if (p < n && b[p] === 0x7d) return p + 1;
  for (;;) {
    if (p >= n || b[p] !== 0x22) return -1;
    p = skipString(b, p + 1, n);
    if (p < 0) return -1;
    p = ws(b, p, n);
    if (p >= n || b[p] !== 0x3a) return -1;
    p = skipValue(b, ws(b, p + 1, n), n, depth);
    if (p < 0) return -1;
    p = ws(b, p, n);
    const c = p < n ? b[p]! : -1;
    if (c === 0x7d) return p + 1;
    if (c !== 0x2c) return -1;
    p = ws(b, p + 1, n);
  }
}

function skipArray(b: Uint8Array, p: number, n: number, depth: number): number {
  if (depth > MAX_DEPTH) return -1;
  p = ws(b, p, n);
  if (p < n && b[p] === 0x5d) return p + 1;
  for (;;) {
    p = skipValue(b, p, n, depth);
    if (p < 0) return -1;
    p = ws(b, p, n);
    const c = p < n ? b[p]! : -1;
    if (c === 0x5d) return p + 1;
    if (c !== 0x2c) return -1;
    p = ws(b, p + 1, n);
  }
}

/** The child whose key is b[from, to), if any. */
function child(at: PathNode, b: Uint8Array, from: number, to: number): PathNode | undefined {
  const len = to - from;
  const candidates = len < at.byLength.length ? at.byLength[len] : undefined;
  if (candidates === undefined) return undefined;
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i]!;
    const key = c.key;
    let j = 0;
    while (j < len && key[j] === b[from + j]) j++;
    if (j === len) return c;
  }
  return undefined;
}

/**
 * Scans messages for a fixed list of dotted paths. After a successful `scan`, `codes[slot]` is
 * FOUND (and `values[slot]` the number) or the index of a reason in SCAN_REASONS, for each
 * path in the order given to the constructor.
 */
export class FieldScanner {
  readonly values: Float64Array;
  readonly codes: Uint8Array;
  private readonly root: PathNode;
  private scans = 0;
  /** The message's bytes as words (KeyShape.match), through a view of its whole ArrayBuffer: the messages of a Kafka fetch share one. */
  private words: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private wordsOf: ArrayBufferLike = this.words.buffer;
  /** Where the message starts in `words`; -1 until looked up. */
  private base = -1;

  constructor(paths: readonly (readonly string[])[]) {
    this.values = new Float64Array(paths.length);
    this.codes = new Uint8Array(paths.length);
    this.root = node('');
    paths.forEach((path, slot) => {
      let at = this.root;
      for (const segment of path) {
        let next = at.children.find((c) => c.key.equals(Buffer.from(segment, 'utf8')));
        if (next === undefined) {
          next = node(segment);
          at.children.push(next);
          (at.byLength[next.key.length] ??= []).push(next);
          if (next.index < 0) at.indexable = false;
          if (next.key.some((x) => x >= 0x80)) at.asciiKeys = false;
        }
        at = next;
      }
      if (at.slot >= 0) throw new Error(`path ${path.join('.')} given twice`);
      at.slot = slot;
    });
    const leaves = (at: PathNode): void => {
      at.leaf = at.slot >= 0 && at.children.length === 0;
      at.children.forEach(leaves);
    };
    leaves(this.root);
  }

  /** True when the message is a JSON object and every path was read; false: JSON.parse it. */
  scan(b: Buffer): boolean {
    const codes = this.codes;
    for (let i = 0; i < codes.length; i++) codes[i] = MISSING;
    this.scans++;
    this.base = -1; // looked up at the first member compared (Buffer's buffer and byteOffset cost ~20 ns)
    const n = b.length;
    let p = ws(b, 0, n);
    if (p >= n || b[p] !== 0x7b) return false;
    p = this.object(this.root, b, p + 1, n, 1);
    return p >= 0 && ws(b, p, n) === n;
  }

  private viewOf(b: Buffer): void {
    if (b.buffer !== this.wordsOf) {
      this.wordsOf = b.buffer;
      this.words = new DataView(b.buffer);
    }
    this.base = b.byteOffset;
  }

  /** From after `{` of an object on a path. */
  private object(at: PathNode, b: Buffer, p: number, n: number, depth: number): number {
    if (depth > MAX_DEPTH) return -1;
    p = ws(b, p, n);
    if (p < n && b[p] === 0x7d) return p + 1;
    const shape = at.shape;
    shape.enter();
    for (let member = 0; ; member++) {
      if (p >= n || b[p] !== 0x22) return -1;
      let next: PathNode | undefined;
      let known = 0;
      if (member < shape.count) {
        if (this.base < 0) this.viewOf(b);
        known = shape.match(member, this.words, this.base + p, this.base + n);
        if (known === 0) shape.missed(member);
      }
      if (known > 0) {
        next = shape.meaning(member);
        p = ws(b, p + known, n);
      } else {
        const from = p + 1;
        let q = from;
        let k = KEY_END;
        let high = 0;
        while (q < n && (k = KEY_BYTE[b[q]!]!) <= KEY_HIGH) {
          high |= k;
          q++;
        }
        if (k !== KEY_END || q >= n) return -1;
        const ascii = high === 0;
        if (!ascii && !at.asciiKeys) return -1;
        next = ascii ? child(at, b, from, q) : undefined;
        const colon = ws(b, q + 1, n);
        if (colon >= n || b[colon] !== 0x3a) return -1;
        if (colon === q + 1) shape.learn(member, b, from - 1, colon + 1, next);
        p = ws(b, colon + 1, n);
      }
      if (next === undefined) {
        // Numbers and strings first: skipValue's switch tries them last.
        const c = p < n ? b[p]! : -1;
        p = c === 0x22 ? skipString(b, p + 1, n) : c === 0x2d || (c >= 0x30 && c <= 0x39) ? skipNumber(b, p, n) : skipValue(b, p, n, depth);
      } else {
        if (next.seen === this.scans) return -1; // a duplicate key: JSON.parse keeps the last
        next.seen = this.scans;
        // A number ends most paths: read it here (value() recurses, so V8 cannot inline it).
        const c = p < n ? b[p]! : -1;
        p = next.leaf && (c === 0x2d || (c >= 0x30 && c <= 0x39)) ? this.number(next.slot, b, p, n) : this.value(next, b, p, n, depth);
      }
      if (p < 0) return -1;
      p = ws(b, p, n);
      const c = p < n ? b[p]! : -1;
      if (c === 0x7d) return p + 1;
      if (c !== 0x2c) return -1;
      p = ws(b, p + 1, n);
    }
  }

  /** From after `[` of an array on a path whose children are all indices. */
  private array(at: PathNode, b: Buffer, p: number, n: number, depth: number): number {
    if (depth > MAX_DEPTH) return -1;
    p = ws(b, p, n);
    if (p < n && b[p] === 0x5d) return p + 1;
    for (let i = 0; ; i++) {
      let next: PathNode | undefined;
      for (const c of at.children) if (c.index === i) next = c;
      p = next === undefined ? skipValue(b, p, n, depth) : this.value(next, b, p, n, depth);
      if (p < 0) return -1;
      p = ws(b, p, n);
      const c = p < n ? b[p]! : -1;
      if (c === 0x5d) return p + 1;
      if (c !== 0x2c) return -1;
      p = ws(b, p + 1, n);
    }
  }

  /** The value at a path node from p: records a field ending here, walks into it for deeper ones. */
  private value(at: PathNode, b: Buffer, p: number, n: number, depth: number): number {
    const slot = at.slot;
    const c = p < n ? b[p]! : -1;
    if (c === 0x7b || c === 0x5b) {
      if (slot >= 0) this.codes[slot] = NOT_NUMERIC;
      if (at.children.length === 0) return c === 0x7b ? skipObject(b, p + 1, n, depth + 1) : skipArray(b, p + 1, n, depth + 1);
      if (c === 0x7b) return this.object(at, b, p + 1, n, depth + 1);
      return at.indexable ? this.array(at, b, p + 1, n, depth + 1) : -1;
    }
    // A primitive: deeper paths through it are missing (the default).
    if (slot < 0) return skipValue(b, p, n, depth);
    if (c === 0x22) {
      let q = p + 1;
      for (;;) {
        if (q >= n) return -1;
        const s = b[q]!;
        if (s === 0x22) break;
        if (s === 0x5c || s < 0x20 || s >= 0x80) return -1;
        q++;
      }
      const x = numberFromString(b.toString('latin1', p + 1, q));
      if (typeof x === 'number') {
        this.codes[slot] = FOUND;
        this.values[slot] = x;
      } else this.codes[slot] = x === 'not_finite' ? NOT_FINITE : NOT_NUMERIC;
      return q + 1;
    }
    if (c === 0x74 || c === 0x66) {
      this.codes[slot] = NOT_NUMERIC;
      return literal(b, p, n, c === 0x74 ? TRUE : FALSE);
    }
    if (c === 0x6e) return literal(b, p, n, NULL); // null is missing
    return this.number(slot, b, p, n);
  }

  /**
   * A JSON number at p, converted as JSON.parse does (correctly rounded). Up to 15 significant
   * digits and a decimal exponent within ±22, mantissa and power of ten are exact doubles, so
   * one multiplication or division rounds correctly; otherwise Number() of the text. The
   * common short decimal ends here, in a function small enough for V8 to inline into `object`;
   * an exponent or a long mantissa goes on in `numberTail`.
   */
  private number(slot: number, b: Buffer, p: number, n: number): number {
    const start = p;
    const negative = p < n && b[p] === 0x2d;
    if (negative) p++;
    // Mantissa digits, counted by position. Below 2^53 (more than 15 digits are not exact anyway)
    // every step is exact.
    let m = 0;
    let digits = 0;
    let scale = 0;
    let c = p < n ? b[p]! : -1;
    if (c === 0x30) c = ++p < n ? b[p]! : -1;
    else if (c >= 0x31 && c <= 0x39) {
      const from = p;
      do {
        m = m * 10 + (c - 0x30);
        c = ++p < n ? b[p]! : -1;
      } while (c >= 0x30 && c <= 0x39);
      digits = p - from;
    } else return -1;
    if (c === 0x2e) {
      const from = ++p;
      c = p < n ? b[p]! : -1;
      if (c < 0x30 || c > 0x39) return -1;
      do {
        m = m * 10 + (c - 0x30);
        c = ++p < n ? b[p]! : -1;
      } while (c >= 0x30 && c <= 0x39);
      scale = from - p;
      digits -= scale;
    }
    if (c === 0x65 || c === 0x45 || digits > 15) return this.numberTail(slot, b, start, p, n, m, digits, scale, negative);
    // Here 0 ≥ scale ≥ -digits ≥ -15 and m < 10^15: exact, and finite.
    const x = scale < 0 ? m / POW10[-scale]! : m;
    this.codes[slot] = FOUND;
    this.values[slot] = negative ? -x : x;
    return p;
  }

  /** `number` past the mantissa (m, its digit count, its scale), at p: the exponent if any, and the conversion. */
  private numberTail(slot: number, b: Buffer, start: number, p: number, n: number, m: number, digits: number, scale: number, negative: boolean): number {
    let exact = digits <= 15;
    let c = p < n ? b[p]! : -1;
    if (c === 0x65 || c === 0x45) {
      c = ++p < n ? b[p]! : -1;
      let sign = 1;
      if (c === 0x2b || c === 0x2d) {
        if (c === 0x2d) sign = -1;
        c = ++p < n ? b[p]! : -1;
      }
      if (c < 0x30 || c > 0x39) return -1;
      let e = 0;
      do {
        if (e < 1000) e = e * 10 + (c - 0x30);
        else exact = false;
        c = ++p < n ? b[p]! : -1;
      } while (c >= 0x30 && c <= 0x39);
      scale += sign * e;
    }
    let x: number;
    if (exact && scale >= -22 && scale <= 22) {
      x = scale < 0 ? m / POW10[-scale]! : m * POW10[scale]!;
      if (negative) x = -x;
    } else x = Number(b.toString('latin1', start, p));
    if (x - x === 0) {
      this.codes[slot] = FOUND;
      this.values[slot] = x;
    } else this.codes[slot] = NOT_FINITE;
    return p;
  }
}

// The decoder's batch scanner (src/stream/json-batch.ts), compiled to WebAssembly by
// scripts/build-wasm.mjs: reads a few top-level numeric fields out of many JSON messages in one
// call. It is json-fields.ts's fast path for flat paths, with the same rule: it answers for a
// message only when it is sure to agree with JSON.parse and the property reads that follow it
// (decode.ts), and gives up on the message otherwise, leaving it to the JavaScript scanner. It
// gives up on anything that is not a valid JSON object, an escape in a top-level key, a field
// key twice, a string at a field (numeric strings are the JavaScript side's to read), a number
// that one correctly rounded operation cannot convert, and nesting deeper than MAX_DEPTH.
//
// Addresses are byte offsets into this module's memory, laid out by json-batch.ts. A message
// is bytes [start, end); every read is checked against its end, as the bytes after it belong
// to the next message. Runs of string bytes and of digits are found 8 or 16 bytes at a time
// (64-bit words, SIMD), and a repeated member's bytes compared 16 at a time: those loads may
// reach up to 31 bytes past a message's end (json-batch.ts leaves that much room after the
// last), and what lies past the end is masked off.

/** Outcomes per field, as json-fields.ts numbers them. */
const FOUND: u8 = 0;
const MISSING: u8 = 1;
const NOT_NUMERIC: u8 = 2;

/** Deeper than this, give up (json-fields.ts's limit: the top-level object is depth 1). */
const MAX_DEPTH: i32 = 64;

/** A failed read: no message lies at address 0 (the first 64 KiB hold this module's data). */
const FAIL: usize = 0;

/** 10^0 … 10^22: every one an exact double. */
const POW10: StaticArray<f64> = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];
/** 10^0 … 10^15 as integers, for mantissas. */
const POW10I: StaticArray<i64> = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000, 10000000000, 100000000000, 1000000000000, 10000000000000, 100000000000000, 1000000000000000];

/** The fields' keys: `keyCount` entries of (address, length) as two u32 at `keyTable`. */
let keyTable: usize = 0;
let keyCount: i32 = 0;
/** Per field, the message that last met its key (u32 each): a second meeting is a duplicate. */
let seenTable: usize = 0;
let message: u32 = 0;

/**
 * The top-level members of the last message read, after json-shape.ts: messages from one
 * producer mostly repeat their keys in the same order, so member i is first compared, 16 bytes
 * at a time, with the bytes member i had last time from its separator to its colon (`,"key":`,
 * whitespace and all), instead of reading its key and looking it up. Identical bytes mean an identical key, so the outcome is the one reading the
 * key would have had. Entry i (SHAPE_ENTRY bytes): its length, its field (-1 for none), the
 * bytes.
 */
const SHAPE_MEMBERS: i32 = 32;
const SHAPE_KEY: u32 = 32;
/** An entry: the length (u32), the field (i32), 8 bytes unused, then the SHAPE_KEY bytes. */
const SHAPE_ENTRY: usize = 16 + <usize>SHAPE_KEY;
let shapeTable: usize = 0;
let shapeCount: i32 = 0;

/**
 * The targets (streams) the fields feed: `targetCount` entries of 16 bytes at `targetTable`,
 * each its dimension d, then the addresses of its d field numbers (i32) and of its d lower and
 * d upper bounds (f64).
 */
let targetTable: usize = 0;
let targetCount: i32 = 0;
/** A target's verdict on a message: its vector, or why not (json-fields.ts's codes, then this). */
const VECTOR: u8 = 0;
const OUT_OF_BOUNDS: u8 = 4;

/**
 * Sets the fields read by `scan`: keys as (address, length) pairs at `table`; `seen` has room
 * for n u32; `shape` for SHAPE_MEMBERS · SHAPE_ENTRY bytes; the targets' table (see
 * `targetTable`). The shape starts empty.
 */
export function configure(table: usize, n: i32, seen: usize, shape: usize, targets: usize, t: i32): void {
  keyTable = table;
  keyCount = n;
  seenTable = seen;
  memory.fill(seen, 0, (<usize>n) << 2);
  message = 0;
  shapeTable = shape;
  shapeCount = 0;
  targetTable = targets;
  targetCount = t;
}

/** Whether the bytes from p are those of the shape entry at `entry` (p + its length ≤ the end; both may be read 32 bytes long). */
// @ts-ignore: decorator
@inline
function same(p: usize, entry: usize, len: u32): bool {
  const low = lanes(len);
  if ((i8x16.bitmask(i8x16.eq(v128.load(p), v128.load(entry, 16))) & low) != low) return false;
  if (len <= 16) return true;
  const rest = lanes(<usize>len - 16);
  return (i8x16.bitmask(i8x16.eq(v128.load(p, 16), v128.load(entry, 32))) & rest) == rest;
}

/**
 * Scans n messages, message i being bytes [spans[2i], spans[2i + 1]) (u32 pairs). For each,
 * status[i] is 1 when it was read, 0 when it was given up on.
 * For a message read, codes[i·k + f] is field f's outcome and values[i·k + f] its number when
 * FOUND; and for each target t, verdicts[t·n + i] is VECTOR (its vector is then row i of the
 * target's rows, which follow one another from `rows`, n·d doubles each) or the reason it
 * has none, decided as decode.ts's `emit` does: the first field, in the target's order, that
 * is not FOUND gives its code, or, FOUND, is out of bounds. Returns how many verdicts on the
 * messages read are not VECTOR.
 */
export function scan(spans: usize, n: i32, status: usize, codes: usize, values: usize, verdicts: usize, rows: usize): i32 {
  const k = <usize>keyCount;
  let refused: i32 = 0;
  for (let i = 0; i < n; i++) {
    const at = spans + ((<usize>i) << 3);
    const row = codes + (<usize>i) * k;
    const numbers = values + (((<usize>i) * k) << 3);
    // A loop, not memory.fill: V8 calls out of the module for that, at ~20 ns a call.
    for (let f: usize = 0; f < k; f++) store<u8>(row + f, MISSING);
    message++;
    const ok = object(<usize>load<u32>(at), <usize>load<u32>(at, 4), row, numbers);
    store<u8>(status + <usize>i, ok ? 1 : 0);
    if (!ok) continue;
    let out = rows;
    for (let t = 0; t < targetCount; t++) {
      const entry = targetTable + ((<usize>t) << 4);
      const d = <usize>load<u32>(entry);
      const fields = <usize>load<u32>(entry, 4);
      const min = <usize>load<u32>(entry, 8);
      const max = <usize>load<u32>(entry, 12);
      const vector = out + (((<usize>i) * d) << 3);
      let verdict = VECTOR;
      for (let j: usize = 0; j < d; j++) {
        const f = <usize>load<i32>(fields + (j << 2));
        const code = load<u8>(row + f);
        if (code != FOUND) {
          verdict = code;
          break;
        }
        const x = load<f64>(numbers + (f << 3));
        if (x < load<f64>(min + (j << 3)) || x > load<f64>(max + (j << 3))) {
          verdict = OUT_OF_BOUNDS;
          break;
        }
        store<f64>(vector + (j << 3), x);
      }
      store<u8>(verdicts + (<usize>t) * (<usize>n) + <usize>i, verdict);
      if (verdict != VECTOR) refused++;
      out += ((<usize>n) * d) << 3;
    }
  }
  return refused;
}

// @ts-ignore: decorator
@inline
function isWs(c: u32): bool {
  return c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09;
}

// @ts-ignore: decorator
@inline
function ws(p: usize, n: usize): usize {
  // Most tokens follow one another without whitespace: one comparison says so.
  while (p < n) {
    const c = <u32>load<u8>(p);
    if (c > 0x20 || !isWs(c)) break;
    p++;
  }
  return p;
}

// @ts-ignore: decorator
@inline
function isDigit(c: u32): bool {
  return c - 0x30 <= 9;
}

function isHex(c: u32): bool {
  return c - 0x30 <= 9 || (c | 0x20) - 0x61 <= 5;
}

/** Lanes [0, min(k, 16)) of a 16-bit lane mask. */
// @ts-ignore: decorator
@inline
function lanes(k: usize): i32 {
  return k >= 16 ? 0xffff : (1 << <i32>k) - 1;
}

/** The first byte in [p, n) that ends a run of string contents (a quote, a backslash, a control character), or n. */
// @ts-ignore: decorator
@inline
function stringStop(p: usize, n: usize): usize {
  while (p < n) {
    const v = v128.load(p);
    const stops = v128.or(v128.or(i8x16.eq(v, i8x16.splat(0x22)), i8x16.eq(v, i8x16.splat(0x5c))), i8x16.lt_u(v, i8x16.splat(0x20)));
    const m = i8x16.bitmask(stops) & lanes(n - p);
    if (m != 0) return p + <usize>ctz(m);
    p += 16;
  }
  return n;
}

/**
 * How many of the 8 bytes from p (and before n) are digits, in a row: one 8-byte load, each
 * byte's high bit set where it is not a digit (x ^ '0' above 9, without carries between bytes).
 */
// @ts-ignore: decorator
@inline
function run8(p: usize, n: usize): usize {
  const a = load<u64>(p) ^ 0x3030303030303030;
  let other = (((a & 0x7f7f7f7f7f7f7f7f) + 0x7676767676767676) | a) & 0x8080808080808080;
  const left = n - p;
  if (left < 8) other |= 0x8080808080808080 << (<u64>left << 3);
  return other == 0 ? 8 : <usize>(ctz(other) >> 3);
}

/** Past a run of digits from p (at most to n): most runs are within 8 bytes; longer ones go on 16 at a time. */
// @ts-ignore: decorator
@inline
function digits(p: usize, n: usize): usize {
  if (p >= n) return p;
  const k = run8(p, n);
  if (k < 8) return p + k;
  p += 8;
  while (p < n) {
    const v = v128.load(p);
    const other = i8x16.gt_u(i8x16.sub(v, i8x16.splat(0x30)), i8x16.splat(9));
    const m = (i8x16.bitmask(other) | ~lanes(n - p)) & 0xffff;
    if (m != 0) return p + <usize>ctz(m);
    p += 16;
  }
  return n;
}

/** From after the opening quote: the address after the closing one, or FAIL. */
function skipString(p: usize, n: usize): usize {
  while (true) {
    p = stringStop(p, n);
    if (p >= n) return FAIL;
    const c = <u32>load<u8>(p);
    if (c == 0x22) return p + 1;
    if (c != 0x5c || p + 1 >= n) return FAIL;
    const e = <u32>load<u8>(p + 1);
    if (e == 0x22 || e == 0x5c || e == 0x2f || e == 0x62 || e == 0x66 || e == 0x6e || e == 0x72 || e == 0x74) p += 2;
    else if (e == 0x75 && p + 5 < n && isHex(load<u8>(p + 2)) && isHex(load<u8>(p + 3)) && isHex(load<u8>(p + 4)) && isHex(load<u8>(p + 5))) p += 6;
    else return FAIL;
  }
}

/** A JSON number from p: the address after it, or FAIL. */
function skipNumber(p: usize, n: usize): usize {
  if (p < n && load<u8>(p) == 0x2d) p++;
  if (p >= n) return FAIL;
  let c = <u32>load<u8>(p);
  if (c == 0x30) p++;
  else if (c - 0x31 <= 8) p = digits(p + 1, n);
  else return FAIL;
  c = p < n ? <u32>load<u8>(p) : 0;
  if (c == 0x2e) {
    const q = digits(p + 1, n);
    if (q == p + 1) return FAIL;
    p = q;
    c = p < n ? <u32>load<u8>(p) : 0;
  }
  if (c == 0x65 || c == 0x45) {
    p++;
    if (p < n && (load<u8>(p) == 0x2b || load<u8>(p) == 0x2d)) p++;
    const q = digits(p, n);
    if (q == p) return FAIL;
    p = q;
  }
  return p;
}

/** `true`, `false` or `null` at p (its first byte already seen): the address after it, or FAIL. */
function literal(p: usize, n: usize): usize {
  const c = load<u8>(p);
  // The words' bytes as little-endian integers: "true", "null" (4 bytes), "fals" then "e".
  if (c == 0x66) return p + 5 <= n && load<u32>(p) == 0x736c6166 && load<u8>(p + 4) == 0x65 ? p + 5 : FAIL;
  if (p + 4 > n) return FAIL;
  const w = load<u32>(p);
  return (c == 0x74 && w == 0x65757274) || (c == 0x6e && w == 0x6c6c756e) ? p + 4 : FAIL;
}

/** A primitive value (string, number, literal) at p: the address after it, or FAIL. */
function skipPrimitive(p: usize, n: usize): usize {
  const c = <u32>load<u8>(p);
  if (c == 0x22) return skipString(p + 1, n);
  if (c == 0x74 || c == 0x66 || c == 0x6e) return literal(p, n);
  return skipNumber(p, n);
}

/**
 * An object or array at p (`{` or `[`), at nesting depth `depth` (the top-level object's
 * members are at 2): validated without recursion, the open containers one bit each (1: object)
 * of a 64-bit stack. The address after it, or FAIL.
 */
function skipContainer(p: usize, n: usize, depth: i32): usize {
  let stack: u64 = 0;
  let open: i32 = 0;
  // Each pass starts at a value (p at its first byte), opening it if it is a container.
  while (true) {
    let c = <u32>load<u8>(p);
    if (c == 0x7b || c == 0x5b) {
      if (depth + open > MAX_DEPTH) return FAIL;
      const isObject = c == 0x7b;
      stack = (stack << 1) | (isObject ? 1 : 0);
      open++;
      p = ws(p + 1, n);
      if (p >= n) return FAIL;
      c = <u32>load<u8>(p);
      if (c == (isObject ? 0x7d : 0x5d)) {
        p++;
        // Closed at once: fall through to what follows it.
        stack >>= 1;
        open--;
        if (open == 0) return p;
      } else {
        if (isObject) {
          if (c != 0x22) return FAIL;
          p = skipString(p + 1, n);
          if (p == FAIL) return FAIL;
          p = ws(p, n);
          if (p >= n || load<u8>(p) != 0x3a) return FAIL;
          p = ws(p + 1, n);
          if (p >= n) return FAIL;
        }
        continue; // a member's or element's value
      }
    } else {
      p = skipPrimitive(p, n);
      if (p == FAIL) return FAIL;
    }
    // After a value: a comma and the next, or the close of the container (and of those it ends).
    while (true) {
      p = ws(p, n);
      if (p >= n) return FAIL;
      c = <u32>load<u8>(p);
      const inObject = (stack & 1) != 0;
      if (c == 0x2c) {
        p = ws(p + 1, n);
        if (p >= n) return FAIL;
        if (inObject) {
          if (load<u8>(p) != 0x22) return FAIL;
          p = skipString(p + 1, n);
          if (p == FAIL) return FAIL;
          p = ws(p, n);
          if (p >= n || load<u8>(p) != 0x3a) return FAIL;
          p = ws(p + 1, n);
          if (p >= n) return FAIL;
        }
        break; // the next value
      }
      if (c != (inObject ? 0x7d : 0x5d)) return FAIL;
      p++;
      stack >>= 1;
      open--;
      if (open == 0) return p;
    }
  }
}

/**
 * k digits (1 ≤ k ≤ 8) at p as an integer, all at once: 8 bytes read (json-batch.ts leaves room
 * past the end), the first k kept as the high bytes (the low ones zero: leading zeros), then
 * neighbouring digits, pairs and quads combined by three multiplications.
 */
// @ts-ignore: decorator
@inline
function eight(p: usize, k: usize): i64 {
  let v = (load<u64>(p) & 0x0f0f0f0f0f0f0f0f) << ((8 - <u64>k) << 3);
  v = (v * 2561) >> 8;
  v = ((v & 0x00ff00ff00ff00ff) * 6553601) >> 16;
  return <i64>(((v & 0x0000ffff0000ffff) * 42949672960001) >> 32);
}

/** The digits [from, to) as an integer; at most 16 of them. */
// @ts-ignore: decorator
@inline
function integer(from: usize, to: usize): i64 {
  const k = to - from;
  if (k == 0) return 0;
  if (k <= 8) return eight(from, k);
  return eight(from, k - 8) * 100000000 + eight(to - 8, 8);
}

/**
 * A JSON number at p for field f, converted as JSON.parse does: up to 15 significant digits
 * and a decimal exponent within ±22, mantissa and power of ten are exact doubles, so one
 * multiplication or division rounds correctly (json-fields.ts, `number`). Any other number
 * gives up (FAIL), as does a malformed one. The mantissa is summed as an integer: a chain of
 * double multiply-adds, a digit at a time, took twice as long.
 */
function number(p: usize, n: usize, code: usize, value: usize): usize {
  const negative = load<u8>(p) == 0x2d;
  if (negative) p++;
  if (p >= n) return FAIL;
  // The integer part: 0, or digits from 1-9 (counted, as significant).
  const intFrom = p;
  let c = <u32>load<u8>(p);
  if (c == 0x30) p++;
  else if (c - 0x31 <= 8) p = digits(p + 1, n);
  else return FAIL;
  const intTo = p;
  let count = c == 0x30 ? 0 : <i32>(intTo - intFrom);
  if (count > 15) return FAIL;
  let m: i64 = c == 0x30 ? 0 : integer(intFrom, intTo);
  let scale: i32 = 0;
  c = p < n ? <u32>load<u8>(p) : 0;
  if (c == 0x2e) {
    const from = p + 1;
    p = digits(from, n);
    if (p == from) return FAIL;
    scale = <i32>from - <i32>p;
    count -= scale;
    if (count > 15) return FAIL;
    m = m * unchecked(POW10I[-scale]) + integer(from, p);
    c = p < n ? <u32>load<u8>(p) : 0;
  }
  if (count > 15) return FAIL;
  if (c == 0x65 || c == 0x45) {
    p++;
    c = p < n ? <u32>load<u8>(p) : 0;
    let sign: i32 = 1;
    if (c == 0x2b || c == 0x2d) {
      if (c == 0x2d) sign = -1;
      p++;
    }
    const from = p;
    p = digits(p, n);
    if (p == from) return FAIL;
    // More than 3 digits, leading zeros aside, is beyond ±22 anyway.
    let q = from;
    while (q < p && load<u8>(q) == 0x30) q++;
    if (p - q > 3) return FAIL;
    scale += sign * <i32>integer(q, p);
  }
  if (scale < -22 || scale > 22) return FAIL;
  const x = scale < 0 ? <f64>m / unchecked(POW10[-scale]) : <f64>m * unchecked(POW10[scale]);
  store<f64>(value, negative ? -x : x);
  store<u8>(code, FOUND);
  return p;
}

/** The field whose key is bytes [from, to), or -1. */
function field(from: usize, to: usize): i32 {
  const len = <u32>(to - from);
  for (let f = 0; f < keyCount; f++) {
    const entry = keyTable + ((<usize>f) << 3);
    if (load<u32>(entry, 4) != len) continue;
    const key = <usize>load<u32>(entry);
    let j: usize = 0;
    while (j < <usize>len && load<u8>(key + j) == load<u8>(from + j)) j++;
    if (j == <usize>len) return f;
  }
  return -1;
}

/**
 * The message [p, n) as a top-level object, its fields' outcomes into codes/values: false gives
 * it up.
 *
 * A member starts at its separator (the object's `{`, or the byte after the previous value),
 * so what the shape compares is everything up to the value: `,"key":`, whitespace and all. A
 * mismatch is read the long way: whitespace, the end of the object, a comma, the key.
 */
function object(p: usize, n: usize, codes: usize, values: usize): bool {
  p = ws(p, n);
  if (p >= n || load<u8>(p) != 0x7b) return false;
  let member: i32 = -1;
  while (true) {
    member++;
    let f: i32 = -1;
    let known = false;
    if (member < shapeCount) {
      const entry = shapeTable + SHAPE_ENTRY * <usize>member;
      const len = load<u32>(entry);
      if (p + <usize>len <= n && same(p, entry, len)) {
        f = load<i32>(entry, 4);
        p += <usize>len;
        known = true;
      } else shapeCount = member; // learnt again from here
    }
    if (!known) {
      const from = p;
      // The separator: `{` (then `}` or a key), or after a value `,` or the object's `}`.
      p = ws(p + (member == 0 ? 1 : 0), n);
      if (p >= n) return false;
      if (load<u8>(p) == 0x7d) return ws(p + 1, n) == n; // `{}`, or the end after a value
      if (member > 0) {
        if (load<u8>(p) != 0x2c) return false;
        p = ws(p + 1, n);
        if (p >= n) return false;
      }
      if (load<u8>(p) != 0x22) return false;
      // The key: plain bytes up to its quote. An escape might spell a field's key: give up. A key
      // with bytes ≥ 0x80 matches no field (json-batch.ts takes only ASCII keys).
      const q = stringStop(p + 1, n);
      if (q >= n || load<u8>(q) != 0x22) return false;
      f = field(p + 1, q);
      const colon = ws(q + 1, n);
      if (colon >= n || load<u8>(colon) != 0x3a) return false;
      p = colon + 1;
      const len = <u32>(p - from);
      if (member == shapeCount && member < SHAPE_MEMBERS && len <= SHAPE_KEY) {
        const entry = shapeTable + SHAPE_ENTRY * <usize>member;
        memory.copy(entry + 16, from, <usize>len);
        store<u32>(entry, len);
        store<i32>(entry, f, 4);
        shapeCount = member + 1;
      }
    }
    if (p >= n) return false;
    let c = <u32>load<u8>(p);
    if (c <= 0x20) {
      p = ws(p, n);
      if (p >= n) return false;
      c = <u32>load<u8>(p);
    }
    if (f < 0) {
      if (c == 0x22) {
        // A string, most often without escapes: its end found here, an escape left to skipString.
        p = stringStop(p + 1, n);
        p = p < n && load<u8>(p) == 0x22 ? p + 1 : skipString(p, n);
      } else if (c == 0x2d || isDigit(c)) p = skipNumber(p, n);
      else p = c == 0x7b || c == 0x5b ? skipContainer(p, n, 2) : skipPrimitive(p, n);
    } else {
      const seen = seenTable + ((<usize>f) << 2);
      if (load<u32>(seen) == message) return false; // a duplicate key: JSON.parse keeps the last
      store<u32>(seen, message);
      const code = codes + <usize>f;
      if (c == 0x2d || isDigit(c)) p = number(p, n, code, values + ((<usize>f) << 3));
      else if (c == 0x22) return false; // a string: the JavaScript side reads numeric strings
      else if (c == 0x7b || c == 0x5b) {
        store<u8>(code, NOT_NUMERIC);
        p = skipContainer(p, n, 2);
      } else {
        // true and false are not numbers; null is missing (the code stays MISSING).
        if (c != 0x6e) store<u8>(code, NOT_NUMERIC);
        p = c == 0x74 || c == 0x66 || c == 0x6e ? literal(p, n) : FAIL;
      }
    }
    if (p == FAIL) return false;
  }
}

/** The end of the module's static data: json-batch.ts lays its arrays out above it. */
export function dataEnd(): usize {
  return __heap_base;
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decoder, MIN_RUN, type DecodeTarget } from '../../src/stream/decode.js';
import type { SourceRecord } from '../../src/stream/record.js';

/**
 * The decoder's fast paths (the JSON scanner, and the batch scanner in WebAssembly for top-level
 * fields) against its JSON.parse path: for every input, the same vectors (bit for bit, -0
 * included) and the same rejects, in the same order.
 */

type Event = string;

/** -0 and NaN apart, every double exactly. */
const num = (x: number): string => (Object.is(x, -0) ? '-0' : String(x));

/** A decoder whose sinks write events; `bulk` gives it the optional `vectors` sink too, as the monitor's has. */
function recorder(
  targets: DecodeTarget[],
  fastPath: boolean,
  bulk = false,
): { decoder: Decoder; decode(r: SourceRecord): Event[]; decodeAll(rs: SourceRecord[]): Event[] } {
  let events: Event[] = [];
  const vector = (target: number, v: ArrayLike<number>): void => void events.push(`vector ${target}: ${Array.from(v, num).join(' ')}`);
  const decoder = new Decoder(
    targets,
    {
      vector,
      reject: (reason, target) => void events.push(`reject ${target}: ${reason}`),
      ...(bulk && {
        vectors: (target, rows, verdicts, at, _records, from, to) => {
          const d = targets[target]!.fields.length;
          for (let i = at; i < at + to - from; i++) if (verdicts[i] === 0) vector(target, rows.subarray(i * d, (i + 1) * d));
        },
      }),
    },
    { fastPath },
  );
  return {
    decoder,
    decode(r) {
      events = [];
      const produced = decoder.decode(r);
      events.push(`produced ${produced}`);
      return events;
    },
    decodeAll(rs) {
      events = [];
      decoder.decodeAll(rs);
      return events;
    },
  };
}

const TARGETS: DecodeTarget[] = [
  { topic: 't', fields: ['a'] },
  { topic: 't', fields: ['a', 'b.c'], bounds: [{ min: -1, max: 1 }, { min: -Infinity, max: Infinity }] },
  { topic: undefined, fields: ['x.0', 'x.2'] },
  { topic: 't', fields: ['b', 'b.c.d'] },
  { topic: 't', fields: ['__proto__', 'constructor'] },
  { topic: 't', fields: ['é.1', 'a'] },
  { topic: 't', fields: ['arr.length'] },
  { topic: 't', fields: ['n.01'] },
  { topic: 't', fields: ['0.1'], bounds: [{ min: 0, max: 10 }] },
];

/** Top-level fields only (ASCII): the batch scanner reads these. */
const FLAT: DecodeTarget[] = [
  { topic: 't', fields: ['a'] },
  { topic: 't', fields: ['a', 'b'], bounds: [{ min: -1, max: 1 }, { min: -Infinity, max: Infinity }] },
  { topic: undefined, fields: ['x', 'A'] },
  { topic: 't', fields: ['__proto__', 'constructor'] },
  { topic: 't', fields: ['0', 'length'], bounds: [{ min: 0, max: 10 }, { min: -Infinity, max: Infinity }] },
  { topic: 't', fields: ['', '01', 'n'] },
];

/** Events by stream (each one's vectors, in order) and the rejects in order: what a `vectors` sink keeps of the record order. */
function channels(events: Event[]): Record<string, Event[]> {
  const by: Record<string, Event[]> = {};
  for (const e of events) (by[e.startsWith('reject') ? 'rejects' : e.slice(0, e.indexOf(':'))] ??= []).push(e);
  return by;
}

function pair(targets: DecodeTarget[] = TARGETS) {
  const fast = recorder(targets, true);
  const batch = recorder(targets, true);
  const bulk = recorder(targets, true, true);
  const slow = recorder(targets, false);
  /**
   * Decodes a batch through decodeAll, with and without a `vectors` sink, and each record through
   * JSON.parse, expects the same (stream by stream with it); the batch scanner's count.
   */
  const checkAll = (values: (Buffer | string)[], topics: string[] = ['t']): number => {
    const records = values.map((value, i) => ({ topic: topics[i % topics.length]!, value }));
    const before = batch.decoder.batched;
    const a = batch.decodeAll(records);
    const b = records.flatMap((r) => slow.decode(r).filter((e) => !e.startsWith('produced')));
    expect(a).toEqual(b);
    expect(channels(bulk.decodeAll(records))).toEqual(channels(b));
    expect(bulk.decoder.batched).toBe(batch.decoder.batched);
    return batch.decoder.batched - before;
  };
  return {
    fast,
    batch,
    checkAll,
    /**
     * Decodes both ways, expects the same; true when the fast path decided alone. The same value
     * MIN_RUN times in one batch goes through the batch scanner where the fields allow.
     */
    check(value: Buffer, topic = 't'): boolean {
      const before = fast.decoder.scanned;
      const a = fast.decode({ topic, value });
      const b = slow.decode({ topic, value });
      expect(a).toEqual(b);
      expect(slow.decoder.scanned).toBe(0);
      checkAll(Array.from({ length: MIN_RUN }, () => value), [topic]);
      return fast.decoder.scanned > before;
    },
  };
}

// ---------------------------------------------------------------- JSON text generators

const ws = fc.constantFrom('', '', '', ' ', '\n', '\t ', '\r\n  ');
const KEYS = ['a', 'b', 'c', 'd', 'x', 'é', 'arr', 'n', '0', '1', '2', '01', 'length', '__proto__', 'constructor', 'A', ''];
const key = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...KEYS) }, { weight: 1, arbitrary: fc.string({ maxLength: 4, unit: 'binary' }) });

/** Numbers as JSON writes them, and as people do: exponents, long mantissas, leading zeros in exponents. */
const numberText = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => JSON.stringify(x)),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => x.toExponential()),
  fc.integer().map(String),
  fc
    .tuple(
      fc.constantFrom('', '-'),
      fc.oneof(fc.constant('0'), fc.stringMatching(/^[1-9][0-9]{0,24}$/)),
      fc.option(fc.stringMatching(/^[0-9]{1,25}$/), { nil: undefined }),
      fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.stringMatching(/^[0-9]{1,4}$/)), { nil: undefined }),
    )
    .map(([sign, int, frac, exp]) => `${sign}${int}${frac === undefined ? '' : `.${frac}`}${exp === undefined ? '' : exp.join('')}`),
  fc.constantFrom('-0', '-0.0', '0e0', '1E+2', '1e-400', '-1e400', '1e309', '9007199254740993', '0.1', '1e22', '1e23', '123456789012345', '1234567890123456', '5e-324', '2.2250738585072011e-308'),
);

/** Near-numbers, mostly not valid JSON: where a scanner's number grammar could slip. */
const looseNumberText = fc
  .array(fc.constantFrom('-', '+', '0', '1', '9', '.', 'e', 'E', '00', 'x'), { minLength: 1, maxLength: 6 })
  .map((parts) => parts.join(''));

/** String contents: numeric text (the decoder accepts numeric strings), words, any code units. */
const stringContent = fc.oneof(
  fc.constantFrom('', ' ', '1.5', ' 2 ', '0x10', '1e3', 'Infinity', '-infinity', 'nan', ' NaN ', 'abc', '-0', '1_000', '12.', '.5', '0b11', '\t7\n', 'inf', '+inf'),
  // Whitespace to String.prototype.trim and Number, beyond ASCII: read as Latin-1 they would not be.
  fc.constantFrom('\u00a05', '5\u2028', '\ufeff7', '\u3000 1', '\u20071', '8\u00a0', '\u1680'),
  numberText,
  fc.string({ maxLength: 8 }),
  fc.string({ maxLength: 6, unit: 'binary' }),
);

/** A JSON string: plain, every code unit as \uXXXX, or with `\/`. */
const stringText = fc.tuple(stringContent, fc.constantFrom(0, 0, 0, 1, 2)).map(([s, how]) => {
  if (how === 1) return `"${Array.from({ length: s.length }, (_, i) => `\\u${s.charCodeAt(i).toString(16).padStart(4, '0')}`).join('')}"`;
  if (how === 2) return JSON.stringify(s).replaceAll('/', '\\/');
  return JSON.stringify(s);
});

const { object: objectText } = fc.letrec<{ value: string; object: string; array: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 4, arbitrary: numberText },
    { weight: 2, arbitrary: stringText },
    { weight: 1, arbitrary: fc.constantFrom('true', 'false', 'null') },
    { weight: 2, arbitrary: tie('object') },
    { weight: 1, arbitrary: tie('array') },
  ),
  object: fc
    .tuple(fc.array(fc.tuple(ws, key, fc.constantFrom(0, 0, 0, 1), ws, ws, tie('value'), ws), { maxLength: 7 }), ws)
    .map(
      ([entries, end]) =>
        `{${entries
          .map(([w1, k, how, w2, w3, v, w4]) => `${w1}${how === 1 ? `"${Array.from({ length: k.length }, (_, i) => `\\u${k.charCodeAt(i).toString(16).padStart(4, '0')}`).join('')}"` : JSON.stringify(k)}${w2}:${w3}${v}${w4}`)
          .join(',')}${end}}`,
    ),
  array: fc.tuple(fc.array(fc.tuple(ws, tie('value'), ws), { maxLength: 5 }), ws).map(([items, end]) => `[${items.map((i) => i.join('')).join(',')}${end}]`),
}));

/** A valid record with surrounding whitespace. */
const record = fc.tuple(ws, objectText, ws).map((parts) => parts.join(''));

const INTERESTING = [0x7b, 0x7d, 0x5b, 0x5d, 0x22, 0x5c, 0x2c, 0x3a, 0x20, 0x30, 0x31, 0x2d, 0x2b, 0x65, 0x2e, 0x6e, 0x75, 0x00, 0x0a, 0x1f, 0x7f, 0x80, 0xbf, 0xc3, 0xe2, 0xed, 0xef, 0xf0, 0xff];
const byte = fc.oneof(fc.constantFrom(...INTERESTING), fc.integer({ min: 0, max: 255 }));

/** A copy of `base` with one edit: delete, insert or replace the byte at `where` (0–1 of the way), truncate there, or none. */
function edited(base: readonly number[], [op, where, x]: readonly [string, number, number]): number[] {
  const b = [...base];
  const i = Math.min(b.length, Math.floor(where * (b.length + 1)));
  if (op === 'delete') b.splice(i, 1);
  else if (op === 'insert') b.splice(i, 0, x);
  else if (op === 'replace') b[i] = x;
  else if (op === 'truncate') b.length = i;
  return b;
}

/** A valid record broken (or not) by one to three edits: delete, insert, replace, truncate. */
const mutated = fc
  .tuple(
    record,
    fc.array(fc.tuple(fc.constantFrom('delete', 'insert', 'replace', 'truncate'), fc.double({ min: 0, max: 1, noNaN: true }), byte), { minLength: 1, maxLength: 3 }),
  )
  .map(([text, edits]) => {
    let b = [...Buffer.from(text, 'utf8')];
    for (const edit of edits) b = edited(b, edit);
    return Buffer.from(b);
  });

describe('Decoder fast path (the JSON scanner) against JSON.parse', () => {
  it('decodes the benchmark and demo shapes without JSON.parse, to the same vectors', () => {
    const d = pair([
      { topic: 't', fields: ['amount'] },
      { topic: 't', fields: ['latency_ms'] },
      { topic: 't', fields: ['x', 'y'] },
      { topic: 't', fields: ['payload.amount'], bounds: [{ min: 0, max: 100 }] },
    ]);
    const bench = '{"id":17,"ts":1700000000017,"amount":49.1234,"latency_ms":"20.5","x":-0.0001,"y":1.5e-3,"merchant":"m17","payload":{"amount":100}}';
    expect(d.check(Buffer.from(bench))).toBe(true);
    expect(d.fast.decode({ topic: 't', value: Buffer.from(bench) })).toEqual([
      'vector 0: 49.1234',
      'vector 1: 20.5',
      'vector 2: -0.0001 0.0015',
      'vector 3: 100',
      'produced 4',
    ]);
  });

  it.each([
    ['{"am\\u006fount": 1}', 'an escaped key in an object on a path'],
    ['{"amount": 1, "amount": 2}', 'a duplicate key on a path'],
    ['{"amount": "\\u0031"}', 'an escaped string at a path'],
    ['{"amount": 1', 'invalid JSON'],
    ['[1]', 'a top level that is not an object'],
    ['{"v": [1, 2], "amount": 1}', 'an array under a segment that is not an index (v.length)'],
  ])('falls back to JSON.parse on %s (%s)', (text) => {
    const d = pair([
      { topic: 't', fields: ['amount'] },
      { topic: 't', fields: ['v.length'] },
    ]);
    expect(d.check(Buffer.from(text))).toBe(false);
  });

  it('takes the fast path through escapes, duplicates and non-ASCII bytes off the paths', () => {
    const d = pair([{ topic: 't', fields: ['a.b'] }]);
    expect(d.check(Buffer.from('{"c":"x\\"\\u00e9\\/","c":1,"naïve":"ça","a":{"b":2,"z":[{"q":null}]}}'))).toBe(true);
    expect(d.check(Buffer.from([...Buffer.from('{"c":"'), 0xff, 0xc3, ...Buffer.from('","a":{"b":3}}')]))).toBe(true);
  });

  it('agrees on valid records (property)', () => {
    const d = pair();
    let fast = 0;
    let runs = 0;
    fc.assert(
      fc.property(record, fc.constantFrom('t', 'u'), (text, topic) => {
        runs++;
        if (d.check(Buffer.from(text, 'utf8'), topic)) fast++;
      }),
      { numRuns: 5000, seed: 7 },
    );
    // Not a vacuous comparison: both paths get a good share (the generator makes escaped keys,
    // duplicate keys, arrays under `arr.length` and `n.01` on purpose, which fall back).
    expect(fast / runs).toBeGreaterThan(0.3);
    expect(fast / runs).toBeLessThan(0.9);
  });

  it('agrees on nesting deeper than the scanner walks, and does not overflow the stack', () => {
    const d = pair([{ topic: 't', fields: ['a'] }]);
    for (const depth of [10, 63, 64, 65, 100_000]) {
      d.check(Buffer.from(`{"w":${'['.repeat(depth)}${']'.repeat(depth)},"a":1}`));
      d.check(Buffer.from(`{"w":${'{"a":'.repeat(depth)}2${'}'.repeat(depth)},"a":1}`));
    }
  });

  it('agrees on numbers, digit for digit (property)', () => {
    const d = pair([{ topic: 't', fields: ['v'] }]);
    fc.assert(
      fc.property(numberText, ws, (text, w) => {
        expect(d.check(Buffer.from(`{"v":${w}${text}${w}}`))).toBe(true);
        expect(d.check(Buffer.from(`{"v":"${text}"}`))).toBe(true);
        expect(d.check(Buffer.from(`{"v":" ${text} "}`))).toBe(true);
      }),
      { numRuns: 10000, seed: 11 },
    );
  });

  it('agrees on near-numbers, at a path and off it (property)', () => {
    const d = pair([{ topic: 't', fields: ['v'] }]);
    fc.assert(
      fc.property(looseNumberText, looseNumberText, (v, w) => {
        d.check(Buffer.from(`{"v":${v},"w":[${w}]}`));
        d.check(Buffer.from(`{"w":${w} ,"v":${v}}`));
      }),
      { numRuns: 5000, seed: 19 },
    );
  });

  it('agrees on near-escapes in strings off the paths (property)', () => {
    const d = pair([{ topic: 't', fields: ['v'] }]);
    const piece = fc.oneof(
      fc.constantFrom('\\', 'u', 'x', '0', 'F', 'g', '"', '/', 'b', 'n'),
      // A backslash, any character, then up to five near-hex digits: `\u12G4`, `\x0041`, `\u00e9`.
      fc.tuple(fc.constantFrom('u', 'u', 'x', 'U', 'n', '"', '/', ' '), fc.stringMatching(/^[0-9a-fA-FgG"]{0,5}$/)).map(([c, h]) => `\\${c}${h}`),
    );
    const junk = fc.array(piece, { maxLength: 4 }).map((p) => p.join(''));
    fc.assert(
      fc.property(junk, junk, (w, k) => {
        d.check(Buffer.from(`{"w":"${w}","v":1}`));
        d.check(Buffer.from(`{"v":2,"w":{"${k}":0}}`));
      }),
      { numRuns: 5000, seed: 23 },
    );
  });

  it('agrees on broken records and arbitrary bytes (property)', () => {
    const d = pair();
    fc.assert(
      fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b))), fc.constantFrom('t', 'u'), (value, topic) => {
        d.check(value, topic);
      }),
      { numRuns: 20000, seed: 13 },
    );
  });

  it('reads the keys a message repeats from the last one, and notices every change', () => {
    const d = pair([
      { topic: 't', fields: ['amount'] },
      { topic: 't', fields: ['x', 'y'] },
      { topic: 't', fields: ['p.q'] },
    ]);
    const texts = [
      '{"id":1,"amount":2.5,"x":1,"y":2,"p":{"q":3}}',
      '{"id":2,"amount":3.5,"x":-1,"y":-2,"p":{"q":4}}', // the same keys
      '{"id":3,"amounu":3.5,"x":-1,"y":-2,"p":{"q":4}}', // one byte of a key differs
      '{"id":4,"y":1,"x":2,"amount":1,"p":{"q":5}}', // the keys reordered
      '{"id":5,"amount" :1,"x":2,"y":3,"p":{"q":6}}', // a space before a colon
      '{"id":6,"amount":1,"x":2,"y":3,"p":{"q":7}}',
      '{"id":7,"amount":1,"amount":2,"x":2,"y":3}', // a duplicate key where the last message had another
      '{"id":8,"amount":1,"amount":2,"x":2,"y":3}', // the same duplicate, now the shape's
      '{"id":9,"amount":1,"x":{"y":2},"y":3,"p":{}}', // objects where a number and an object with a key were
      '{"":1,"amount":1,"x":2,"y":3}', // a key too short to compare by words
      '{"":1,"amount":2,"x":2,"y":3}',
      '{"id":10,"amount":"\\u0031","x":2,"y":3}',
      '{"id":11,"amount":4,"x":2,"y":3,"p":{"q":8}}',
    ];
    const fastPath = texts.map((t) => d.check(Buffer.from(t)));
    expect(fastPath).toEqual([true, true, true, true, true, true, false, false, true, true, true, false, true]);
  });

  it('never reads a repeated key past the end of its message, whatever follows it in memory', () => {
    const d = pair([{ topic: 't', fields: ['amount'] }]);
    const whole = '{"id":1,"amount":2}';
    expect(d.check(Buffer.from(whole))).toBe(true);
    // Messages cut short inside `"amount":`, in one buffer with the rest of the key after them.
    const backing = Buffer.from(whole + whole);
    for (let end = 1; end < whole.length; end++) d.check(backing.subarray(whole.length, whole.length + end));
    for (let end = 1; end < whole.length; end++) d.check(backing.subarray(0, end));
    // And each alone in an ArrayBuffer of its own size, where a read past its end would throw.
    for (let end = 1; end < whole.length; end++) d.check(Buffer.from(new Uint8Array(backing.subarray(0, end)).buffer));
  });

  it('agrees on runs of records that mostly repeat their keys (property)', () => {
    const d = pair();
    const edit = fc.tuple(fc.constantFrom('delete', 'insert', 'replace', 'truncate', 'none', 'none'), fc.double({ min: 0, max: 1, noNaN: true }), byte);
    fc.assert(
      fc.property(record, fc.array(edit, { minLength: 1, maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), (text, edits, after) => {
        // The record, then edits of it one at a time, each in a buffer with other bytes after it.
        const base = [...Buffer.from(text, 'utf8')];
        for (const edit of edits) {
          const b = edited(base, edit);
          d.check(Buffer.from([...b, ...after]).subarray(0, b.length));
        }
      }),
      { numRuns: 5000, seed: 29 },
    );
  });

  it('agrees on raw bytes inside strings: ≥ 0x80, valid UTF-8 or not, and control characters (property)', () => {
    const d = pair();
    const raw = fc.uint8Array({ maxLength: 6 }).map((b) => Buffer.from(b.map((x) => (x === 0x22 || x === 0x5c ? x | 0x80 : x))));
    fc.assert(
      fc.property(raw, raw, raw, numberText, (k, s, t, n) => {
        const value = Buffer.concat([Buffer.from('{"'), k, Buffer.from('":"'), s, Buffer.from(`","a":${n},"b":{"c":"`), t, Buffer.from('"}}')]);
        d.check(value);
      }),
      { numRuns: 5000, seed: 17 },
    );
  });
});

describe('Decoder batch path (the WebAssembly scanner) against JSON.parse', () => {
  // As the Kafka benchmark writes them: decimals of at most four places.
  const bench = (i: number): string =>
    JSON.stringify({ id: i, ts: 1_700_000_000_000 + i, amount: (491234 + i) / 1e4, latency_ms: 20.5, x: -i / 1e4, y: 1.5e-3, merchant: `m${i % 50}` });

  it('decodes the benchmark shape in batches without the per-message scanner or JSON.parse', () => {
    const d = pair([
      { topic: 't', fields: ['amount'] },
      { topic: 't', fields: ['latency_ms'] },
      { topic: 't', fields: ['x', 'y'] },
    ]);
    // As a fetch holds them: the messages' bytes in one buffer.
    const texts = Array.from({ length: 3000 }, (_, i) => bench(i));
    const whole = Buffer.from(texts.join(''));
    let at = 0;
    const values = texts.map((t) => whole.subarray(at, (at += t.length)));
    expect(d.checkAll(values)).toBe(3000);
    expect(d.batch.decoder.scanned).toBe(d.batch.decoder.batched);
  });

  it('agrees on batches of valid records (property)', () => {
    let batched = 0;
    let records = 0;
    fc.assert(
      fc.property(fc.array(record, { minLength: MIN_RUN, maxLength: 40 }), fc.constantFrom('t', 'u'), (texts, topic) => {
        // A decoder each time: one that rests after runs it mostly gave up on would make this vacuous.
        const d = pair(FLAT);
        records += texts.length;
        batched += d.checkAll(
          texts.map((t) => Buffer.from(t, 'utf8')),
          [topic],
        );
      }),
      { numRuns: 1500, seed: 31 },
    );
    // Not vacuous: the batch scanner reads a good share (escaped keys, duplicates and strings at a field are given up on).
    expect(batched / records).toBeGreaterThan(0.3);
    expect(batched / records).toBeLessThan(0.95);
  });

  it('agrees on batches of broken records and arbitrary bytes (property)', () => {
    const d = pair(FLAT);
    const value = fc.oneof(
      mutated,
      record.map((t) => Buffer.from(t, 'utf8')),
      fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
    );
    fc.assert(
      fc.property(fc.array(value, { minLength: MIN_RUN, maxLength: 30 }), (values) => {
        d.checkAll(values);
      }),
      { numRuns: 3000, seed: 37 },
    );
  });

  it('agrees on numbers, digit for digit, a batch of them (property)', () => {
    const d = pair([{ topic: 't', fields: ['v'] }]);
    fc.assert(
      fc.property(fc.array(fc.tuple(numberText, ws), { minLength: MIN_RUN, maxLength: 20 }), (numbers) => {
        d.checkAll(numbers.map(([text, w]) => Buffer.from(`{"w":${text},"v":${w}${text}${w}}`)));
      }),
      { numRuns: 3000, seed: 41 },
    );
  });

  it('agrees on runs of records that mostly repeat their keys, in one batch (property)', () => {
    const d = pair(FLAT);
    const edit = fc.tuple(fc.constantFrom('delete', 'insert', 'replace', 'truncate', 'none', 'none'), fc.double({ min: 0, max: 1, noNaN: true }), byte);
    fc.assert(
      fc.property(record, fc.array(edit, { minLength: MIN_RUN, maxLength: 16 }), (text, edits) => {
        // The record, then edits of it, each in one buffer after the other, as a fetch holds them.
        const base = [...Buffer.from(text, 'utf8')];
        const parts = edits.map((edit) => edited(base, edit));
        const whole = Buffer.from(parts.flat());
        let at = 0;
        d.checkAll(parts.map((p) => whole.subarray(at, (at += p.length))));
      }),
      { numRuns: 3000, seed: 43 },
    );
  });

  it('reads messages wherever their bytes are: scattered buffers, pooled ones, one buffer with gaps', () => {
    const d = pair(FLAT);
    const texts = Array.from({ length: 50 }, (_, i) => `{"a":${i / 100},"b":${i},"x":-${i},"A":1e${i % 23},"length":${i % 12}}`);
    // Each in an ArrayBuffer of its own size: a read past its end would throw.
    expect(d.checkAll(texts.map((t) => Buffer.from(new Uint8Array(Buffer.from(t)).buffer)))).toBe(50);
    // Small Buffers share Node's pool.
    expect(d.checkAll(texts.map((t) => Buffer.from(t)))).toBe(50);
    // One buffer, other bytes between the messages (record headers in a fetch), cut to the messages.
    const gap = Buffer.from('"}]\\{,9');
    const whole = Buffer.concat(texts.flatMap((t) => [gap, Buffer.from(t)]));
    let at = 0;
    const values = texts.map((t) => whole.subarray((at += gap.length), (at += t.length)));
    expect(d.checkAll(values)).toBe(50);
    // Two buffers alternating within one batch.
    const other = Buffer.from(texts.join(''));
    let o = 0;
    const inOther = texts.map((t) => other.subarray(o, (o += t.length)));
    expect(d.checkAll(texts.map((_, i) => (i % 2 === 0 ? values[i]! : inOther[i]!)))).toBe(50);
  });

  it('never reads a message past its end, whatever follows it in memory', () => {
    const d = pair([{ topic: 't', fields: ['amount'] }, { topic: 't', fields: ['latency_ms'] }]);
    const whole = '{"id":1,"amount":2.25,"latency_ms":1234567890123,"s":"abcdefghijklmnopqrstuvwxyz"}';
    const backing = Buffer.from(whole + whole);
    // Each cut short, followed in the same buffer by the rest of it.
    const cuts = Array.from({ length: whole.length }, (_, end) => backing.subarray(whole.length, whole.length + end + 1));
    expect(d.checkAll(cuts)).toBeGreaterThan(0);
    const starts = Array.from({ length: whole.length }, (_, end) => backing.subarray(0, end + 1));
    d.checkAll(starts);
  });

  it('splits long batches, grows its memory for large messages, and mixes topics and strings', () => {
    const d = pair(FLAT);
    const many = Array.from({ length: 10_000 }, (_, i) => Buffer.from(`{"a":${i % 7},"b":${i}}`));
    expect(d.checkAll(many)).toBe(10_000);
    const big = Buffer.from(`{"pad":"${'x'.repeat(3_000_000)}","a":0.5,"b":[${'1,'.repeat(100_000)}1]}`);
    expect(d.checkAll(Array.from({ length: MIN_RUN }, () => big))).toBe(MIN_RUN);
    // Topics alternating every few records, string values between: runs shorter than MIN_RUN go one by one.
    const mixed = Array.from({ length: 60 }, (_, i) => (i % 13 === 5 ? `{"a":${i}}` : Buffer.from(`{"a":${i / 7},"x":${i}}`)));
    d.checkAll(mixed, ['t', 't', 't', 'u', 'u', 'v']);
    d.checkAll(mixed, ['t']);
  });

  it('learns a message’s members within limits: long keys, many members, keys reordered', () => {
    const d = pair(FLAT);
    const long = 'k'.repeat(40);
    const members = Array.from({ length: 40 }, (_, i) => `"m${i}":${i}`).join(',');
    const texts = [
      `{"${long}":1,"a":0.5,"b":2}`,
      `{"${long}":2,"a":0.25,"b":3}`,
      `{${members},"a":0.75,"b":4}`,
      `{${members},"a":0.5,"b":5}`,
      `{"b":6,"a":0.125}`,
      `{"a":0.5,"b":7}`,
      `{"a" :0.5,"b":8}`,
      `{"a":0.5,"b":9}`,
      `{"a":0.5,"a":0.5,"b":9}`,
      `{"a":0.5,"b":9,"b":10}`,
    ];
    expect(d.checkAll(texts.map((t) => Buffer.from(t)))).toBe(8);
  });

  it('rests after a run it mostly gave up on, and comes back', () => {
    const d = pair([{ topic: 't', fields: ['v'] }]);
    // Numeric strings at the field: the batch scanner gives up on each, the per-message scanner reads them.
    const strings = Array.from({ length: 100 }, (_, i) => Buffer.from(`{"v":"${i}"}`));
    const numbers = Array.from({ length: 100 }, (_, i) => Buffer.from(`{"v":${i}}`));
    expect(d.checkAll(strings)).toBe(0);
    expect(d.checkAll(numbers)).toBe(0); // resting
    let read = 0;
    for (let i = 0; i < 4; i++) read += d.checkAll(numbers);
    expect(read).toBeGreaterThan(0);
  });
});

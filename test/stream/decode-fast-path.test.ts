import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decoder, type DecodeTarget } from '../../src/stream/decode.js';
import type { SourceRecord } from '../../src/stream/record.js';

/**
 * The decoder's fast path (the JSON scanner) against its JSON.parse path: for every input,
 * the same vectors (bit for bit, -0 included) and the same rejects, in the same order.
 */

type Event = string;

/** -0 and NaN apart, every double exactly. */
const num = (x: number): string => (Object.is(x, -0) ? '-0' : String(x));

function recorder(targets: DecodeTarget[], fastPath: boolean): { decoder: Decoder; decode(r: SourceRecord): Event[] } {
  let events: Event[] = [];
  const decoder = new Decoder(
    targets,
    {
      vector: (target, v) => void events.push(`vector ${target}: ${Array.from(v, num).join(' ')}`),
      reject: (reason, target) => void events.push(`reject ${target}: ${reason}`),
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

function pair(targets: DecodeTarget[] = TARGETS) {
  const fast = recorder(targets, true);
  const slow = recorder(targets, false);
  return {
    fast,
    /** Decodes both ways, expects the same; true when the fast path decided alone. */
    check(value: Buffer, topic = 't'): boolean {
      const before = fast.decoder.scanned;
      const a = fast.decode({ topic, value });
      const b = slow.decode({ topic, value });
      expect(a).toEqual(b);
      expect(slow.decoder.scanned).toBe(0);
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

/** A valid record broken (or not) by one to three edits: delete, insert, replace, truncate. */
const mutated = fc
  .tuple(
    record,
    fc.array(fc.tuple(fc.constantFrom('delete', 'insert', 'replace', 'truncate'), fc.double({ min: 0, max: 1, noNaN: true }), byte), { minLength: 1, maxLength: 3 }),
  )
  .map(([text, edits]) => {
    let b = [...Buffer.from(text, 'utf8')];
    for (const [op, where, x] of edits) {
      const i = Math.min(b.length, Math.floor(where * (b.length + 1)));
      if (op === 'delete') b.splice(i, 1);
      else if (op === 'insert') b.splice(i, 0, x);
      else if (op === 'replace') b[i] = x;
      else b = b.slice(0, i);
    }
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
        for (const [op, where, x] of edits) {
          const b = [...base];
          const i = Math.min(b.length, Math.floor(where * (b.length + 1)));
          if (op === 'delete') b.splice(i, 1);
          else if (op === 'insert') b.splice(i, 0, x);
          else if (op === 'replace') b[i] = x;
          else if (op === 'truncate') b.length = i;
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

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decoder, REJECT_REASONS, type DecodeTarget, type RejectReason } from '../../src/stream/decode.js';
import type { SourceRecord } from '../../src/stream/record.js';

interface Outcome {
  vectors: { target: number; values: number[] }[];
  rejects: { reason: RejectReason; target: number }[];
}

function decoder(targets: DecodeTarget[]): { decode(r: SourceRecord): Outcome } {
  let out: Outcome = { vectors: [], rejects: [] };
  const d = new Decoder(targets, {
    vector: (target, v) => out.vectors.push({ target, values: Array.from(v) }),
    reject: (reason, target) => out.rejects.push({ reason, target }),
  });
  return {
    decode(r) {
      out = { vectors: [], rejects: [] };
      d.decode(r);
      return out;
    },
  };
}

const one = decoder([{ topic: 't', fields: ['payload.amount'], bounds: [{ min: 0, max: 100 }] }]);
const rec = (value: string | Buffer, topic = 't'): SourceRecord => ({ topic, value });

describe('Decoder', () => {
  it('reads a nested field as a 1-D vector', () => {
    expect(one.decode(rec('{"payload":{"amount":12.5}}'))).toEqual({ vectors: [{ target: 0, values: [12.5] }], rejects: [] });
  });

  it('accepts Buffers and numeric strings', () => {
    expect(one.decode(rec(Buffer.from('{"payload":{"amount":"7"}}'))).vectors).toEqual([{ target: 0, values: [7] }]);
  });

  it.each<[string, RejectReason]>([
    ['not json', 'invalid_json'],
    ['', 'invalid_json'],
    ['{"payload":', 'invalid_json'],
    ['[1,2]', 'not_object'],
    ['42', 'not_object'],
    ['null', 'not_object'],
    ['"str"', 'not_object'],
    ['{}', 'missing_field'],
    ['{"payload":3}', 'missing_field'],
    ['{"payload":{}}', 'missing_field'],
    ['{"payload":{"amount":null}}', 'missing_field'],
    ['{"payload":{"constructor":1}}', 'missing_field'],
    ['{"payload":{"amount":"abc"}}', 'not_numeric'],
    ['{"payload":{"amount":""}}', 'not_numeric'],
    ['{"payload":{"amount":true}}', 'not_numeric'],
    ['{"payload":{"amount":[1]}}', 'not_numeric'],
    ['{"payload":{"amount":{"v":1}}}', 'not_numeric'],
    ['{"payload":{"amount":1e999}}', 'not_finite'],
    ['{"payload":{"amount":"NaN"}}', 'not_finite'],
    ['{"payload":{"amount":"-Infinity"}}', 'not_finite'],
    ['{"payload":{"amount":-0.01}}', 'out_of_bounds'],
    ['{"payload":{"amount":100.5}}', 'out_of_bounds'],
  ])('%s → %s', (value, reason) => {
    const out = one.decode(rec(value));
    expect(out.vectors).toEqual([]);
    expect(out.rejects.map((r) => r.reason)).toEqual([reason]);
  });

  it('rejects a whole record once (target -1), a field per stream', () => {
    const two = decoder([
      { topic: 't', fields: ['a'] },
      { topic: 't', fields: ['b'] },
    ]);
    expect(two.decode(rec('oops')).rejects).toEqual([{ reason: 'invalid_json', target: -1 }]);
    expect(two.decode(rec('{"a":1}'))).toEqual({
      vectors: [{ target: 0, values: [1] }],
      rejects: [{ reason: 'missing_field', target: 1 }],
    });
  });

  it('routes by topic: one topic can feed several streams; no topic means any', () => {
    const d = decoder([
      { topic: 'pay', fields: ['amount'] },
      { topic: 'pay', fields: ['amount', 'fee'] },
      { topic: 'other', fields: ['amount'] },
      { topic: undefined, fields: ['amount'] },
    ]);
    expect(d.decode(rec('{"amount":3,"fee":0.5}', 'pay')).vectors).toEqual([
      { target: 0, values: [3] },
      { target: 1, values: [3, 0.5] },
      { target: 3, values: [3] },
    ]);
    expect(d.decode(rec('{"amount":3}', 'nowhere')).vectors).toEqual([{ target: 3, values: [3] }]);
  });

  it('does not parse a record no stream wants', () => {
    const d = decoder([{ topic: 'pay', fields: ['amount'] }]);
    expect(d.decode(rec('not json', 'other'))).toEqual({ vectors: [], rejects: [] });
  });

  it('indexes arrays with numeric path segments', () => {
    const d = decoder([{ topic: undefined, fields: ['v.0', 'v.2'] }]);
    expect(d.decode(rec('{"v":[1,2,3]}')).vectors).toEqual([{ target: 0, values: [1, 3] }]);
    expect(d.decode(rec('{"v":[1]}')).rejects).toEqual([{ reason: 'missing_field', target: 0 }]);
  });

  it('never throws and only ever reports known reasons, whatever the input (property)', () => {
    const d = decoder([
      { topic: 't', fields: ['a'] },
      { topic: 't', fields: ['a', 'b.c'], bounds: [{ min: -1, max: 1 }, { min: -Infinity, max: Infinity }] },
      { topic: undefined, fields: ['x.0'] },
    ]);
    const anyValue = fc.oneof(
      fc.string(),
      fc.json(),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc
        .record({ a: fc.oneof(fc.double(), fc.string(), fc.constant(null), fc.boolean()), b: fc.anything() })
        .map((o) => {
          try {
            return JSON.stringify(o) ?? '';
          } catch {
            return '';
          }
        }),
      fc.uint8Array().map((b) => Buffer.from(b)),
    );
    fc.assert(
      fc.property(anyValue, fc.constantFrom('t', 'u'), (value, topic) => {
        const out = d.decode({ topic, value });
        for (const r of out.rejects) expect(REJECT_REASONS).toContain(r.reason);
        for (const v of out.vectors) for (const x of v.values) expect(Number.isFinite(x)).toBe(true);
        // Every stream the record could feed gets either a vector or a reject, unless the whole record was rejected.
        const whole = out.rejects.some((r) => r.target === -1);
        const feeds = topic === 't' ? 3 : 1;
        expect(whole ? out.vectors.length : out.vectors.length + out.rejects.length).toBe(whole ? 0 : feeds);
      }),
      { numRuns: 2000, seed: 42 },
    );
  });

  it('keeps vectors in bounds (property)', () => {
    const d = decoder([{ topic: 't', fields: ['a'], bounds: [{ min: -1, max: 1 }] }]);
    fc.assert(
      fc.property(fc.double(), (a) => {
        const out = d.decode({ topic: 't', value: JSON.stringify({ a }) });
        for (const v of out.vectors) expect(Math.abs(v.values[0]!)).toBeLessThanOrEqual(1);
      }),
      { seed: 1 },
    );
  });
});

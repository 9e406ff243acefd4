import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decimal } from '../../src/math/decimal.js';
import { Timestamps } from '../../src/sources/kafka/record.js';

describe('decimal (Kafka timestamps as numbers)', () => {
  it.each(['1700000000000', '0', '-1', '', ' 5', '007', '999999999999999', '9999999999999999', '1e3', '12.5', 'abc'])('%s as Number() reads it', (s) => {
    expect(Object.is(decimal(s), Number(s))).toBe(true);
  });

  it('agrees with Number() on digit strings and anything else (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.stringMatching(/^-?[0-9]{0,18}$/), fc.bigInt({ min: -(10n ** 17n), max: 10n ** 17n }).map(String), fc.string({ maxLength: 16 })), (s) => {
        expect(Object.is(decimal(s), Number(s))).toBe(true);
      }),
      { numRuns: 20000, seed: 5 },
    );
  });

  it('Timestamps reads each as Number() does, remembering the last (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom('', '-1', '1700000000000', '1700000000001'), fc.stringMatching(/^[0-9]{0,14}$/)), { maxLength: 30 }), (texts) => {
        const t = new Timestamps();
        // Fresh strings with the same content, as kafkajs makes them per message.
        for (const s of texts) expect(Object.is(t.read(s.split('').join('')), Number(s))).toBe(true);
      }),
      { numRuns: 2000, seed: 3 },
    );
  });
});

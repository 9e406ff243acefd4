import { describe, expect, it } from 'vitest';
import { KeyShape } from '../../src/stream/json-shape.js';

const view = (b: Buffer): DataView => new DataView(b.buffer, b.byteOffset, b.length);

/** Learns the `"key":` tokens of `text`'s members (a flat object of numbers) as one object. */
function learnAll(shape: KeyShape<string>, text: string): void {
  const b = Buffer.from(text);
  shape.enter();
  const tokens = [...text.matchAll(/"[^"]*":/g)];
  tokens.forEach((t, i) => shape.learn(i, b, t.index, t.index + t[0].length, t[0]));
}

describe('KeyShape', () => {
  it('matches a member repeated at its place, by every byte and within the message', () => {
    const shape = new KeyShape<string>();
    learnAll(shape, '{"amount":1,"latency_ms":2}');
    expect(shape.count).toBe(2);
    const next = Buffer.from('{"amount":7,"latency_ms":8}');
    expect(shape.match(0, view(next), 1, next.length)).toBe('"amount":'.length);
    expect(shape.match(1, view(next), 12, next.length)).toBe('"latency_ms":'.length);
    expect(shape.meaning(1)).toBe('"latency_ms":');
    const other = Buffer.from('{"amounu":7,"latency_mz":8}');
    expect(shape.match(0, view(other), 1, other.length)).toBe(0);
    expect(shape.match(1, view(other), 12, other.length)).toBe(0);
    expect(shape.match(0, view(next), 1, 9)).toBe(0); // the message ends inside the key
  });

  it('after a miss, forgets from there and rests from learning for 1, 3, 7, … objects', () => {
    const shape = new KeyShape<string>();
    learnAll(shape, '{"a1":1,"b1":2}');
    shape.missed(0);
    expect(shape.count).toBe(0);
    learnAll(shape, '{"a2":1,"b2":2}'); // resting: not learned
    expect(shape.count).toBe(0);
    learnAll(shape, '{"a3":1,"b3":2}');
    expect(shape.count).toBe(2);
    shape.missed(1);
    for (let i = 0; i < 3; i++) {
      learnAll(shape, '{"a3":1,"c3":2}');
      expect(shape.count).toBe(1);
    }
    learnAll(shape, '{"a3":1,"c3":2}');
    expect(shape.count).toBe(2);
    expect(shape.meaning(1)).toBe('"c3":');
  });

  it('keeps only members that follow the known ones, and none shorter than a word', () => {
    const shape = new KeyShape<string>();
    const b = Buffer.from('{"":1,"abc":2}');
    shape.enter();
    shape.learn(0, b, 1, 4, '""'); // `"":` is 3 bytes
    shape.learn(1, b, 6, 12, '"abc"');
    expect(shape.count).toBe(0);
  });
});

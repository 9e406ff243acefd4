/**
 * The members an object had in the last message scanned: the bytes of each `"key":`, in
 * order, and what each key meant to the scanner. Messages from one producer mostly repeat
 * their keys in the same order, so the scanner (json-fields.ts) first compares the next
 * member with the one at the same place last time, 4 bytes at a time, instead of reading its
 * key a byte at a time and looking it up. Identical bytes mean an identical key, so the
 * outcome is the one reading the key would have had.
 *
 * Keys in another order in every message would make the shape miss and be learned again each
 * time, at a cost: after a miss, learning rests for 1, 3, 7, … up to 63 objects.
 */
export class KeyShape<T> {
  private bytes = new Uint8Array(64);
  private words = new DataView(this.bytes.buffer);
  /** Member i's `"key":` is bytes[starts[i], starts[i + 1]). */
  private readonly starts: number[] = [0];
  private readonly meanings: (T | undefined)[] = [];
  /** Members known, from the first. */
  count = 0;
  private misses = 0;
  /** Objects still to pass before learning again. */
  private rest = 0;
  /** No learning in the object being scanned. */
  private resting = false;

  /** At the start of an object. */
  enter(): void {
    this.resting = this.rest > 0;
    if (this.resting) this.rest--;
  }

  /**
   * The length of member i's `"key":` (i < count) if the message repeats it at `at`, its bytes
   * read through `view` up to `end`; else 0.
   */
  match(i: number, view: DataView<ArrayBufferLike>, at: number, end: number): number {
    const from = this.starts[i]!;
    const len = this.starts[i + 1]! - from;
    if (at + len > end) return 0;
    // Words from the start, then the last 4 bytes (overlapping the previous word): len ≥ 4.
    for (let j = 0; j + 4 < len; j += 4) if (view.getInt32(at + j, true) !== this.words.getInt32(from + j, true)) return 0;
    return view.getInt32(at + len - 4, true) === this.words.getInt32(from + len - 4, true) ? len : 0;
  }

  meaning(i: number): T | undefined {
    return this.meanings[i];
  }

  /** Member i (< count) was not repeated: it and those after it are forgotten, and learning rests. */
  missed(i: number): void {
    this.count = i;
    this.misses = Math.min(this.misses + 1, 6);
    this.rest = (1 << this.misses) - 1;
  }

  /**
   * Member i is b[from, to), a `"key":` with nothing between its quote and colon, meaning
   * `meaning`: kept when it comes right after the members known (and learning is not resting).
   * One shorter than a word (`"":`) is not kept, so neither is any after it.
   */
  learn(i: number, b: Uint8Array, from: number, to: number, meaning: T | undefined): void {
    const len = to - from;
    if (i !== this.count || this.resting || len < 4) return;
    const start = this.starts[i]!;
    if (start + len > this.bytes.length) {
      const bigger = new Uint8Array(Math.max(2 * this.bytes.length, start + len));
      bigger.set(this.bytes.subarray(0, start));
      this.bytes = bigger;
      this.words = new DataView(bigger.buffer);
    }
    for (let j = 0; j < len; j++) this.bytes[start + j] = b[from + j]!; // no subarray: learning must not allocate
    this.starts[i + 1] = start + len;
    this.meanings[i] = meaning;
    this.count = i + 1;
  }
}

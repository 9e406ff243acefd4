/**
 * The recent vectors of one stream: a ring buffer over one Float64Array, bounded by count
 * and optionally by age. Age is judged against the newest timestamp seen (event time), so
 * replayed or late data evicts by its own clock; `expire(now)` also evicts by wall time for
 * a stream that has gone quiet. Timestamps are stored only when there is an age bound.
 *
 * @example
 * const w = new SlidingWindow({ dimension: 1, capacity: 3 });
 * for (const x of [1, 2, 3, 4]) w.push([x], 0);
 * w.toArray(); // Float64Array [2, 3, 4]
 */
export class SlidingWindow {
  readonly dimension: number;
  readonly capacity: number;
  /** Undefined when only the count bounds the window. */
  readonly maxAgeMs: number | undefined;
  private readonly data: Float64Array;
  private readonly times: Float64Array | undefined;
  /**
   * Where each vector came from (a source lane such as a topic-partition, and a position in
   * it), allocated on the first `tagNewest`; lane -1 marks an untagged slot.
   */
  private lanes: Int32Array | undefined;
  private positions: Float64Array | undefined;
  private head = 0;
  private count = 0;
  private newestMs = -Infinity;
  private changes = 0;

  constructor(options: { dimension: number; capacity: number; maxAgeMs?: number | undefined }) {
    const { dimension, capacity, maxAgeMs } = options;
    if (!Number.isInteger(dimension) || dimension < 1) throw new RangeError(`dimension must be a positive integer, got ${dimension}`);
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    if (maxAgeMs !== undefined && !(maxAgeMs > 0)) throw new RangeError(`maxAgeMs must be positive, got ${maxAgeMs}`);
    this.dimension = dimension;
    this.capacity = capacity;
    this.maxAgeMs = maxAgeMs;
    this.data = new Float64Array(capacity * dimension);
    this.times = maxAgeMs === undefined ? undefined : new Float64Array(capacity);
  }

  /** Vectors in the window. */
  get size(): number {
    return this.count;
  }

  /** Increases on every push and eviction: a cheap "has the window changed since" test. */
  get version(): number {
    return this.changes;
  }

  /**
   * Adds one vector (its first `dimension` values, from `offset`). Returns false, adding
   * nothing, when it is already older than the age bound.
   */
  push(v: ArrayLike<number>, timestampMs: number, offset = 0): boolean {
    const d = this.dimension;
    if (this.times !== undefined) {
      if (timestampMs > this.newestMs) {
        this.newestMs = timestampMs;
        this.evictBefore(timestampMs - this.maxAgeMs!);
      } else if (timestampMs < this.newestMs - this.maxAgeMs!) return false;
    }
    const slot = this.claim();
    const base = slot * d;
    for (let j = 0; j < d; j++) this.data[base + j] = v[offset + j]!;
    if (this.times !== undefined) this.times[slot] = timestampMs;
    this.changes++;
    return true;
  }

  /**
   * `push` and `tagNewest` for many vectors: row first + i of `rows` (dimension values each),
   * for i < count where verdicts[first + i] is 0, with timestamp times[i] and origin lanes[i],
   * positions[i] (lane -1: untagged). Returns how many it was offered (verdict 0), added or,
   * in an age-bounded window, too old. A count-bounded window takes them in one loop over its
   * ring; an age-bounded one a vector at a time.
   */
  pushRows(rows: Float64Array, first: number, count: number, verdicts: Uint8Array, times: Float64Array, lanes: Int32Array, positions: Float64Array): number {
    const d = this.dimension;
    if (this.times !== undefined) {
      let offered = 0;
      for (let i = 0; i < count; i++) {
        if (verdicts[first + i] !== 0) continue;
        offered++;
        if (this.push(rows, times[i]!, (first + i) * d) && lanes[i]! >= 0) this.tagNewest(lanes[i]!, positions[i]!);
      }
      return offered;
    }
    let added = 0;
    const data = this.data;
    for (let i = 0; i < count; i++) {
      if (verdicts[first + i] !== 0) continue;
      const slot = this.claim();
      const from = (first + i) * d;
      for (let j = 0; j < d; j++) data[slot * d + j] = rows[from + j]!;
      const lane = lanes[i]!;
      if (lane >= 0) {
        if (this.lanes === undefined) {
          this.lanes = new Int32Array(this.capacity).fill(-1);
          this.positions = new Float64Array(this.capacity);
        }
        this.lanes[slot] = lane;
        this.positions![slot] = positions[i]!;
      }
      added++;
    }
    this.changes += added;
    return added;
  }

  /** The slot for a new vector: the next free one, or the oldest's, which leaves the window. */
  private claim(): number {
    if (this.count < this.capacity) {
      const slot = this.head + this.count++;
      return slot >= this.capacity ? slot - this.capacity : slot;
    }
    const slot = this.head;
    this.head = slot + 1 === this.capacity ? 0 : slot + 1;
    return slot;
  }

  /** Records where the newest vector came from; call right after a `push` that returned true. */
  tagNewest(lane: number, position: number): void {
    if (this.count === 0) return;
    if (this.lanes === undefined) {
      this.lanes = new Int32Array(this.capacity).fill(-1);
      this.positions = new Float64Array(this.capacity);
    }
    let slot = this.head + this.count - 1;
    if (slot >= this.capacity) slot -= this.capacity;
    this.lanes[slot] = lane;
    this.positions![slot] = position;
  }

  /**
   * Per lane, the smallest position of a tagged vector still in the window, merged into
   * `into` (an existing entry is kept when it is smaller): where a replay must start to
   * rebuild this window.
   */
  oldestPositions(into: Map<number, number>): void {
    const lanes = this.lanes;
    const positions = this.positions;
    if (lanes === undefined || positions === undefined) return;
    for (let i = 0, slot = this.head; i < this.count; i++, slot = slot + 1 === this.capacity ? 0 : slot + 1) {
      const lane = lanes[slot]!;
      if (lane < 0) continue;
      const p = positions[slot]!;
      const known = into.get(lane);
      if (known === undefined || p < known) into.set(lane, p);
    }
  }

  /** Evicts by wall time, for when no new data arrives to do it. Returns how many left. */
  expire(nowMs: number): number {
    if (this.times === undefined) return 0;
    return this.evictBefore(nowMs - this.maxAgeMs!);
  }

  private evictBefore(cutoffMs: number): number {
    const times = this.times!;
    let evicted = 0;
    // Oldest first; late arrivals may sit out of order and leave a little later, which is fine.
    while (this.count > 0 && times[this.head]! < cutoffMs) {
      this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
      this.count--;
      evicted++;
    }
    if (evicted > 0) this.changes++;
    return evicted;
  }

  /** The window's vectors, oldest first, as n×d row-major (into `out` when given, sized to fit). */
  toArray(out?: Float64Array): Float64Array {
    const d = this.dimension;
    const n = this.count;
    const dst = out ?? new Float64Array(n * d);
    if (dst.length < n * d) throw new RangeError(`out holds ${dst.length} values, the window ${n * d}`);
    const first = Math.min(n, this.capacity - this.head);
    dst.set(this.data.subarray(this.head * d, (this.head + first) * d), 0);
    if (first < n) dst.set(this.data.subarray(0, (n - first) * d), first * d);
    return dst;
  }

  /**
   * At most `rows` vectors evenly spread over the window, oldest first, into `out` (n×d,
   * row-major; n returned). All of them when the window holds no more than `rows`.
   */
  sample(rows: number, out: Float64Array): number {
    const n = this.count;
    if (n <= rows) {
      this.toArray(out);
      return n;
    }
    const d = this.dimension;
    if (out.length < rows * d) throw new RangeError(`out holds ${out.length} values, the sample ${rows * d}`);
    for (let i = 0; i < rows; i++) {
      let slot = this.head + Math.floor((i * n) / rows);
      if (slot >= this.capacity) slot -= this.capacity;
      for (let j = 0; j < d; j++) out[i * d + j] = this.data[slot * d + j]!;
    }
    return rows;
  }

  clear(): void {
    this.lanes?.fill(-1);
    this.head = 0;
    this.count = 0;
    this.newestMs = -Infinity;
    this.changes++;
  }
}

import { MEASURES } from './view.js';
import type { Evaluation } from './view.js';

const M = MEASURES.length;
/** Per evaluation: the timestamp, then value and stderr per measure. */
const STRIDE = 1 + 2 * M;

/**
 * The last `capacity` evaluations of a stream, for the status page. Kept as numbers in one
 * Float64Array (and method names interned), not as objects: a thousand streams' histories
 * stay a few megabytes and give the garbage collector nothing to trace.
 */
export class EvaluationHistory {
  readonly capacity: number;
  private readonly numbers: Float64Array;
  private readonly methods: Uint8Array;
  private readonly methodNames: string[] = [];
  private head = 0;
  private count = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.numbers = new Float64Array(capacity * STRIDE);
    this.methods = new Uint8Array(capacity * M);
  }

  get size(): number {
    return this.count;
  }

  push(e: Evaluation): void {
    const slot = (this.head + this.count) % this.capacity;
    if (this.count < this.capacity) this.count++;
    else this.head = (this.head + 1) % this.capacity;
    const base = slot * STRIDE;
    this.numbers[base] = e.timestampMs;
    MEASURES.forEach((m, i) => {
      const d = e.divergences[m];
      this.numbers[base + 1 + 2 * i] = d.value;
      this.numbers[base + 2 + 2 * i] = d.stderr;
      this.methods[slot * M + i] = this.intern(d.method);
    });
  }

  private intern(method: string): number {
    let i = this.methodNames.indexOf(method);
    if (i < 0) {
      if (this.methodNames.length === 255) return 255; // more estimators than exist; shown as 'unknown'
      i = this.methodNames.push(method) - 1;
    }
    return i;
  }

  /** Oldest first. */
  toArray(): Evaluation[] {
    const out: Evaluation[] = [];
    for (let k = 0; k < this.count; k++) {
      const slot = (this.head + k) % this.capacity;
      const base = slot * STRIDE;
      const divergences = {} as Evaluation['divergences'];
      MEASURES.forEach((m, i) => {
        divergences[m] = {
          value: this.numbers[base + 1 + 2 * i]!,
          stderr: this.numbers[base + 2 + 2 * i]!,
          method: this.methodNames[this.methods[slot * M + i]!] ?? 'unknown',
        };
      });
      out.push({ timestampMs: this.numbers[base]!, divergences });
    }
    return out;
  }
}

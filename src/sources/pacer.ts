import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Paces a producer at `rate` items per second of real time: `due()` says how many items are
 * owed now. When the consumer falls more than `maxLagSeconds` behind, the backlog is dropped
 * rather than replayed in a burst: a demo or a replay should slow down, not flood.
 */
export class Pacer {
  private startMs = performance.now();
  private sent = 0;

  constructor(
    readonly rate: number,
    private readonly maxLagSeconds = 1,
  ) {}

  due(): number {
    const owed = Math.floor(((performance.now() - this.startMs) / 1000) * this.rate) - this.sent;
    const cap = Math.max(1, Math.ceil(this.rate * this.maxLagSeconds));
    if (owed > cap) {
      this.sent += owed - cap;
      return cap;
    }
    return Math.max(0, owed);
  }

  sentItems(n: number): void {
    this.sent += n;
  }

  /** Waits until at least one item is owed (or `maxWaitMs`, so a stop is noticed promptly). */
  async wait(maxWaitMs: number, signal?: AbortSignal): Promise<void> {
    const nextAt = this.startMs + ((this.sent + 1) / this.rate) * 1000;
    const ms = Math.min(maxWaitMs, Math.max(0, nextAt - performance.now()));
    if (ms > 0) await sleep(ms, undefined, { signal }).catch(() => undefined);
  }
}

/** Backoff before redelivering a batch the sink rejected: exponential with full jitter. */
export function backoffMs(attempt: number, baseMs = 100, maxMs = 10_000): number {
  return Math.random() * Math.min(maxMs, baseMs * 2 ** attempt);
}

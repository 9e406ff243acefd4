import { createRng, type Rng } from '../math/rng.js';
import type { Clock } from '../stream/clock.js';
import type { DemoSourceConfig } from '../config/types.js';
import { Pacer, backoffMs } from './pacer.js';
import type { BatchSink, Source, SourceLogger, SourceRecord } from './source.js';
import { setTimeout as sleep } from 'node:timers/promises';

export const DEMO_TOPICS = { payments: 'demo.payments', sensors: 'demo.sensors' } as const;

/**
 * The demo world. `demo.payments` carries `amount` (drifts: its mean shifts by 0.8 sd at
 * onset) and `latency_ms` (a stable two-mode mixture that never drifts); `demo.sensors`
 * carries `x`, `y` (two correlated clusters; at onset a third cluster appears far from both,
 * holding a quarter of the mass) and `temperature` (stable).
 */
export const DEMO_STREAMS = {
  amount: { before: { mean: 50, sd: 10 }, after: { mean: 58, sd: 10 } },
  latency: [
    { weight: 0.7, mean: 20, sd: 3 },
    { weight: 0.3, mean: 45, sd: 6 },
  ],
  newMode: { weight: 0.25, mean: [-3, 4] as const, sd: 0.6 },
} as const;

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

/**
 * Generates the demo records, deterministically from the seed and the times it is given.
 * Separate from the pacing so tests can drive it without timers.
 */
export class DemoGenerator {
  private readonly rng: Rng;
  private seq = 0;

  constructor(
    private readonly options: { seed: string | number; driftAtMs: number; malformedFraction: number },
  ) {
    this.rng = createRng(`demo:${options.seed}`);
  }

  /** `n` records on each demo topic, stamped `nowMs`. */
  batch(n: number, nowMs: number): SourceRecord[] {
    const out: SourceRecord[] = [];
    const drifted = nowMs >= this.options.driftAtMs;
    for (let i = 0; i < n; i++) {
      out.push(this.payment(nowMs, drifted), this.sensor(nowMs, drifted));
    }
    return out;
  }

  private payment(ts: number, drifted: boolean): SourceRecord {
    const r = this.rng;
    const a = drifted ? DEMO_STREAMS.amount.after : DEMO_STREAMS.amount.before;
    const [fast, slow] = DEMO_STREAMS.latency;
    const l = r.uniform() < fast.weight ? fast : slow;
    const body = {
      id: this.seq++,
      ts,
      amount: round(a.mean + a.sd * r.normal()),
      latency_ms: round(l.mean + l.sd * r.normal()),
      merchant: `m${Math.floor(r.uniform() * 50)}`,
    };
    return this.emit(DEMO_TOPICS.payments, body, ts);
  }

  private sensor(ts: number, drifted: boolean): SourceRecord {
    const r = this.rng;
    let x: number, y: number;
    const { newMode } = DEMO_STREAMS;
    if (drifted && r.uniform() < newMode.weight) {
      x = newMode.mean[0] + newMode.sd * r.normal();
      y = newMode.mean[1] + newMode.sd * r.normal();
    } else if (r.uniform() < 0.5) {
      // N([0, 0], [[1, 0.6], [0.6, 1]])
      const z1 = r.normal();
      const z2 = r.normal();
      x = z1;
      y = 0.6 * z1 + 0.8 * z2;
    } else {
      x = 3 + 0.7 * r.normal();
      y = 3 + 0.7 * r.normal();
    }
    const body = { id: this.seq++, ts, x: round(x), y: round(y), temperature: round(21 + 0.5 * r.normal()) };
    return this.emit(DEMO_TOPICS.sensors, body, ts);
  }

  /** Now and then a malformed record, of each kind the decoder reports. */
  private emit(topic: string, body: Record<string, unknown>, ts: number): SourceRecord {
    const r = this.rng;
    if (this.options.malformedFraction > 0 && r.uniform() < this.options.malformedFraction) {
      const kind = Math.floor(r.uniform() * 3);
      if (kind === 0) return { topic, value: JSON.stringify(body).slice(0, 12), timestampMs: ts };
      const victim = Object.keys(body).find((k) => k !== 'id' && k !== 'ts' && typeof body[k] === 'number')!;
      if (kind === 1) delete body[victim];
      else body[victim] = 'n/a';
    }
    return { topic, value: JSON.stringify(body), timestampMs: ts };
  }
}

/** Ticks per second of the demo pacing: batches of rate/20 records per topic. */
const TICK_MS = 50;

/** The built-in demo: seeded records on the demo topics at `rate` per topic per second. */
export class DemoSource implements Source {
  readonly name = 'demo';
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly abort = new AbortController();

  constructor(
    private readonly config: DemoSourceConfig,
    private readonly clock: Clock,
    private readonly logger?: SourceLogger,
  ) {}

  async start(sink: BatchSink): Promise<void> {
    if (this.loop) throw new Error('demo source already started');
    const startMs = this.clock.now();
    const gen = new DemoGenerator({
      seed: this.config.seed,
      driftAtMs: startMs + this.config.driftAfterSeconds * 1000,
      malformedFraction: this.config.malformedFraction,
    });
    this.running = true;
    this.logger?.info(
      { topics: Object.values(DEMO_TOPICS), rate: this.config.rate, driftAfterSeconds: this.config.driftAfterSeconds },
      'demo source started',
    );
    this.loop = this.run(gen, sink);
  }

  private async run(gen: DemoGenerator, sink: BatchSink): Promise<void> {
    const pacer = new Pacer(this.config.rate);
    while (this.running) {
      const n = pacer.due();
      if (n === 0) {
        await pacer.wait(TICK_MS, this.abort.signal);
        continue;
      }
      const batch = gen.batch(n, this.clock.now());
      pacer.sentItems(n);
      await this.deliver(batch, sink);
    }
  }

  /** At-least-once: a rejected batch is delivered again after a backoff, until stopped. */
  private async deliver(batch: SourceRecord[], sink: BatchSink): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await sink(batch);
        return;
      } catch (err) {
        this.logger?.error({ err, attempt, records: batch.length }, 'sink rejected a demo batch; retrying');
        if (!this.running) return;
        await sleep(backoffMs(attempt), undefined, { signal: this.abort.signal }).catch(() => undefined);
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await this.loop;
    this.loop = undefined;
  }

  isConnected(): boolean {
    return this.running;
  }
}

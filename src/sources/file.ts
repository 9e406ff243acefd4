import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FileSourceConfig } from '../config/types.js';
import type { Clock } from '../stream/clock.js';
import { csvRowToObject, splitCsvLine } from './csv.js';
import { Pacer, backoffMs } from './pacer.js';
import type { BatchSink, Source, SourceLogger, SourceRecord } from './source.js';

/** Records per batch when replaying as fast as possible. */
const MAX_BATCH = 1000;
/** Longest pause between paced batches, so a stop is noticed promptly. */
const TICK_MS = 50;

/**
 * Replays a JSON-lines or CSV (with a header) file, at `rate` records per second or as fast
 * as the monitor takes them (`rate: 0`), once or in a loop. `finished` settles when a replay
 * without `loop` reaches the end of the file.
 */
export class FileSource implements Source {
  readonly name = 'file';
  readonly finished: Promise<void>;
  private resolveFinished!: () => void;
  private running = false;
  /** A replay without `loop` reached the end of the file: everything it has is delivered. */
  private completed = false;
  private loop: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private lines = 0;

  constructor(
    private readonly config: FileSourceConfig,
    private readonly clock: Clock,
    private readonly logger?: SourceLogger,
  ) {
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
  }

  async start(sink: BatchSink): Promise<void> {
    if (this.loop) throw new Error('file source already started');
    await access(this.config.path).catch((err: NodeJS.ErrnoException) => {
      throw new Error(`cannot read replay file ${this.config.path}: ${err.code ?? err.message}`);
    });
    this.running = true;
    this.logger?.info({ path: this.config.path, format: this.config.format, rate: this.config.rate }, 'file replay started');
    this.loop = this.run(sink)
      .then(() => void (this.completed = this.running))
      .catch((err: unknown) => this.logger?.error({ err, path: this.config.path }, 'file replay failed'))
      .finally(() => {
        this.running = false;
        this.resolveFinished();
      });
  }

  private async run(sink: BatchSink): Promise<void> {
    const pacer = this.config.rate > 0 ? new Pacer(this.config.rate) : undefined;
    do {
      const before = this.lines;
      await this.replayOnce(sink, pacer);
      if (this.lines === before) break; // an empty file would loop forever
      if (this.running) this.logger?.info({ records: this.lines - before }, 'file replay reached the end');
    } while (this.running && this.config.loop);
  }

  private async replayOnce(sink: BatchSink, pacer: Pacer | undefined): Promise<void> {
    const input = createReadStream(this.config.path, { encoding: 'utf8' });
    const rl = createInterface({ input, crlfDelay: Infinity });
    const csv = this.config.format === 'csv';
    let header: string[][] | undefined;
    let batch: SourceRecord[] = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const b = batch;
      batch = [];
      await this.deliver(b, sink);
      pacer?.sentItems(b.length);
    };
    try {
      for await (const line of rl) {
        if (!this.running) break;
        if (line.trim() === '') continue;
        if (csv && header === undefined) {
          header = splitCsvLine(line).map((h) => h.trim().split('.'));
          continue;
        }
        this.lines++;
        batch.push(this.record(line, header));
        if (pacer) {
          let due = pacer.due();
          while (due === 0 && batch.length < MAX_BATCH && this.running) {
            await pacer.wait(TICK_MS, this.abort.signal);
            due = pacer.due();
          }
          if (batch.length >= due || batch.length >= MAX_BATCH) await flush();
        } else if (batch.length >= MAX_BATCH) await flush();
      }
      if (this.running) await flush();
    } finally {
      rl.close();
      input.destroy();
    }
  }

  private record(line: string, header: string[][] | undefined): SourceRecord {
    const { topic, timestampField } = this.config;
    let value: string = line;
    let obj: unknown;
    if (header) {
      obj = csvRowToObject(header, splitCsvLine(line));
      value = JSON.stringify(obj);
    } else if (timestampField) {
      try {
        obj = JSON.parse(line);
      } catch {
        // The decoder counts it as invalid_json.
      }
    }
    return { topic, value, timestampMs: (timestampField && eventTime(obj, timestampField)) || this.clock.now() };
  }

  private async deliver(batch: SourceRecord[], sink: BatchSink): Promise<void> {
    for (let attempt = 0; this.running; attempt++) {
      try {
        await sink(batch);
        return;
      } catch (err) {
        this.logger?.error({ err, attempt, records: batch.length }, 'sink rejected a replay batch; retrying');
        await sleep(backoffMs(attempt), undefined, { signal: this.abort.signal }).catch(() => undefined);
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    this.completed = false;
    this.abort.abort();
    await this.loop;
  }

  /**
   * While replaying, and after a replay reached its end: the monitor then serves what it read,
   * and /readyz should not report a lost source. Not after a failed replay, nor once stopped.
   */
  isConnected(): boolean {
    return this.running || this.completed;
  }
}

/** Epoch milliseconds from a number (ms) or an ISO 8601 string at a dotted path; undefined if neither. */
function eventTime(obj: unknown, field: string): number | undefined {
  let v: unknown = obj;
  for (const key of field.split('.')) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

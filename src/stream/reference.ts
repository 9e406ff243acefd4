import { readFile, stat } from 'node:fs/promises';
import type { NullDistribution } from '../calibration/null.js';
import type { StreamConfig } from '../config/types.js';
import { gmmFromJson, gmmToJson, type GmmJson } from '../gmm/json.js';
import type { Gmm } from '../gmm/model.js';
import type { Clock } from './clock.js';
import type { MonitorLogger } from './logger.js';
import { loadSnapshot, saveSnapshot, type ReferenceSnapshot } from './snapshot.js';

/**
 * Where a vector's record sits in its source: a lane (one topic-partition, numbered by the
 * monitor) and its offset there. Windows remember it so a restart knows where to replay from.
 */
export interface RecordOrigin {
  lane: number;
  position: number;
}

export interface ReferenceDeps {
  clock: Clock;
  logger: MonitorLogger;
  /** Where snapshot references live. */
  stateDir: string;
}

/** A new reference, and the null kept with it (undefined: bootstrap one). */
export type OnReference = (kept: NullDistribution | undefined) => void;

/**
 * A stream's reference mixture and where it came from: an operator's re-baseline kept in the
 * state directory, the configured file or snapshot, a checkpoint, or the first n vectors of
 * the stream, collected here and fitted by the stream. It also knows what a restart needs to
 * get the same reference back: a snapshot, or where its data began in each lane.
 */
export class StreamReference {
  model: Gmm | undefined;
  json: GmmJson | undefined;
  samples = 0;
  /** Mean log-likelihood on its own data, when known: the window's first fit starts from it. */
  meanLogLik: number | undefined;
  createdAtMs = 0;
  /** 'operator' once re-baselined by an operator. */
  setBy: 'operator' | undefined;
  /** Per lane, the position of the first record of the reference's data, while it may still be needed. */
  private readonly from = new Map<number, number>();
  /**
   * While the reference is being collected: of the first n vectors, the m ≤ fit.maxSamples
   * evenly spread ones it will be fitted to (vector floor(i·n/m) is the i-th kept).
   */
  private collecting: { buffer: Float64Array; n: number; m: number; count: number; kept: number } | undefined;

  constructor(
    private readonly config: StreamConfig,
    private readonly deps: ReferenceDeps,
    /** Called whenever a reference takes effect (the stream calibrates it). */
    private readonly onReference: OnReference,
  ) {}

  private get name(): string {
    return this.config.name;
  }

  private get dimension(): number {
    return this.config.fields.length;
  }

  /**
   * An operator's re-baseline kept in the state directory, else the configured file or
   * snapshot; failing those, starts collecting the first n vectors.
   */
  async load(): Promise<void> {
    const ref = this.config.reference;
    let fileMtimeMs: number | undefined;
    if (ref.policy === 'file') fileMtimeMs = await stat(ref.path).then((st) => st.mtimeMs, () => undefined);
    if (await this.restoreOperatorReference(fileMtimeMs)) return;
    if (ref.policy === 'file') {
      let model: Gmm;
      try {
        model = gmmFromJson(JSON.parse(await readFile(ref.path, 'utf8')));
      } catch (err) {
        throw new Error(`stream ${this.name}: cannot load reference model ${ref.path}: ${(err as Error).message}`, { cause: err });
      }
      // Set when the file was written, not at every start: "reference age" means the data's age.
      this.set(model, 0, undefined, fileMtimeMs);
      return;
    }
    if (ref.policy === 'snapshot') {
      try {
        const snap = await loadSnapshot(this.deps.stateDir, this.name);
        if (snap && this.fits(snap)) {
          this.set(snap.model, snap.samples, snap.meanLogLik, snap.createdAtMs, snap.null);
          this.deps.logger.info({ stream: this.name, samples: snap.samples, createdAtMs: snap.createdAtMs }, 'reference restored from snapshot');
          return;
        }
        if (snap) this.deps.logger.warn({ stream: this.name, fields: snap.fields }, 'snapshot is for other fields; collecting a new reference');
      } catch (err) {
        this.deps.logger.warn({ stream: this.name, err }, 'cannot read the reference snapshot; collecting a new reference');
      }
    }
    const m = Math.min(ref.n, this.config.fit.maxSamples);
    this.collecting = { buffer: new Float64Array(m * this.dimension), n: ref.n, m, count: 0, kept: 0 };
  }

  /** Whether a snapshot is for this stream's fields. */
  private fits(snap: ReferenceSnapshot): boolean {
    return snap.fields.join('\0') === this.config.fields.join('\0') && snap.model.d === this.dimension;
  }

  /** Makes `model` the reference (collection, if any, ends) and tells the stream. */
  set(
    model: Gmm,
    samples: number,
    meanLogLik?: number,
    createdAtMs = this.deps.clock.now(),
    kept?: NullDistribution,
    setBy?: 'operator',
  ): void {
    if (model.d !== this.dimension) {
      throw new Error(`stream ${this.name}: the reference model has d=${model.d} but the stream has ${this.dimension} fields`);
    }
    this.model = model;
    this.json = gmmToJson(model);
    this.samples = samples;
    this.meanLogLik = meanLogLik;
    this.createdAtMs = createdAtMs;
    this.setBy = setBy;
    this.collecting = undefined;
    this.onReference(kept);
  }

  /**
   * An operator's re-baseline kept in the state directory wins over the configured reference,
   * whatever the policy; for `file`, unless the file was written after it (a newer model).
   */
  private async restoreOperatorReference(fileMtimeMs: number | undefined): Promise<boolean> {
    let snap: ReferenceSnapshot | undefined;
    try {
      snap = await loadSnapshot(this.deps.stateDir, this.name);
    } catch (err) {
      // `load` reads the same file for the snapshot policy, and says what it does about it.
      if (this.config.reference.policy !== 'snapshot') {
        this.deps.logger.warn({ stream: this.name, err }, 'cannot read the reference snapshot; using the configured reference');
      }
      return false;
    }
    if (snap?.setBy !== 'operator') return false;
    if (!this.fits(snap)) {
      this.deps.logger.warn({ stream: this.name, fields: snap.fields }, 'the re-baselined reference is for other fields; using the configured reference');
      return false;
    }
    if (fileMtimeMs !== undefined && fileMtimeMs > snap.createdAtMs) {
      this.deps.logger.info({ stream: this.name }, 'the reference file is newer than the last re-baseline; using the file');
      return false;
    }
    this.set(snap.model, snap.samples, snap.meanLogLik, snap.createdAtMs, snap.null, 'operator');
    this.deps.logger.info({ stream: this.name, samples: snap.samples, createdAtMs: snap.createdAtMs }, 're-baselined reference restored');
    return true;
  }

  /**
   * The reference as a snapshot, to keep across restarts; undefined while it is being
   * collected, and for a reference from a file (the file keeps it).
   */
  snapshot(kept: NullDistribution | undefined): ReferenceSnapshot | undefined {
    if (this.model === undefined) return undefined;
    if (this.config.reference.policy === 'file' && this.setBy !== 'operator') return undefined;
    return {
      stream: this.name,
      fields: [...this.config.fields],
      samples: this.samples,
      meanLogLik: this.meanLogLik,
      createdAtMs: this.createdAtMs,
      model: this.model,
      ...(this.setBy === undefined ? {} : { setBy: this.setBy }),
      ...(kept === undefined ? {} : { null: kept }),
    };
  }

  /**
   * Adopts a reference kept elsewhere (a checkpoint) instead of collecting one, or instead of
   * an older one loaded from the state directory: with scale-out, an instance that gets a
   * stream back loads what it kept from its earlier ownership, and a re-baseline made since
   * by another owner must not lose to that. Refused (false) when the stream's reference is
   * as new or newer, or the snapshot is for other fields.
   */
  restore(snap: ReferenceSnapshot): boolean {
    if (!this.fits(snap)) return false;
    if (this.model !== undefined && !(snap.createdAtMs > this.createdAtMs)) return false;
    const replaced = this.model !== undefined;
    this.set(snap.model, snap.samples, snap.meanLogLik, snap.createdAtMs, snap.null, snap.setBy);
    this.from.clear();
    this.deps.logger.info(
      { stream: this.name, samples: snap.samples, createdAtMs: snap.createdAtMs },
      replaced ? 'a newer reference restored from checkpoint' : 'reference restored from checkpoint',
    );
    return true;
  }

  /** An operator's new reference, already kept in the state directory by the caller. */
  rebaselined(model: Gmm, samples: number, meanLogLik: number | undefined, atMs: number): void {
    this.set(model, samples, meanLogLik, atMs, undefined, 'operator');
    this.from.clear();
  }

  /**
   * Per lane, the position of the first record of the reference's data: a restart that finds
   * no kept reference replays from there to collect the same one. Empty once restored.
   */
  get origins(): ReadonlyMap<number, number> {
    return this.from;
  }

  /** Offers a vector (`dimension` values from `offset`) to the reference still being collected (ignored once it is complete). */
  collect(v: Float64Array, origin: RecordOrigin | undefined, offset = 0): void {
    const c = this.collecting;
    if (c === undefined || c.count >= c.n) return;
    if (origin !== undefined && !this.from.has(origin.lane)) this.from.set(origin.lane, origin.position);
    if (c.count === Math.floor((c.kept * c.n) / c.m)) c.buffer.set(v.subarray(offset, offset + this.dimension), c.kept++ * this.dimension);
    c.count++;
  }

  /** Whether vectors offered to `collect` are still taken. */
  get collects(): boolean {
    const c = this.collecting;
    return c !== undefined && c.count < c.n;
  }

  /** Vectors collected so far (the reference's sample count once it is set). */
  get collected(): number {
    return this.model ? this.samples : (this.collecting?.count ?? 0);
  }

  /** The collected data, once all n vectors are in: m evenly spread rows (n×d row-major) of n. */
  collectedData(): { X: Float64Array; rows: number; of: number } | undefined {
    const c = this.collecting;
    return c !== undefined && c.count === c.n ? { X: c.buffer, rows: c.m, of: c.n } : undefined;
  }

  /** Keeps a reference fitted to the collected data as a snapshot, when that is the policy. */
  async keepFitted(): Promise<void> {
    if (this.config.reference.policy !== 'snapshot' || this.model === undefined) return;
    try {
      await saveSnapshot(this.deps.stateDir, {
        stream: this.name,
        fields: this.config.fields,
        samples: this.samples,
        meanLogLik: this.meanLogLik,
        createdAtMs: this.deps.clock.now(),
        model: this.model,
      });
    } catch (err) {
      this.deps.logger.warn({ stream: this.name, err }, 'cannot save the reference snapshot; it will be refitted after a restart');
    }
  }
}

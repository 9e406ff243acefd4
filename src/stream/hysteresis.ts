/**
 * Alert state with hysteresis, as a small drift detector in River's style: public
 * hyperparameters set once, private state reset in one place, `update(x)` returns the
 * detector, `driftDetected` read-only.
 *
 * The alert raises after `raiseAfter` consecutive values at or above `threshold` and clears
 * after `clearAfter` consecutive values below it; a NaN is no evidence either way and is
 * ignored.
 *
 * @example
 * const det = new HysteresisDetector({ threshold: 1, raiseAfter: 2, clearAfter: 2 });
 * [0, 2, 2, 0, 2, 0, 0].map((x) => det.update(x).driftDetected);
 * // [false, false, true, true, true, true, false]
 */
export class HysteresisDetector {
  readonly threshold: number;
  readonly raiseAfter: number;
  readonly clearAfter: number;
  private _driftDetected = false;
  private above = 0;
  private below = 0;

  constructor(options: { threshold?: number; raiseAfter?: number; clearAfter?: number } = {}) {
    this.threshold = options.threshold ?? 1;
    this.raiseAfter = options.raiseAfter ?? 3;
    this.clearAfter = options.clearAfter ?? 3;
    for (const [name, v] of [
      ['raiseAfter', this.raiseAfter],
      ['clearAfter', this.clearAfter],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
    }
    this.reset();
  }

  /** True while the alert is raised. */
  get driftDetected(): boolean {
    return this._driftDetected;
  }

  update(x: number): this {
    if (Number.isNaN(x)) return this;
    if (x >= this.threshold) {
      this.above++;
      this.below = 0;
      if (!this._driftDetected && this.above >= this.raiseAfter) this._driftDetected = true;
    } else {
      this.below++;
      this.above = 0;
      if (this._driftDetected && this.below >= this.clearAfter) this._driftDetected = false;
    }
    return this;
  }

  reset(): this {
    this._driftDetected = false;
    this.above = 0;
    this.below = 0;
    return this;
  }
}

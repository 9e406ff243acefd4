/** Where klaxon reads the time: injected, so tests run on a clock they move themselves. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told to; for tests. */
export class ManualClock implements Clock {
  constructor(private ms = 0) {}

  now(): number {
    return this.ms;
  }

  advance(ms: number): this {
    this.ms += ms;
    return this;
  }

  set(ms: number): this {
    this.ms = ms;
    return this;
  }
}

/** The source of "now". Every time-dependent rule takes a Clock so tests control time instead of sleeping. */
export interface Clock {
  now(): Date;
  /** now() as epoch milliseconds, without making a Date (a worker reads the time several times per task). */
  nowMs(): number;
}

export const systemClock: Clock = { now: () => new Date(), nowMs: () => Date.now() };

/** A clock that moves only when told to; for tests and simulations. */
export class ManualClock implements Clock {
  #ms: number;

  constructor(start: Date | number = Date.UTC(2026, 0, 1)) {
    this.#ms = typeof start === 'number' ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.#ms);
  }

  nowMs(): number {
    return this.#ms;
  }

  advance(ms: number): void {
    this.#ms += ms;
  }

  set(to: Date | number): void {
    this.#ms = typeof to === 'number' ? to : to.getTime();
  }
}

/** A timer made by a Clock; only good for handing back to the same Clock's clearTimeout. */
export type ClockTimer = object;

/**
 * The source of "now", and of timers. Every time-dependent rule and every loop takes a Clock, so tests
 * control time instead of sleeping: on a ManualClock, a timer fires when the test advances the clock.
 */
export interface Clock {
  now(): Date;
  /** now() as epoch milliseconds, without making a Date (a worker reads the time several times per task). */
  nowMs(): number;
  /** Calls `fn(...args)` once `ms` have passed on this clock. Arguments instead of a closure: hot paths make one per task. */
  setTimeout<A extends unknown[]>(fn: (...args: A) => void, ms: number, ...args: A): ClockTimer;
  /** Cancels a timer of this clock; nothing happens for null, undefined or one that already fired. */
  clearTimeout(timer: ClockTimer | null | undefined): void;
  /** Resolves once `ms` have passed on this clock, or at once (without rejecting) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

function sleepOn(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export const systemClock: Clock = {
  now: () => new Date(),
  nowMs: () => Date.now(),
  // Node's own functions, not wrappers: the worker sets a timer for every task.
  setTimeout: setTimeout as Clock['setTimeout'],
  clearTimeout: clearTimeout as Clock['clearTimeout'],
  sleep: (ms, signal) => sleepOn(systemClock, ms, signal),
};

interface ManualTimer {
  readonly dueMs: number;
  /** Ties at the same due time fire in the order they were set, as real timers do. */
  readonly order: number;
  readonly fire: () => void;
}

/**
 * A clock that moves only when told to; for tests and simulations. Its timers fire when advance() or
 * set() moves the clock past their due time, in due order, each seeing now() at its own due time. A
 * timer set for a time that has already come (a delay of 0 or less) fires on the next turn of the
 * event loop, as a real one would, without the clock moving.
 */
export class ManualClock implements Clock {
  #ms: number;
  #timers: ManualTimer[] = [];
  #order = 0;

  constructor(start: Date | number = Date.UTC(2026, 0, 1)) {
    this.#ms = typeof start === 'number' ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.#ms);
  }

  nowMs(): number {
    return this.#ms;
  }

  setTimeout<A extends unknown[]>(fn: (...args: A) => void, ms: number, ...args: A): ClockTimer {
    const timer: ManualTimer = { dueMs: this.#ms + Math.max(0, Number.isFinite(ms) ? ms : 0), order: this.#order++, fire: () => fn(...args) };
    this.#timers.push(timer);
    if (timer.dueMs <= this.#ms) setImmediate(() => this.#fireIfPending(timer));
    return timer;
  }

  clearTimeout(timer: ClockTimer | null | undefined): void {
    if (!timer) return;
    const index = this.#timers.indexOf(timer as ManualTimer);
    if (index >= 0) this.#timers.splice(index, 1);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  /** When each timer set and not yet fired or cleared comes due (epoch ms), soonest first. */
  timerDueTimes(): number[] {
    return this.#timers.map((timer) => timer.dueMs).sort((a, b) => a - b);
  }

  /** Moves the clock forward, firing every timer that comes due on the way (also those they set). */
  advance(ms: number): void {
    this.#runUntil(this.#ms + ms);
  }

  /** Moves the clock to a time; moving it forward fires the timers due on the way. */
  set(to: Date | number): void {
    const target = typeof to === 'number' ? to : to.getTime();
    if (target > this.#ms) this.#runUntil(target);
    else this.#ms = target;
  }

  #runUntil(target: number): void {
    for (let next = this.#next(); next !== null && next.dueMs <= target; next = this.#next()) {
      this.#timers.splice(this.#timers.indexOf(next), 1);
      this.#ms = Math.max(this.#ms, next.dueMs);
      next.fire();
    }
    this.#ms = Math.max(this.#ms, target);
  }

  #fireIfPending(timer: ManualTimer): void {
    const index = this.#timers.indexOf(timer);
    if (index < 0) return;
    this.#timers.splice(index, 1);
    timer.fire();
  }

  #next(): ManualTimer | null {
    let next: ManualTimer | null = null;
    for (const timer of this.#timers) {
      if (next === null || timer.dueMs < next.dueMs || (timer.dueMs === next.dueMs && timer.order < next.order)) next = timer;
    }
    return next;
  }
}

import type { Clock, ClockTimer } from '../core/clock.ts';

/**
 * Wakes one waiting loop. A notify() that arrives while nobody waits is remembered, so an event that
 * lands during a claim (a task inserted just after the claim looked) is never missed. The wait's
 * timeout runs on the Clock, so a ManualClock drives the loop in tests.
 */
export class WakeSignal {
  readonly #clock: Clock;
  #pending = false;
  #resolve: ((notified: boolean) => void) | null = null;
  #timer: ClockTimer | null = null;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  notify(): void {
    const resolve = this.#resolve;
    if (resolve) {
      this.#end();
      resolve(true);
    } else {
      this.#pending = true;
    }
  }

  /** Resolves true when notified, false when `timeoutMs` passed first. One waiter at a time. */
  wait(timeoutMs: number): Promise<boolean> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      this.#resolve = resolve;
      this.#timer = this.#clock.setTimeout(this.#timedOut, timeoutMs);
    });
  }

  readonly #timedOut = (): void => {
    const resolve = this.#resolve;
    this.#timer = null;
    this.#resolve = null;
    resolve?.(false);
  };

  #end(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#resolve = null;
  }
}

import type { Clock } from '../core/clock.ts';

const MAX_KEYS = 100_000;

/**
 * A fixed-window counter per key (a user id, an address), on the injected Clock so tests can move
 * time. Used where a limit belongs to a caller rather than to a route: one user's task creations
 * count together whether they arrive at /tasks, /api/v1/tasks or /tasks/batch.
 * In-process: several API servers each allow the limit.
 */
export class RateLimiter {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #clock: Clock;
  readonly #windows = new Map<string, { start: number; count: number }>();

  /** `max` 0 disables the limit. */
  constructor(p: { max: number; windowMs: number; clock: Clock }) {
    this.#max = p.max;
    this.#windowMs = p.windowMs;
    this.#clock = p.clock;
  }

  /** Counts one request for `key`; returns 0 when allowed, else the ms until the window resets. */
  take(key: string): number {
    if (this.#max <= 0) return 0;
    const now = this.#clock.now().getTime();
    let window = this.#windows.get(key);
    if (!window || now - window.start >= this.#windowMs || now < window.start) {
      if (!window && this.#windows.size >= MAX_KEYS) this.#sweep(now);
      window = { start: now, count: 0 };
      this.#windows.set(key, window);
    }
    if (window.count >= this.#max) return window.start + this.#windowMs - now;
    window.count += 1;
    return 0;
  }

  #sweep(now: number): void {
    for (const [key, window] of this.#windows) if (now - window.start >= this.#windowMs) this.#windows.delete(key);
    if (this.#windows.size >= MAX_KEYS) this.#windows.clear();
  }
}

/**
 * Errors a handler throws to steer what happens to its task. Any other error is retried by the
 * task's strategy.
 */

/**
 * `instanceof` for these classes also recognises them from another copy of this package: a
 * TypeScript task module that tsx compiles to CommonJS (a project without "type": "module") loads its
 * own copy, and the errors its handler throws must still steer the task. Each instance carries its
 * class's name under a symbol from the global registry, which every copy shares.
 */
const BRAND = Symbol.for('conveyor-tasks.task-error');

function brand(error: Error, name: string): void {
  Object.defineProperty(error, BRAND, { value: name });
}

function hasBrand(value: unknown, name: string): boolean {
  return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === name;
}

/** Retrying cannot help (invalid payload, a 4xx answer): the task goes straight to the dead letter. */
export class PermanentTaskError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    // A subclass keeps the ordinary check; the class itself accepts any copy's instances.
    return this === PermanentTaskError ? hasBrand(value, 'PermanentTaskError') : Function.prototype[Symbol.hasInstance].call(this, value);
  }

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentTaskError';
    brand(this, 'PermanentTaskError');
  }
}

/** Worth retrying, and no sooner than `retryAfterMs` (a 429's Retry-After, an SMTP 4xx). */
export class RetryableTaskError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    // A subclass keeps the ordinary check; the class itself accepts any copy's instances.
    return this === RetryableTaskError ? hasBrand(value, 'RetryableTaskError') : Function.prototype[Symbol.hasInstance].call(this, value);
  }

  readonly retryAfterMs: number | undefined;

  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RetryableTaskError';
    brand(this, 'RetryableTaskError');
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/** The longest snooze: a task put off further is better scheduled anew. */
export const MAX_SNOOZE_MS = 365 * 24 * 3_600_000;

/**
 * Not yet: run this task again in `delayMs`, without spending an attempt. For waiting on something
 * outside (a report still being prepared, a batch window, a quota that resets), as River's JobSnooze.
 * The attempt is recorded as `snoozed`; a snooze of 0 puts the task back in line at once.
 */
export class SnoozeTaskError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    // A subclass keeps the ordinary check; the class itself accepts any copy's instances.
    return this === SnoozeTaskError ? hasBrand(value, 'SnoozeTaskError') : Function.prototype[Symbol.hasInstance].call(this, value);
  }

  readonly delayMs: number;

  constructor(delayMs: number, message = `snoozed for ${delayMs} ms`) {
    super(message);
    this.name = 'SnoozeTaskError';
    brand(this, 'SnoozeTaskError');
    if (!Number.isFinite(delayMs) || delayMs < 0 || delayMs > MAX_SNOOZE_MS) {
      throw new RangeError(`SnoozeTaskError: delayMs must be from 0 to ${MAX_SNOOZE_MS} (365 days), got ${delayMs}`);
    }
    this.delayMs = delayMs;
  }
}

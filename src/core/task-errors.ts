/**
 * Errors a handler throws to steer what happens to its task. Any other error is retried by the
 * task's strategy.
 */

/** Retrying cannot help (invalid payload, a 4xx answer): the task goes straight to the dead letter. */
export class PermanentTaskError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentTaskError';
  }
}

/** Worth retrying, and no sooner than `retryAfterMs` (a 429's Retry-After, an SMTP 4xx). */
export class RetryableTaskError extends Error {
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RetryableTaskError';
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
  readonly delayMs: number;

  constructor(delayMs: number, message = `snoozed for ${delayMs} ms`) {
    super(message);
    this.name = 'SnoozeTaskError';
    if (!Number.isFinite(delayMs) || delayMs < 0 || delayMs > MAX_SNOOZE_MS) {
      throw new RangeError(`SnoozeTaskError: delayMs must be from 0 to ${MAX_SNOOZE_MS} (365 days), got ${delayMs}`);
    }
    this.delayMs = delayMs;
  }
}

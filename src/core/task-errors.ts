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

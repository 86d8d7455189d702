import { validationError } from './errors.ts';

/**
 * Retry strategies exactly as the guide defines them: after attempt n fails (n counts from 1) the next
 * attempt waits
 *   exponential: min(base_delay_ms × multiplier^n, max_delay_ms)
 *   linear:      min(base_delay_ms + increment_ms × n, max_delay_ms)
 *   fixed:       interval_ms
 * and no attempt follows once n ≥ max_attempts (the task goes to the dead letter).
 *
 * On top of the guide, `jitter` (0..1, default 0.1) spreads retries so that tasks failing together do
 * not all come back in the same millisecond: the delay is drawn uniformly from
 * [delay × (1 − jitter), delay], so it never exceeds the guide's delay or its cap.
 */
export type RetryStrategy =
  | { type: 'exponential'; base_delay_ms: number; multiplier: number; max_delay_ms: number; max_attempts: number; jitter: number }
  | { type: 'linear'; base_delay_ms: number; increment_ms: number; max_delay_ms: number; max_attempts: number; jitter: number }
  | { type: 'fixed'; interval_ms: number; max_attempts: number; jitter: number };

export type RetryStrategyType = RetryStrategy['type'];
export const RETRY_STRATEGY_TYPES: readonly RetryStrategyType[] = ['exponential', 'linear', 'fixed'];

export const DEFAULT_JITTER = 0.1;
export const DEFAULT_MAX_ATTEMPTS = 3;
export const MAX_ATTEMPTS_LIMIT = 1000;
const MAX_DELAY_LIMIT_MS = 30 * 24 * 3600 * 1000;

/** The guide's default: exponential from 1 s, doubling, capped at 5 minutes, 3 attempts in all. */
export const DEFAULT_RETRY_STRATEGY: RetryStrategy = Object.freeze({
  type: 'exponential',
  base_delay_ms: 1000,
  multiplier: 2,
  max_delay_ms: 300_000,
  max_attempts: DEFAULT_MAX_ATTEMPTS,
  jitter: DEFAULT_JITTER,
});

/**
 * How a task row stores its strategy: the empty object `{}` when it is the default apart from
 * `max_attempts` (which the row's own column holds), as for most tasks, and the strategy in full
 * otherwise. The default takes 164 bytes as PostgreSQL jsonb, and every row version carries it: the
 * insert, the claim and the completion copy the whole row, so it was a quarter of the WAL a task's
 * drain wrote, and half of each finished task's row in the history.
 */
export const STORED_DEFAULT_STRATEGY = '{}';

/** The text a task row stores for `strategy` (see STORED_DEFAULT_STRATEGY). */
export function storedRetryStrategy(strategy: RetryStrategy): string {
  const d = DEFAULT_RETRY_STRATEGY as Extract<RetryStrategy, { type: 'exponential' }>;
  const isDefault =
    strategy.type === 'exponential' &&
    strategy.base_delay_ms === d.base_delay_ms &&
    strategy.multiplier === d.multiplier &&
    strategy.max_delay_ms === d.max_delay_ms &&
    strategy.jitter === d.jitter;
  return isDefault ? STORED_DEFAULT_STRATEGY : JSON.stringify(strategy);
}

/** The strategy of a task row: what it stored (the empty object for the default), with the row's max_attempts. */
export function retryStrategyOfRow(stored: RetryStrategy | Record<string, never>, maxAttempts: number): RetryStrategy {
  const storedDefault = typeof stored === 'object' && stored !== null && (stored as { type?: unknown }).type === undefined;
  const strategy = storedDefault ? DEFAULT_RETRY_STRATEGY : (stored as RetryStrategy);
  return { ...strategy, max_attempts: maxAttempts };
}

/** The nominal delay, in ms, before the attempt after attempt `failedAttempt`; null when none follows. */
export function retryDelayMs(strategy: RetryStrategy, failedAttempt: number): number | null {
  if (failedAttempt >= strategy.max_attempts) return null;
  switch (strategy.type) {
    case 'exponential':
      return Math.min(strategy.base_delay_ms * strategy.multiplier ** failedAttempt, strategy.max_delay_ms);
    case 'linear':
      return Math.min(strategy.base_delay_ms + strategy.increment_ms * failedAttempt, strategy.max_delay_ms);
    case 'fixed':
      return strategy.interval_ms;
  }
}

/**
 * When the next attempt is due, jitter applied; null when the task has used its attempts.
 * `minDelayMs` puts it no sooner than that (a 429's Retry-After, an SMTP server's "try later").
 */
export function nextRetryAt(
  strategy: RetryStrategy,
  failedAttempt: number,
  now: Date,
  random: () => number = Math.random,
  minDelayMs = 0,
): Date | null {
  const delay = retryDelayMs(strategy, failedAttempt);
  if (delay === null) return null;
  const jittered = delay * (1 - strategy.jitter * random());
  return new Date(now.getTime() + Math.max(Math.round(jittered), minDelayMs));
}

/**
 * Reads a strategy as a client sends it: the guide's serde form (`{"type": "Exponential", ...}`) or
 * lower case, with defaults for what is left out. Unknown types, unknown fields and out-of-range
 * numbers are refused with an error naming the field.
 */
export function parseRetryStrategy(input: unknown, field = 'retry_strategy'): RetryStrategy {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw validationError(field, 'must be an object such as {"type": "exponential", "base_delay_ms": 1000}');
  }
  const raw = input as Record<string, unknown>;
  const type = typeof raw.type === 'string' ? raw.type.toLowerCase() : raw.type;
  const reader = new FieldReader(raw, field);
  let strategy: RetryStrategy;
  switch (type) {
    case 'exponential': {
      const base = reader.integer('base_delay_ms', 1000, 0, MAX_DELAY_LIMIT_MS);
      strategy = {
        type,
        base_delay_ms: base,
        multiplier: reader.number('multiplier', 2, 1, 100),
        max_delay_ms: reader.integer('max_delay_ms', Math.max(300_000, base), base, MAX_DELAY_LIMIT_MS),
        max_attempts: reader.integer('max_attempts', DEFAULT_MAX_ATTEMPTS, 1, MAX_ATTEMPTS_LIMIT),
        jitter: reader.number('jitter', DEFAULT_JITTER, 0, 1),
      };
      break;
    }
    case 'linear': {
      const base = reader.integer('base_delay_ms', 1000, 0, MAX_DELAY_LIMIT_MS);
      strategy = {
        type,
        base_delay_ms: base,
        increment_ms: reader.integer('increment_ms', 1000, 0, MAX_DELAY_LIMIT_MS),
        max_delay_ms: reader.integer('max_delay_ms', Math.max(300_000, base), base, MAX_DELAY_LIMIT_MS),
        max_attempts: reader.integer('max_attempts', DEFAULT_MAX_ATTEMPTS, 1, MAX_ATTEMPTS_LIMIT),
        jitter: reader.number('jitter', DEFAULT_JITTER, 0, 1),
      };
      break;
    }
    case 'fixed':
      strategy = {
        type,
        interval_ms: reader.integer('interval_ms', 1000, 0, MAX_DELAY_LIMIT_MS),
        max_attempts: reader.integer('max_attempts', DEFAULT_MAX_ATTEMPTS, 1, MAX_ATTEMPTS_LIMIT),
        jitter: reader.number('jitter', DEFAULT_JITTER, 0, 1),
      };
      break;
    default:
      throw validationError(`${field}.type`, `must be one of ${RETRY_STRATEGY_TYPES.join(', ')} (got ${JSON.stringify(raw.type)})`);
  }
  reader.rejectUnknown();
  return strategy;
}

/** Reads numeric fields of one object, remembering which it read so that the rest can be refused. */
class FieldReader {
  readonly #raw: Record<string, unknown>;
  readonly #field: string;
  readonly #read = new Set<string>(['type']);

  constructor(raw: Record<string, unknown>, field: string) {
    this.#raw = raw;
    this.#field = field;
  }

  number(key: string, fallback: number, min: number, max: number): number {
    this.#read.add(key);
    const value = this.#raw[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      throw validationError(`${this.#field}.${key}`, `must be a number from ${min} to ${max}`);
    }
    return value;
  }

  integer(key: string, fallback: number, min: number, max: number): number {
    const value = this.number(key, fallback, min, max);
    if (!Number.isInteger(value)) throw validationError(`${this.#field}.${key}`, 'must be a whole number');
    return value;
  }

  rejectUnknown(): void {
    for (const key of Object.keys(this.#raw)) {
      if (!this.#read.has(key)) throw validationError(`${this.#field}.${key}`, 'is not a field of this strategy');
    }
  }
}

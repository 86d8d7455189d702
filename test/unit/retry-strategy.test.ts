import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_STRATEGY, nextRetryAt, parseRetryStrategy, retryDelayMs } from '../../src/core/retry-strategy.ts';

describe('retry strategies', () => {
  it('follows the guide: exponential base × multiplier^attempt, capped, none after max_attempts', () => {
    const s = parseRetryStrategy({ type: 'Exponential', base_delay_ms: 1000, multiplier: 2, max_delay_ms: 10_000, max_attempts: 6 });
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(s, n))).toEqual([2000, 4000, 8000, 10_000, 10_000, null]);
  });

  it('follows the guide: linear base + increment × attempt, capped', () => {
    const s = parseRetryStrategy({ type: 'Linear', base_delay_ms: 100, increment_ms: 50, max_delay_ms: 220, max_attempts: 5 });
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(s, n))).toEqual([150, 200, 220, 220, null]);
  });

  it('follows the guide: fixed interval', () => {
    const s = parseRetryStrategy({ type: 'Fixed', interval_ms: 300, max_attempts: 3 });
    expect([1, 2, 3].map((n) => retryDelayMs(s, n))).toEqual([300, 300, null]);
  });

  it('defaults to exponential from 1 s, doubling, capped at 5 minutes, 3 attempts', () => {
    expect(DEFAULT_RETRY_STRATEGY).toMatchObject({ type: 'exponential', base_delay_ms: 1000, multiplier: 2, max_delay_ms: 300_000, max_attempts: 3 });
    expect(parseRetryStrategy({ type: 'exponential' })).toEqual(DEFAULT_RETRY_STRATEGY);
  });

  it('applies jitter below the nominal delay, never above it', () => {
    const s = parseRetryStrategy({ type: 'fixed', interval_ms: 1000, jitter: 0.25, max_attempts: 3 });
    const now = new Date(0);
    expect(nextRetryAt(s, 1, now, () => 0)!.getTime()).toBe(1000);
    expect(nextRetryAt(s, 1, now, () => 1)!.getTime()).toBe(750);
    expect(nextRetryAt(s, 3, now, () => 0)).toBeNull();
  });
});

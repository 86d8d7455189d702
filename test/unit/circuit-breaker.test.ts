import { describe, expect, it } from 'vitest';
import { breakerRecord, breakerStateAt, closedBreaker, DEFAULT_BREAKER_CONFIG, type BreakerState } from '../../src/core/circuit-breaker.ts';

const at = (ms: number) => new Date(ms);

describe('circuit breaker maths', () => {
  const failTimes = (breaker: BreakerState, n: number, ms: number) => {
    let b = breaker;
    for (let i = 0; i < n; i++) b = breakerRecord(b, 'failure', at(ms));
    return b;
  };

  it('opens after the failure threshold, not before, and a success resets the run', () => {
    let b = failTimes(closedBreaker('t', at(0)), 4, 0);
    expect(b.state).toBe('closed');
    b = breakerRecord(b, 'success', at(0));
    b = failTimes(b, 4, 0);
    expect(b.state).toBe('closed');
    b = breakerRecord(b, 'failure', at(10));
    expect(b).toMatchObject({ state: 'open', openedAt: at(10), reopensAt: at(10 + DEFAULT_BREAKER_CONFIG.openMs) });
  });

  it('is half-open once the wait is over; a failure there reopens it for a full wait', () => {
    const open = failTimes(closedBreaker('t', at(0)), 5, 0);
    expect(breakerStateAt(open, at(59_999))).toBe('open');
    expect(breakerStateAt(open, at(60_000))).toBe('half_open');
    const reopened = breakerRecord(open, 'failure', at(61_000));
    expect(reopened).toMatchObject({ state: 'open', reopensAt: at(121_000) });
  });

  it('keeps an open breaker open through late results of attempts claimed before it opened', () => {
    const open = failTimes(closedBreaker('t', at(0)), 5, 0);
    expect(breakerRecord(open, 'success', at(1000))).toMatchObject({ state: 'open', reopensAt: open.reopensAt });
    expect(breakerRecord(open, 'failure', at(1000))).toMatchObject({ state: 'open', reopensAt: open.reopensAt });
  });
});

import { describe, expect, test } from 'vitest';
import { RateLimiter } from '../../src/api/rate-limiter.ts';
import { LoginThrottle } from '../../src/auth/login-throttle.ts';
import { checkPassword } from '../../src/auth/password-policy.ts';
import { ManualClock } from '../../src/core/clock.ts';

const POLICY = { minLength: 8, maxLength: 128, minClasses: 3, rejectCommon: true };

describe('login throttle', () => {
  const config = { pairMaxFailures: 3, accountMaxFailures: 50, addressMaxFailures: 10, windowMs: 15 * 60_000, baseBlockMs: 30_000, maxBlockMs: 120_000 };

  test('blocks one account from one address after the threshold, doubling the block with each further failure up to the cap', () => {
    const clock = new ManualClock();
    const throttle = new LoginThrottle(config, clock);
    for (let i = 0; i < 2; i++) throttle.recordFailure('alice', '10.0.0.1');
    expect(throttle.retryAfterMs('alice', '10.0.0.1')).toBe(0);
    throttle.recordFailure('alice', '10.0.0.1');
    expect(throttle.retryAfterMs('alice', '10.0.0.1')).toBe(30_000);
    clock.advance(30_000);
    throttle.recordFailure('alice', '10.0.0.1');
    expect(throttle.retryAfterMs('alice', '10.0.0.1')).toBe(60_000);
    clock.advance(60_000);
    throttle.recordFailure('alice', '10.0.0.1');
    clock.advance(120_000);
    throttle.recordFailure('alice', '10.0.0.1');
    expect(throttle.retryAfterMs('alice', '10.0.0.1')).toBe(120_000);
  });

  test('a stranger\'s failures do not block the owner at another address (issue 15: five wrong passwords locked the owner out)', () => {
    const throttle = new LoginThrottle(config, new ManualClock());
    for (let i = 0; i < 5; i++) throttle.recordFailure('alice', '203.0.113.9');
    for (let i = 0; i < 5; i++) throttle.recordFailure('alice@example.com', '203.0.113.9');
    expect(throttle.retryAfterMs('alice', '203.0.113.9')).toBeGreaterThan(0);
    expect(throttle.retryAfterMs('alice@example.com', '203.0.113.9')).toBeGreaterThan(0);
    expect(throttle.retryAfterMs('alice', '10.0.0.1')).toBe(0);
    expect(throttle.retryAfterMs('alice@example.com', '10.0.0.1')).toBe(0);
  });

  test('guessing spread over many addresses slows new addresses, never the owner\'s known one', () => {
    const throttle = new LoginThrottle({ ...config, accountMaxFailures: 6 }, new ManualClock());
    throttle.recordSuccess('bob', '10.0.0.5');
    for (let i = 0; i < 6; i++) throttle.recordFailure('bob', `198.51.100.${i}`);
    expect(throttle.retryAfterMs('bob', '198.51.100.77')).toBe(30_000);
    expect(throttle.retryAfterMs('bob', '10.0.0.5')).toBe(0);
    // The owner logging in does not reset the distributed count.
    throttle.recordSuccess('bob', '10.0.0.5');
    expect(throttle.retryAfterMs('bob', '198.51.100.78')).toBe(30_000);
  });

  test('a success clears the pair but not the address; old failures are forgotten after the window', () => {
    const clock = new ManualClock();
    const throttle = new LoginThrottle({ ...config, addressMaxFailures: 3 }, clock);
    throttle.recordFailure('bob', '10.0.0.9');
    throttle.recordFailure('bob', '10.0.0.9');
    throttle.recordSuccess('bob', '10.0.0.9');
    throttle.recordFailure('carol', '10.0.0.9');
    expect(throttle.retryAfterMs('dave', '10.0.0.9')).toBe(30_000);
    expect(throttle.retryAfterMs('bob', '10.0.0.8')).toBe(0);
    clock.advance(16 * 60_000);
    throttle.recordFailure('erin', '10.0.0.7');
    throttle.recordFailure('erin', '10.0.0.7');
    clock.advance(16 * 60_000);
    throttle.recordFailure('erin', '10.0.0.7');
    expect(throttle.retryAfterMs('erin', '10.0.0.7')).toBe(0);
  });
});

describe('rate limiter', () => {
  test('allows max per window per key, then says how long to wait', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ max: 2, windowMs: 60_000, clock });
    expect(limiter.take('u1')).toBe(0);
    clock.advance(10_000);
    expect(limiter.take('u1')).toBe(0);
    expect(limiter.take('u1')).toBe(50_000);
    expect(limiter.take('u2')).toBe(0);
    clock.advance(50_000);
    expect(limiter.take('u1')).toBe(0);
    expect(new RateLimiter({ max: 0, windowMs: 1, clock }).take('x')).toBe(0);
  });
});

describe('password policy', () => {
  test.each([
    ['Correct-Horse-42', true],
    ['Sh0rt!', false],
    ['onlylowercaseletters', false],
    ['lowercase1234', false],
    ['Password123!', false],
    ['pässwörd-Grün-9', true],
  ])('%s -> %s', (password, ok) => {
    const run = () => checkPassword(password, POLICY);
    if (ok) expect(run).not.toThrow();
    else expect(run).toThrow(/password/);
  });

  test('the guide\'s "password123" is refused by the default policy and passes only a relaxed one; never the username', () => {
    expect(() => checkPassword('password123', POLICY)).toThrow(/password/);
    expect(() => checkPassword('password123', { ...POLICY, minClasses: 2, rejectCommon: false })).not.toThrow();
    expect(() => checkPassword('Alice-Smith-1', POLICY, { username: 'alice-smith-1' })).toThrow(/username/);
  });
});

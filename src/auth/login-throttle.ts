import type { Clock } from '../core/clock.ts';
import type { LoginThrottleConfig } from './auth-config.ts';

interface Entry {
  failures: number;
  lastFailureAt: number;
  blockedUntil: number;
}

/** Bound on remembered keys, so a flood of distinct usernames cannot grow memory without limit. */
const MAX_ENTRIES = 100_000;

/**
 * Failed-login throttling per account and per client address, with exponential backoff instead of a
 * hard lock-out (a lock-out lets anyone lock anyone out). While a key is blocked, every login for it is
 * refused, even with the right password, so guessing cannot continue inside the window.
 *
 * Kept in this process's memory: several API servers each throttle on their own, which multiplies the
 * allowance by the number of servers but keeps logins free of extra database writes.
 */
export class LoginThrottle {
  readonly #entries = new Map<string, Entry>();
  readonly #config: LoginThrottleConfig;
  readonly #clock: Clock;

  constructor(config: LoginThrottleConfig, clock: Clock) {
    this.#config = config;
    this.#clock = clock;
  }

  /** Milliseconds until a login for this account from this address may be tried; 0 when allowed. */
  retryAfterMs(account: string, address: string): number {
    const now = this.#clock.now().getTime();
    return Math.max(this.#blockedFor(accountKey(account), now), this.#blockedFor(addressKey(address), now));
  }

  recordFailure(account: string, address: string): void {
    const now = this.#clock.now().getTime();
    this.#fail(accountKey(account), this.#config.accountMaxFailures, now);
    this.#fail(addressKey(address), this.#config.addressMaxFailures, now);
  }

  /** A success clears the account's count; the address keeps its own (one good login must not unlock a sprayer). */
  recordSuccess(account: string): void {
    this.#entries.delete(accountKey(account));
  }

  #blockedFor(key: string, now: number): number {
    const entry = this.#entries.get(key);
    if (!entry) return 0;
    if (now - entry.lastFailureAt > this.#config.windowMs && entry.blockedUntil <= now) {
      this.#entries.delete(key);
      return 0;
    }
    return Math.max(0, entry.blockedUntil - now);
  }

  #fail(key: string, max: number, now: number): void {
    let entry = this.#entries.get(key);
    if (entry && now - entry.lastFailureAt > this.#config.windowMs && entry.blockedUntil <= now) entry = undefined;
    if (!entry) {
      if (this.#entries.size >= MAX_ENTRIES) this.#evictOldest();
      entry = { failures: 0, lastFailureAt: now, blockedUntil: 0 };
    }
    entry.failures += 1;
    entry.lastFailureAt = now;
    if (entry.failures >= max) {
      const doublings = Math.min(entry.failures - max, 20);
      entry.blockedUntil = now + Math.min(this.#config.baseBlockMs * 2 ** doublings, this.#config.maxBlockMs);
    }
    // Re-insert so that Map order is least-recently-failed first, for eviction.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
  }

  #evictOldest(): void {
    const oldest = this.#entries.keys().next();
    if (!oldest.done) this.#entries.delete(oldest.value);
  }
}

function accountKey(account: string): string {
  return `account:${account.trim().toLowerCase()}`;
}

function addressKey(address: string): string {
  return `address:${address}`;
}

import type { Clock } from '../core/clock.ts';
import type { LoginThrottleConfig } from './auth-config.ts';

interface Entry {
  failures: number;
  lastFailureAt: number;
  blockedUntil: number;
}

/** Bound on remembered keys, so a flood of distinct usernames cannot grow memory without limit. */
const MAX_ENTRIES = 100_000;
/** Addresses remembered per account as ones its owner logged in from (most recent kept). */
const KNOWN_ADDRESSES_PER_ACCOUNT = 10;

/**
 * Failed-login throttling with exponential backoff instead of a hard lock-out, keyed so that a
 * stranger cannot lock an account's owner out:
 *
 * - per (account, address) pair, `pairMaxFailures`: one guesser at one account is slowed; the owner,
 *   at another address, is not;
 * - per address, `addressMaxFailures`: one address spraying many accounts is slowed;
 * - per account from every address, `accountMaxFailures` (higher): a guesser spread over many addresses
 *   is slowed too, but this block only applies to addresses the account has never logged in from. An
 *   owner at an address they used before keeps logging in; an owner at a new address waits out a block
 *   (a delay, never a lock: blocks are capped by `maxBlockMs` and forgotten after `windowMs`).
 *
 * While a key is blocked every login for it is refused, even with the right password, so guessing
 * cannot continue inside the window. Kept in this process's memory: several API servers each throttle
 * on their own (multiplying the allowance by their number), and a restart forgets the known addresses.
 */
export class LoginThrottle {
  readonly #entries = new Map<string, Entry>();
  readonly #known = new Map<string, string[]>();
  readonly #config: LoginThrottleConfig;
  readonly #clock: Clock;

  constructor(config: LoginThrottleConfig, clock: Clock) {
    this.#config = config;
    this.#clock = clock;
  }

  /** Milliseconds until a login for this account from this address may be tried; 0 when allowed. */
  retryAfterMs(account: string, address: string): number {
    const now = this.#clock.now().getTime();
    const name = normalise(account);
    const accountWide = this.#isKnown(name, address) ? 0 : this.#blockedFor(accountKey(name), now);
    return Math.max(this.#blockedFor(pairKey(name, address), now), this.#blockedFor(addressKey(address), now), accountWide);
  }

  recordFailure(account: string, address: string): void {
    const now = this.#clock.now().getTime();
    const name = normalise(account);
    this.#fail(pairKey(name, address), this.#config.pairMaxFailures, now);
    this.#fail(addressKey(address), this.#config.addressMaxFailures, now);
    this.#fail(accountKey(name), this.#config.accountMaxFailures, now);
  }

  /**
   * A success clears this address's count for the account and remembers the address as the owner's.
   * The account-wide count stays (the owner logging in must not reset a distributed guesser's count),
   * and so does the address's own (one good login must not unlock a sprayer).
   */
  recordSuccess(account: string, address: string): void {
    const name = normalise(account);
    this.#entries.delete(pairKey(name, address));
    const known = (this.#known.get(name) ?? []).filter((a) => a !== address);
    known.push(address);
    this.#known.delete(name);
    if (this.#known.size >= MAX_ENTRIES) this.#known.delete(this.#known.keys().next().value!);
    this.#known.set(name, known.slice(-KNOWN_ADDRESSES_PER_ACCOUNT));
  }

  #isKnown(name: string, address: string): boolean {
    return this.#known.get(name)?.includes(address) ?? false;
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

function normalise(account: string): string {
  return account.trim().toLowerCase();
}

function pairKey(account: string, address: string): string {
  return `pair:${address}\u0000${account}`;
}

function accountKey(account: string): string {
  return `account:${account}`;
}

function addressKey(address: string): string {
  return `address:${address}`;
}

import { randomBytes } from 'node:crypto';
import { hash, parseOptions, verify, type Options } from '@node-rs/argon2';

/** argon2id's numeric id in @node-rs/argon2 (its `Algorithm` is a const enum, unusable under isolatedModules). */
const ARGON2ID = 2;

export interface Argon2Cost {
  memoryKiB: number;
  timeCost: number;
  parallelism: number;
}

/**
 * Hashes and checks passwords with argon2id, storing the PHC string (`$argon2id$v=19$m=...`), so that
 * the parameters travel with each hash and can be raised later (see `needsRehash`).
 */
export class PasswordHasher {
  readonly #options: Options;
  readonly #dummy: Promise<string>;

  constructor(cost: Argon2Cost) {
    this.#options = { algorithm: ARGON2ID as Options['algorithm'], memoryCost: cost.memoryKiB, timeCost: cost.timeCost, parallelism: cost.parallelism };
    // Made up front so that the first unknown-user login costs no more than any other.
    this.#dummy = this.hash(randomBytes(16).toString('hex'));
  }

  hash(password: string): Promise<string> {
    return hash(password, this.#options);
  }

  async verify(passwordHash: string, password: string): Promise<boolean> {
    try {
      return await verify(passwordHash, password);
    } catch {
      return false; // a malformed stored hash matches nothing
    }
  }

  /**
   * Spends the same work as a real check, for a login naming no user, so that an unknown user and a
   * wrong password take the same time (OWASP Authentication Cheat Sheet).
   */
  async verifyDummy(password: string): Promise<false> {
    await this.verify(await this.#dummy, password);
    return false;
  }

  /** True when a stored hash was made with weaker parameters than the current ones. */
  needsRehash(passwordHash: string): boolean {
    try {
      const used = parseOptions(passwordHash);
      return (
        used.algorithm !== this.#options.algorithm ||
        used.memoryCost < (this.#options.memoryCost ?? 0) ||
        used.timeCost < (this.#options.timeCost ?? 0) ||
        used.parallelism < (this.#options.parallelism ?? 0)
      );
    } catch {
      return true;
    }
  }
}

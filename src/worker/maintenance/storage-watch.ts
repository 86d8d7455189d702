import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import { STORAGE_LIMITS, storageWarnings, type StorageLimits, type StorageWarning } from '../../core/storage-health.ts';
import type { Engine } from '../../store/engine.ts';

/** A problem that lasts is logged again this often, not every round. */
const REPEAT_MS = 10 * 60_000;

/**
 * The leader's eye on the database's health (core/storage-health.ts): dead rows autovacuum is not
 * clearing, a transaction left open, a SQLite log that cannot be checkpointed. It warns when a problem
 * appears, again every ten minutes while it lasts, and says when it is gone.
 */
export class StorageWatch {
  readonly #engine: Engine;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #limits: StorageLimits;
  /** Each current problem and when it was last logged. */
  readonly #logged = new Map<string, number>();

  constructor(deps: { engine: Engine; clock: Clock; logger: Logger; limits?: StorageLimits }) {
    this.#engine = deps.engine;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#limits = deps.limits ?? STORAGE_LIMITS;
  }

  async runOnce(): Promise<StorageWarning[]> {
    const now = this.#clock.now();
    const warnings = storageWarnings(await this.#engine.storageStats({ now }), now, this.#limits);
    for (const warning of warnings) {
      const last = this.#logged.get(warning.key);
      if (last !== undefined && now.getTime() - last < REPEAT_MS) continue;
      this.#logged.set(warning.key, now.getTime());
      this.#logger.warn({ problem: warning.key, fix: warning.fix }, `database health: ${warning.problem}`);
    }
    for (const key of this.#logged.keys()) {
      if (warnings.some((w) => w.key === key)) continue;
      this.#logged.delete(key);
      this.#logger.info({ problem: key }, 'database health: resolved');
    }
    return warnings;
  }
}

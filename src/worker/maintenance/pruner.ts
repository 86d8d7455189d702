import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import type { Engine } from '../../store/engine.ts';

/** Tasks per batch: each batch is one short transaction (one statement on PostgreSQL). */
export const PRUNE_BATCH = 5000;
/**
 * How long one run may prune before it lets the rest of maintenance go on; the next run (a minute
 * later) continues. Maintenance lowers it to its interval (15 s by default), so that the leadership
 * it renews each round never lapses during a run. A day at 16 tasks a second (1.4 million) took 11 to
 * 16 s on PostgreSQL on a loaded 2-core machine.
 */
export const PRUNE_BUDGET_MS = 30_000;
/** A long run says how far it got this often. */
const PROGRESS_EVERY_MS = 10_000;
/** A VACUUM follows once this many tasks were pruned since the last one... */
export const VACUUM_AFTER_ROWS = 100_000;
/**
 * ...or a run pruned at least VACUUM_MIN_RUN_ROWS and what was pruned since the last VACUUM is this
 * share of the table. Autovacuum waits for 20 % dead rows by default, so a day's prune of a 7-day
 * history (about 14 %) would otherwise leave the space unused and the next day's inserts grow the table.
 */
const VACUUM_AFTER_SHARE = 0.1;
const VACUUM_MIN_RUN_ROWS = 1000;

/**
 * Deletes finished tasks older than the retention, oldest first, in batches of short transactions,
 * for at most a time budget per run; then, after a large prune, has the engine make the freed space
 * reusable (engine.taskVacuum, in the background) so that the table's size stays flat.
 */
export class Pruner {
  readonly #engine: Engine;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #retentionMs: number;
  readonly #batch: number;
  readonly #budgetMs: number;
  /** Tasks pruned since the last VACUUM started (or since start). */
  #prunedSinceVacuum = 0;
  #vacuum: Promise<void> | null = null;

  constructor(deps: { engine: Engine; clock: Clock; logger: Logger; retentionMs: number; batch?: number; budgetMs?: number }) {
    this.#engine = deps.engine;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#retentionMs = deps.retentionMs;
    this.#batch = deps.batch ?? PRUNE_BATCH;
    this.#budgetMs = deps.budgetMs ?? PRUNE_BUDGET_MS;
  }

  /**
   * How many tasks it deleted; nothing when retention is 0 (keep forever). Stops when a batch comes
   * back short (nothing left past the retention) or the time budget is spent (the next run continues).
   */
  async runOnce(): Promise<number> {
    if (this.#retentionMs <= 0) return 0;
    const startedMs = this.#clock.nowMs();
    const finishedBefore = new Date(startedMs - this.#retentionMs);
    let deleted = 0;
    let loggedMs = startedMs;
    let budgetSpent = false;
    for (;;) {
      const count = await this.#engine.taskPrune({ finishedBefore, limit: this.#batch });
      deleted += count;
      if (count < this.#batch) break;
      const nowMs = this.#clock.nowMs();
      if (nowMs - startedMs >= this.#budgetMs) {
        budgetSpent = true;
        break;
      }
      if (nowMs - loggedMs >= PROGRESS_EVERY_MS) {
        loggedMs = nowMs;
        this.#logger.info({ deleted, elapsed_ms: nowMs - startedMs, finished_before: finishedBefore.toISOString() }, 'pruning finished tasks');
      }
    }
    if (deleted > 0) {
      const fields = { deleted, duration_ms: this.#clock.nowMs() - startedMs, finished_before: finishedBefore.toISOString() };
      if (budgetSpent) this.#logger.info(fields, 'pruned finished tasks; time budget spent, the next run continues');
      else this.#logger.info(fields, 'pruned finished tasks');
    }
    this.#prunedSinceVacuum += deleted;
    if (await this.#vacuumDue(deleted)) this.#startVacuum();
    return deleted;
  }

  /** Resolves when no VACUUM this pruner started is running (for tests and benchmarks). */
  async idle(): Promise<void> {
    while (this.#vacuum) await this.#vacuum;
  }

  async #vacuumDue(deletedThisRun: number): Promise<boolean> {
    if (this.#vacuum !== null || this.#prunedSinceVacuum === 0) return false;
    if (this.#prunedSinceVacuum >= VACUUM_AFTER_ROWS) return true;
    if (deletedThisRun < VACUUM_MIN_RUN_ROWS) return false;
    try {
      const { tables } = await this.#engine.storageStats({ now: this.#clock.now() });
      const tasks = tables.find((table) => table.name === 'tasks' || table.name.endsWith('.tasks'));
      // No table statistics (SQLite): only the absolute threshold applies; its VACUUM is a no-op anyway.
      if (!tasks) return false;
      return this.#prunedSinceVacuum >= VACUUM_AFTER_SHARE * (tasks.liveRows + this.#prunedSinceVacuum);
    } catch (error) {
      this.#logger.debug({ err: error }, 'could not read the table statistics after pruning');
      return false;
    }
  }

  /** In the background: a VACUUM of a large table takes a while, and the rest of maintenance goes on meanwhile. */
  #startVacuum(): void {
    const pruned = this.#prunedSinceVacuum;
    this.#prunedSinceVacuum = 0;
    const startedMs = this.#clock.nowMs();
    this.#vacuum = this.#engine
      .taskVacuum()
      .then(
        (ran) => {
          if (ran) this.#logger.info({ pruned_since_last: pruned, duration_ms: this.#clock.nowMs() - startedMs }, 'vacuumed the tasks table after pruning');
        },
        (error: unknown) => {
          // Counted again, so the next run tries once more (closing the engine cancels a running VACUUM).
          this.#prunedSinceVacuum += pruned;
          this.#logger.warn({ err: error }, 'could not vacuum the tasks table after pruning; autovacuum will, later');
        },
      )
      .finally(() => {
        this.#vacuum = null;
      });
  }
}

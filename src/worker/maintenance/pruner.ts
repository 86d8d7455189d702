import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import type { Engine } from '../../store/engine.ts';

const BATCH = 1000;
const MAX_BATCHES = 20;

/** Deletes finished tasks older than the retention, in small batches so it never holds long locks. */
export class Pruner {
  readonly #engine: Engine;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #retentionMs: number;

  constructor(deps: { engine: Engine; clock: Clock; logger: Logger; retentionMs: number }) {
    this.#engine = deps.engine;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#retentionMs = deps.retentionMs;
  }

  /** How many tasks it deleted; nothing when retention is 0 (keep forever). */
  async runOnce(): Promise<number> {
    if (this.#retentionMs <= 0) return 0;
    const finishedBefore = new Date(this.#clock.nowMs() - this.#retentionMs);
    let deleted = 0;
    for (let batch = 0; batch < MAX_BATCHES; batch++) {
      const count = await this.#engine.taskPrune({ finishedBefore, limit: BATCH });
      deleted += count;
      if (count < BATCH) break;
    }
    if (deleted > 0) this.#logger.info({ deleted, finished_before: finishedBefore.toISOString() }, 'pruned finished tasks');
    return deleted;
  }
}

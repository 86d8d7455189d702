import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import type { Engine, RescueResult } from '../../store/engine.ts';

const BATCH = 500;
const MAX_BATCHES = 20;

/**
 * Takes back running tasks whose lease expired (their worker died, froze or lost the database):
 * back to `retrying`, due now, or to the dead letter once a task has been rescued `maxRescues`
 * times, so a task that kills its workers cannot loop forever.
 */
export class Rescuer {
  readonly #engine: Engine;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #maxRescues: number;

  constructor(deps: { engine: Engine; clock: Clock; logger: Logger; maxRescues: number }) {
    this.#engine = deps.engine;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#maxRescues = deps.maxRescues;
  }

  async runOnce(): Promise<RescueResult> {
    const total: RescueResult = { retried: [], deadLettered: [], cancelled: [] };
    for (let batch = 0; batch < MAX_BATCHES; batch++) {
      const result = await this.#engine.taskRescueExpired({ now: this.#clock.now(), maxRescues: this.#maxRescues, limit: BATCH });
      total.retried.push(...result.retried);
      total.deadLettered.push(...result.deadLettered);
      total.cancelled.push(...result.cancelled);
      if (result.retried.length + result.deadLettered.length + result.cancelled.length < BATCH) break;
    }
    for (const id of total.retried) this.#logger.warn({ task_id: id }, 'lease expired: task rescued and due again');
    for (const id of total.deadLettered) this.#logger.error({ task_id: id }, 'lease expired too often: task moved to the dead letter');
    for (const id of total.cancelled) this.#logger.info({ task_id: id }, 'lease expired on a task being cancelled: cancelled');
    return total;
  }
}

import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import type { Engine } from '../../store/engine.ts';

const MINUTE_MS = 60_000;
/** The most a call rolls up (the engine's ROLLUP_MAX_MINUTES_PER_RUN and ROLLUP_MAX_HOURS_PER_RUN): more may be due. */
const FULL_CALL = { minutes: 60, hours: 24 };

/**
 * Rolls finished tasks up per minute (task_rollups) and the completed hours of minutes per hour
 * (task_rollups_hourly), for the charts and the stats (issue 16). The engine knows how far it got;
 * this only avoids asking more than once per new minute, and asks again at once while catching up on
 * a history (each call rolls up at most an hour of minutes and a day of hours).
 */
export class Rollup {
  readonly #engine: Engine;
  readonly #clock: Clock;
  readonly #logger: Logger;
  #nextAt = 0;

  constructor(deps: { engine: Engine; clock: Clock; logger: Logger }) {
    this.#engine = deps.engine;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
  }

  /** How many minutes it rolled up (0: none was due, or it was not time to look). */
  async runOnce(): Promise<number> {
    const now = this.#clock.nowMs();
    if (now < this.#nextAt) return 0;
    const { minutes, hours, rolledThrough } = await this.#engine.taskRollup({ now: this.#clock.now() });
    // Caught up: the next minute settles a minute after this one ends; behind: the next round goes on.
    this.#nextAt = minutes >= FULL_CALL.minutes || hours >= FULL_CALL.hours ? 0 : (Math.floor(now / MINUTE_MS) + 1) * MINUTE_MS;
    if (minutes > 0 || hours > 0) this.#logger.debug({ minutes, hours, rolled_through: rolledThrough?.toISOString() }, 'rolled up finished tasks');
    return minutes;
  }
}

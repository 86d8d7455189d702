import type { Clock } from '../../core/clock.ts';
import { CronTimes } from '../../core/cron-times.ts';
import type { Logger } from '../../core/logger.ts';
import { taskForFiring, type ScheduleRecord } from '../../core/schedule.ts';
import type { TaskRecord } from '../../core/task.ts';
import type { Engine } from '../../store/engine.ts';

const BATCH = 100;
const MAX_BATCHES = 10;
/** Missed firings are counted for the log up to this many. */
const MAX_MISSED_COUNT = 1000;
/** A firing later than this is logged as a warning (the scheduler was down, or no worker led). */
const LATE_WARN_MS = 60_000;

export interface SchedulerRound {
  fired: TaskRecord[];
  /** When the next schedule fires (null when none is enabled): the leader sets a timer for it. */
  nextRunAt: Date | null;
}

/**
 * Fires due recurring schedules: each firing inserts one task, due at once, and moves the schedule to
 * its next time after now. A schedule that was due several times while nothing fired it (every worker
 * down) fires once, for the first missed time, and skips the rest, as Solid Queue and Oban's cron do:
 * a backlog of identical reports helps nobody. Firings are fenced by the due time, so a second
 * scheduler (two leaders for a moment) fires nothing twice.
 */
export class Scheduler {
  readonly #engine: Engine;
  readonly #clock: Clock;
  readonly #logger: Logger;

  constructor(deps: { engine: Engine; clock: Clock; logger: Logger }) {
    this.#engine = deps.engine;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
  }

  async runOnce(): Promise<SchedulerRound> {
    const fired: TaskRecord[] = [];
    let nextRunAt: Date | null = null;
    const soonest = (at: Date | null) => {
      if (at !== null && (nextRunAt === null || at < nextRunAt)) nextRunAt = at;
    };
    for (let batch = 0; batch < MAX_BATCHES; batch++) {
      const now = this.#clock.now();
      const round = await this.#engine.scheduleDue({ now, limit: BATCH });
      nextRunAt = null;
      soonest(round.nextRunAt);
      for (const schedule of round.due) {
        const outcome = await this.#fire(schedule, now);
        if (outcome.task) fired.push(outcome.task);
        soonest(outcome.nextRunAt);
      }
      if (round.due.length < BATCH) break;
    }
    return { fired, nextRunAt };
  }

  async #fire(schedule: ScheduleRecord, now: Date): Promise<{ task: TaskRecord | null; nextRunAt: Date | null }> {
    const log = { schedule: schedule.name, schedule_id: schedule.id };
    const dueAt = schedule.nextRunAt!;
    let times: CronTimes;
    try {
      times = CronTimes.parse(schedule.cron, schedule.timezone);
    } catch (error) {
      // Only a stored expression this version reads differently gets here; firing it again and again would not help.
      this.#logger.error({ ...log, err: error, cron: schedule.cron }, 'schedule disabled: its cron expression cannot be read');
      await this.#engine.scheduleUpdate({ id: schedule.id, changes: { enabled: false, nextRunAt: null }, now });
      return { task: null, nextRunAt: null };
    }
    const nextRunAt = times.next(now);
    try {
      const task = await this.#engine.scheduleFire({ id: schedule.id, dueAt, nextRunAt, task: taskForFiring(schedule, dueAt, now), now });
      if (task === null) return { task: null, nextRunAt };
      const lateMs = now.getTime() - dueAt.getTime();
      const detail = { ...log, task_id: task.id, task_type: task.taskType, due_at: dueAt.toISOString(), next_run_at: nextRunAt?.toISOString() ?? null };
      if (lateMs >= LATE_WARN_MS) {
        this.#logger.warn({ ...detail, late_ms: lateMs, missed: missedBetween(times, dueAt, now) }, 'schedule fired late; the runs it missed meanwhile are skipped');
      } else {
        this.#logger.info(detail, 'schedule fired');
      }
      return { task, nextRunAt };
    } catch (error) {
      this.#logger.warn({ ...log, err: error }, 'schedule could not fire; trying again next round');
      return { task: null, nextRunAt: null };
    }
  }
}

/** How many firings fell strictly between `dueAt` and `now` (the ones skipped), counted up to a limit. */
function missedBetween(times: CronTimes, dueAt: Date, now: Date): number {
  let count = 0;
  for (let at = times.next(dueAt); at !== null && at <= now && count < MAX_MISSED_COUNT; at = times.next(at)) count++;
  return count;
}

import type { Clock } from '../../core/clock.ts';
import { CronTimes } from '../../core/cron-times.ts';
import type { Logger } from '../../core/logger.ts';
import { DEFAULT_QUOTA_CONFIG, minuteWindowStart, quotaCountsNeeded, quotaFor, quotaRefusal, type QuotaConfig, type RoleQuota } from '../../core/quota.ts';
import { taskForFiring, type ScheduleRecord } from '../../core/schedule.ts';
import type { NewTask } from '../../core/new-task.ts';
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
  /** Firings skipped because the schedule's owner was over a quota (recorded on the schedule). */
  skipped: { scheduleId: string; reason: string }[];
  /** When the next schedule fires (null when none is enabled): the leader sets a timer for it. */
  nextRunAt: Date | null;
}

/**
 * Fires due recurring schedules: each firing inserts one task, due at once, and moves the schedule to
 * its next time after now. A schedule that was due several times while nothing fired it (every worker
 * down) fires once, for the first missed time, and skips the rest, as Solid Queue and Oban's cron do:
 * a backlog of identical reports helps nobody. Firings are fenced by the due time, so a second
 * scheduler (two leaders for a moment) fires nothing twice.
 *
 * A firing counts against its owner's quotas like any created task. One that would exceed them is
 * skipped: no task, the schedule moves to its next time, and the schedule shows when and why
 * (`lastSkippedAt`, `lastSkipReason`). The next firing is tried normally: a schedule resumes by itself
 * once its owner is back under the quota. The owner's role's minimum schedule interval spaces firings.
 */
export class Scheduler {
  readonly #engine: Engine;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #quotas: QuotaConfig;

  constructor(deps: { engine: Engine; clock: Clock; logger: Logger; quotas?: QuotaConfig | undefined }) {
    this.#engine = deps.engine;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#quotas = deps.quotas ?? DEFAULT_QUOTA_CONFIG;
  }

  async runOnce(): Promise<SchedulerRound> {
    const fired: TaskRecord[] = [];
    const skipped: SchedulerRound['skipped'] = [];
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
        if (outcome.skipped) skipped.push({ scheduleId: schedule.id, reason: outcome.skipped });
        soonest(outcome.nextRunAt);
      }
      if (round.due.length < BATCH) break;
    }
    return { fired, skipped, nextRunAt };
  }

  async #fire(schedule: ScheduleRecord, now: Date): Promise<{ task: TaskRecord | null; nextRunAt: Date | null; skipped?: string }> {
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
    try {
      const limits = await this.#ownerLimits(schedule);
      // The role's minimum interval spaces the firings out: the next is the schedule's first time at
      // least that long after this one (a schedule made before the limit, or while its owner had a
      // laxer role, fires no more often than the limit allows, without a skipped firing each second).
      const spacing = limits?.quota.scheduleMinIntervalMs ?? 0;
      const nextRunAt = times.next(spacing > 0 ? new Date(Math.max(now.getTime(), dueAt.getTime() + spacing - 1)) : now);
      const task = taskForFiring(schedule, dueAt, now);
      const overQuota = limits === null ? null : await this.#quotaRefusal(limits, task, now);
      if (overQuota !== null) {
        const moved = await this.#engine.scheduleSkip({ id: schedule.id, dueAt, nextRunAt, reason: overQuota, now });
        if (moved) this.#logger.warn({ ...log, due_at: dueAt.toISOString(), reason: overQuota }, 'schedule firing skipped: its owner is over a quota');
        return moved ? { task: null, nextRunAt, skipped: overQuota } : { task: null, nextRunAt };
      }
      const fired = await this.#engine.scheduleFire({ id: schedule.id, dueAt, nextRunAt, task, now });
      if (fired === null) return { task: null, nextRunAt };
      const lateMs = now.getTime() - dueAt.getTime();
      const detail = { ...log, task_id: fired.id, task_type: fired.taskType, due_at: dueAt.toISOString(), next_run_at: nextRunAt?.toISOString() ?? null };
      if (lateMs >= LATE_WARN_MS) {
        this.#logger.warn({ ...detail, late_ms: lateMs, missed: missedBetween(times, dueAt, now) }, 'schedule fired late; the runs it missed meanwhile are skipped');
      } else {
        this.#logger.info(detail, 'schedule fired');
      }
      return { task: fired, nextRunAt };
    } catch (error) {
      this.#logger.warn({ ...log, err: error }, 'schedule could not fire; trying again next round');
      return { task: null, nextRunAt: null };
    }
  }

  /** The schedule's owner's role and its quotas; null for a schedule without an owner (the operator's: no quotas). */
  async #ownerLimits(schedule: ScheduleRecord): Promise<{ ownerId: string; role: string; quota: RoleQuota } | null> {
    if (schedule.createdBy === null) return null;
    const owner = await this.#engine.userGet({ id: schedule.createdBy });
    if (owner === null) return null;
    return { ownerId: owner.id, role: owner.role, quota: quotaFor(this.#quotas, owner.role) };
  }

  /** Why this firing may not create its task (its owner is over a quota), or null. */
  async #quotaRefusal(limits: { ownerId: string; role: string; quota: RoleQuota }, task: NewTask, now: Date): Promise<string | null> {
    if (!quotaCountsNeeded(limits.quota)) return null;
    const usage = await this.#engine.ownerUsage({ ownerId: limits.ownerId, since: minuteWindowStart(now) });
    return quotaRefusal(limits.quota, limits.role, usage, { tasks: 1, payloadBytes: Buffer.byteLength(task.payloadJson) }, now)?.message ?? null;
  }
}

/** How many firings fell strictly between `dueAt` and `now` (the ones skipped), counted up to a limit. */
function missedBetween(times: CronTimes, dueAt: Date, now: Date): number {
  let count = 0;
  for (let at = times.next(dueAt); at !== null && at <= now && count < MAX_MISSED_COUNT; at = times.next(at)) count++;
  return count;
}

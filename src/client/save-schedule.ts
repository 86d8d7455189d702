import { CronTimes } from '../core/cron-times.ts';
import { DEFAULT_TIMEZONE, newSchedule, reviseSchedule, type ScheduleInput, type ScheduleRecord } from '../core/schedule.ts';
import type { Engine } from '../store/engine.ts';

/**
 * Creates the schedule, or makes the one of that name and owner match `input` (an application
 * declares its schedules at start-up, every time). Its next run moves only if the timing changed, so
 * restarting an application neither skips nor repeats a run.
 */
export async function saveSchedule(engine: Engine, input: ScheduleInput, now: Date): Promise<{ schedule: ScheduleRecord; created: boolean }> {
  const existing = await scheduleNamed(engine, input.name, input.createdBy ?? null);
  if (!existing) return { schedule: await engine.scheduleInsert({ schedule: newSchedule(input, now) }), created: true };

  const cron = CronTimes.parse(input.cron, input.timezone ?? DEFAULT_TIMEZONE);
  const enabled = input.enabled ?? true;
  const changes = reviseSchedule(
    existing,
    {
      taskType: input.taskType,
      payload: input.payload,
      // Absent means the default, not "as before": the declaration is the whole schedule.
      priority: input.priority ?? 'normal',
      maxAttempts: input.maxAttempts ?? null,
      retryStrategy: input.retryStrategy ?? null,
      metadata: input.metadata ?? null,
      ...(cron.expression !== existing.cron ? { cron: cron.expression } : {}),
      ...(cron.timezone !== existing.timezone ? { timezone: cron.timezone } : {}),
      ...(enabled !== existing.enabled ? { enabled } : {}),
    },
    now,
  );
  const schedule = await engine.scheduleUpdate({ id: existing.id, changes, now });
  // Deleted between the two statements: create it as asked.
  if (!schedule) return { schedule: await engine.scheduleInsert({ schedule: newSchedule(input, now) }), created: true };
  return { schedule, created: false };
}

/** The schedule of that name and owner (null: made by the CLI or the library), if there is one. */
export async function scheduleNamed(engine: Engine, name: string, owner: string | null): Promise<ScheduleRecord | null> {
  const candidates = await engine.scheduleList(owner === null ? {} : { createdBy: owner });
  return candidates.find((s) => s.createdBy === owner && s.name === name) ?? null;
}

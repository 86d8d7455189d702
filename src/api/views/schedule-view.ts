import { CronTimes } from '../../core/cron-times.ts';
import type { ScheduleRecord } from '../../core/schedule.ts';
import { iso, isoOrNull } from './iso.ts';

const UPCOMING = 5;

/** A schedule as the API shows it: snake_case, its template's fields at the top, and its next times. */
export function scheduleView(schedule: ScheduleRecord) {
  const { template } = schedule;
  return {
    id: schedule.id,
    name: schedule.name,
    cron: schedule.cron,
    timezone: schedule.timezone,
    task_type: schedule.taskType,
    payload: template.payload,
    priority: template.priority ?? 'normal',
    max_attempts: template.maxAttempts ?? null,
    retry_strategy: (template.retryStrategy ?? null) as Record<string, unknown> | null,
    metadata: template.metadata ?? {},
    enabled: schedule.enabled,
    next_run_at: isoOrNull(schedule.nextRunAt),
    last_run_at: isoOrNull(schedule.lastRunAt),
    last_task_id: schedule.lastTaskId,
    last_skipped_at: isoOrNull(schedule.lastSkippedAt),
    last_skip_reason: schedule.lastSkipReason,
    created_by: schedule.createdBy,
    created_at: iso(schedule.createdAt),
    updated_at: iso(schedule.updatedAt),
    upcoming: upcoming(schedule).map(iso),
  };
}

function upcoming(schedule: ScheduleRecord): Date[] {
  if (!schedule.enabled || schedule.nextRunAt === null) return [];
  try {
    const times = CronTimes.parse(schedule.cron, schedule.timezone);
    // The first is the stored next run (it may be overdue by a moment); the rest follow it.
    return [schedule.nextRunAt, ...times.upcoming(UPCOMING - 1, schedule.nextRunAt)];
  } catch {
    return [schedule.nextRunAt];
  }
}

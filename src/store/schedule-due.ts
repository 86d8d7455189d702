import type { ScheduleRecord } from '../core/schedule.ts';

/**
 * scheduleDue's answer from the first `limit + 1` enabled schedules in next_run_at order: the due ones
 * (at most `limit`), and when to look again: the first one not yet due, or `now` when more than
 * `limit` are due.
 */
export function splitDue(earliest: ScheduleRecord[], now: Date, limit: number): { due: ScheduleRecord[]; nextRunAt: Date | null } {
  const due = earliest.filter((schedule) => schedule.nextRunAt!.getTime() <= now.getTime());
  if (due.length > limit) return { due: due.slice(0, limit), nextRunAt: now };
  return { due, nextRunAt: earliest[due.length]?.nextRunAt ?? null };
}

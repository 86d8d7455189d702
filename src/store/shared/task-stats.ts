import { TASK_PRIORITIES, TASK_STATUSES, type TaskPriority, type TaskStatus } from '../../core/task.ts';
import type { TaskStats } from '../engine.ts';

export interface StatsCountRow {
  task_type: string;
  priority_rank: number;
  status: TaskStatus;
  count: number;
}

export interface StatsTimesRow {
  oldest_ready: Date | null;
  completed_minute: number;
  completed_hour: number;
  failed_minute: number;
  failed_hour: number;
}

/** Stats with every status and priority present at zero, so callers never test for missing keys. */
export function emptyTaskStats(): TaskStats {
  return {
    total: 0,
    byStatus: Object.fromEntries(TASK_STATUSES.map((status) => [status, 0])) as Record<TaskStatus, number>,
    byType: {},
    byPriority: Object.fromEntries(TASK_PRIORITIES.map((priority) => [priority, {}])) as TaskStats['byPriority'],
    oldestReadyAgeMs: null,
    completedLastMinute: 0,
    completedLastHour: 0,
    failedLastMinute: 0,
    failedLastHour: 0,
  };
}

/** Folds one GROUP BY (type, priority, status) and the timing row into TaskStats: the same for both engines. */
export function taskStatsFromRows(counts: StatsCountRow[], times: StatsTimesRow, now: Date): TaskStats {
  const stats = emptyTaskStats();
  for (const { task_type: type, priority_rank: rank, status, count } of counts) {
    stats.total += count;
    stats.byStatus[status] += count;
    const ofType = (stats.byType[type] ??= {});
    ofType[status] = (ofType[status] ?? 0) + count;
    const ofPriority = stats.byPriority[TASK_PRIORITIES[rank] as TaskPriority];
    ofPriority[status] = (ofPriority[status] ?? 0) + count;
  }
  stats.oldestReadyAgeMs = times.oldest_ready === null ? null : Math.max(0, now.getTime() - times.oldest_ready.getTime());
  stats.completedLastMinute = times.completed_minute;
  stats.completedLastHour = times.completed_hour;
  stats.failedLastMinute = times.failed_minute;
  stats.failedLastHour = times.failed_hour;
  return stats;
}

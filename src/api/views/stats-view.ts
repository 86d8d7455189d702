import { unhandledTypes } from '../../core/type-handling.ts';
import type { TaskStats } from '../../store/engine.ts';

/**
 * The guide's stats shape (counts per status at the top level), plus breakdowns, throughput, and the
 * waiting task types no live worker takes. `liveWorkerTypes`: the task types of each live worker.
 */
export function taskStatsView(stats: TaskStats, scope: 'own' | 'all', liveWorkerTypes: readonly (readonly string[])[]) {
  const s = stats.byStatus;
  return {
    scope,
    total: stats.total,
    pending: s.pending ?? 0,
    scheduled: s.scheduled ?? 0,
    running: s.running ?? 0,
    retrying: s.retrying ?? 0,
    completed: s.completed ?? 0,
    failed: s.failed ?? 0,
    cancelled: s.cancelled ?? 0,
    by_type: stats.byType as Record<string, Record<string, number>>,
    by_priority: stats.byPriority as Record<string, Record<string, number>>,
    oldest_ready_age_ms: stats.oldestReadyAgeMs === null ? null : Math.round(stats.oldestReadyAgeMs),
    completed_last_minute: stats.completedLastMinute,
    completed_last_hour: stats.completedLastHour,
    failed_last_minute: stats.failedLastMinute,
    failed_last_hour: stats.failedLastHour,
    live_workers: liveWorkerTypes.length,
    unhandled_types: unhandledTypes(stats.byType, liveWorkerTypes).map((t) => ({ task_type: t.taskType, waiting: t.waiting })),
  };
}

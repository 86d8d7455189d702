import type { TaskRecord } from '../core/task.ts';
import type { Engine } from '../store/engine.ts';
import type { ReportQuery, ReportRow, ReportSource } from '../tasks/builtin/report-source.ts';

/**
 * The report types over Conveyor's own data, for report_generation. Each reads the tasks created in
 * the range (`created_at >= start AND created_at < end`, scoped to the requesting user unless the
 * task has no creator) page by page through the engine, and computes its rows in plain code, so the
 * same numbers come out of SQLite and PostgreSQL.
 */
export function createEngineReportSources(engine: Engine): ReportSource[] {
  return [taskActivity(engine), failureReasons(engine), durations(engine)];
}

const PAGE = 1000;

/** Every task created in the range, newest first, one page at a time (the engine's cursor). */
async function forEachTask(engine: Engine, query: ReportQuery, statuses: TaskRecord['status'][] | undefined, visit: (task: TaskRecord) => void): Promise<void> {
  let cursor: string | undefined;
  do {
    if (query.signal.aborted) throw query.signal.reason;
    const page = await engine.taskList({
      createdAfter: query.start,
      createdBefore: query.end,
      ...(query.createdBy === null ? {} : { createdBy: query.createdBy }),
      ...(statuses === undefined ? {} : { status: statuses }),
      limit: PAGE,
      ...(cursor === undefined ? {} : { cursor }),
    });
    for (const task of page.tasks) visit(task);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
}

function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function byKeys<T>(map: Map<string, T>): [string, T][] {
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Per UTC day of creation and task type: how many were created and where they stand now. */
function taskActivity(engine: Engine): ReportSource {
  const columns = ['date', 'task_type', 'created', 'completed', 'failed', 'cancelled', 'open', 'attempts'] as const;
  return {
    name: 'task_activity',
    description: 'Tasks created per day and task type, with how many are now completed, failed (dead letter), cancelled or still open, and the attempts they used.',
    columns,
    async rows(query) {
      const groups = new Map<string, ReportRow & { created: number; completed: number; failed: number; cancelled: number; open: number; attempts: number }>();
      await forEachTask(engine, query, undefined, (task) => {
        const key = `${day(task.createdAt)}\u0000${task.taskType}`;
        let row = groups.get(key);
        if (!row) {
          row = { date: day(task.createdAt), task_type: task.taskType, created: 0, completed: 0, failed: 0, cancelled: 0, open: 0, attempts: 0 };
          groups.set(key, row);
        }
        row.created++;
        row.attempts += task.currentAttempt;
        if (task.status === 'completed' || task.status === 'failed' || task.status === 'cancelled') row[task.status]++;
        else row.open++;
      });
      return byKeys(groups).map(([, row]) => row);
    },
  };
}

/** Dead-lettered tasks by task type and final error, most frequent first. */
function failureReasons(engine: Engine): ReportSource {
  return {
    name: 'failure_reasons',
    description: 'Tasks that ended in the dead letter (failed), grouped by task type and final error, most frequent first.',
    columns: ['task_type', 'reason', 'tasks', 'first_created', 'last_created'],
    async rows(query) {
      const groups = new Map<string, { task_type: string; reason: string; tasks: number; first: number; last: number }>();
      await forEachTask(engine, query, ['failed'], (task) => {
        const reason = task.lastError ?? '(no error recorded)';
        const key = `${task.taskType}\u0000${reason}`;
        const created = task.createdAt.getTime();
        const group = groups.get(key);
        if (group) {
          group.tasks++;
          group.first = Math.min(group.first, created);
          group.last = Math.max(group.last, created);
        } else {
          groups.set(key, { task_type: task.taskType, reason, tasks: 1, first: created, last: created });
        }
      });
      return byKeys(groups)
        .map(([, g]) => g)
        .sort((a, b) => b.tasks - a.tasks)
        .map((g) => ({ task_type: g.task_type, reason: g.reason, tasks: g.tasks, first_created: new Date(g.first).toISOString(), last_created: new Date(g.last).toISOString() }));
    },
  };
}

/** Run time of completed tasks per type: the completing attempt, from its start to completion. */
function durations(engine: Engine): ReportSource {
  return {
    name: 'durations',
    description: 'Run time in ms of completed tasks per task type (the attempt that completed): count, mean, median (p50), p95 and max, nearest-rank.',
    columns: ['task_type', 'completed', 'mean_ms', 'p50_ms', 'p95_ms', 'max_ms'],
    async rows(query) {
      const samples = new Map<string, number[]>();
      await forEachTask(engine, query, ['completed'], (task) => {
        if (task.startedAt === null || task.completedAt === null) return;
        const list = samples.get(task.taskType) ?? [];
        list.push(Math.max(0, task.completedAt.getTime() - task.startedAt.getTime()));
        samples.set(task.taskType, list);
      });
      return byKeys(samples).map(([taskType, values]) => {
        values.sort((a, b) => a - b);
        const total = values.reduce((sum, value) => sum + value, 0);
        return {
          task_type: taskType,
          completed: values.length,
          mean_ms: Math.round(total / values.length),
          p50_ms: nearestRank(values, 50),
          p95_ms: nearestRank(values, 95),
          max_ms: values[values.length - 1]!,
        };
      });
    },
  };
}

function nearestRank(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

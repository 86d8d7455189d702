import { statSync } from 'node:fs';
import type { StorageStats, TaskStats } from '../engine.ts';
import { taskStatsFromRows, type StatsCountRow, type StatsTimesRow } from '../shared/task-stats.ts';
import { FINISHED, READY } from './sql-parts.ts';
import type { SqliteConnection } from './sqlite-connection.ts';

/** Counts for operators and doctor: tasks by status, type and priority, recent finishes, and the database's health. */
export class StatsStore {
  readonly #c: SqliteConnection;

  constructor(c: SqliteConnection) {
    this.#c = c;
  }

  taskStats(p: { now: Date; createdBy?: string }): Promise<TaskStats> {
    const now = p.now.getTime();
    const hourAgo = now - 3_600_000;
    const params = { now, createdBy: p.createdBy ?? null, minuteAgo: now - 60_000, hourAgo, firstMinute: Math.ceil(hourAgo / 60_000) * 60_000 };
    // One read transaction so the three queries see the same snapshot.
    return this.#c.run('taskStats', () =>
      this.#c.db.transaction(() => {
        const counts = this.#c.prepare(STATS_COUNTS).all(params) as StatsCountRow[];
        const oldest = (this.#c.prepare(STATS_OLDEST_READY).get(params) as { oldest: number | null }).oldest;
        const recent = this.#c.prepare(STATS_RECENT).get(params) as Omit<StatsTimesRow, 'oldest_ready'>;
        return taskStatsFromRows(counts, { ...recent, oldest_ready: oldest === null ? null : new Date(oldest) }, p.now);
      })(),
    );
  }

  async storageStats(_p: { now: Date }): Promise<StorageStats> {
    this.#c.assertOpen();
    let walBytes: number | null = null;
    if (!this.#c.inMemory) {
      try {
        walBytes = statSync(`${this.#c.filename}-wal`).size;
      } catch {
        walBytes = 0; // no WAL file: nothing written since the last checkpoint removed it
      }
    }
    return { tables: [], oldestTransaction: null, walBytes };
  }
}

/**
 * Counts without reading the history: waiting and running tasks from the claim's and the rescuer's
 * partial indexes, finished ones from task_counts (kept by the rollup up to rolled_through) plus
 * those finished since, from tasks_finished_idx. The same numbers as a GROUP BY over every task.
 */
const STATS_COUNTS = `
  SELECT task_type, priority_rank, status, COUNT(*) AS count FROM tasks
   WHERE ${READY} AND (@createdBy IS NULL OR created_by = @createdBy)
   GROUP BY task_type, priority_rank, status
  UNION ALL
  SELECT task_type, priority_rank, status, COUNT(*) FROM tasks
   WHERE status = 'running' AND (@createdBy IS NULL OR created_by = @createdBy)
   GROUP BY task_type, priority_rank, status
  UNION ALL
  SELECT task_type, priority_rank, status, count FROM task_counts
   WHERE owner = COALESCE(@createdBy, '*') AND count <> 0
  UNION ALL
  SELECT task_type, priority_rank, status, COUNT(*) FROM tasks
   WHERE ${FINISHED} AND completed_at >= COALESCE((SELECT rolled_through FROM task_rollup_state WHERE id = 1), -9007199254740991)
     AND (@createdBy IS NULL OR created_by = @createdBy)
   GROUP BY task_type, priority_rank, status`;

const STATS_OLDEST_READY = `
  SELECT MIN(run_at) AS oldest FROM tasks
   WHERE ${READY} AND run_at <= @now AND (@createdBy IS NULL OR created_by = @createdBy)
     AND task_type NOT IN (SELECT task_type FROM task_type_pauses)`;

/**
 * The last minute from the tasks (tasks_finished_idx); the last hour from the rollups for its whole
 * minutes up to rolled_through (task_rollups), and from the tasks for the part of a minute before
 * them (@hourAgo to @firstMinute) and the few minutes since rolled_through: a few minutes of the index
 * instead of an hour's. The three parts do not overlap and cover [@hourAgo, now], so the figures are
 * those of a direct count.
 */
const finished = (status: string, range: string) => `
  (SELECT COUNT(*) FROM tasks WHERE ${FINISHED} AND status = '${status}' AND ${range} AND (@createdBy IS NULL OR created_by = @createdBy))`;
const ROLLED = `(SELECT COALESCE((SELECT rolled_through FROM task_rollup_state WHERE id = 1), -9007199254740991))`;
const hour = (status: string) => `
  ${finished(status, `completed_at >= @hourAgo AND completed_at < min(@firstMinute, ${ROLLED})`)}
  + ${finished(status, `completed_at >= max(@hourAgo, ${ROLLED})`)}
  + (SELECT COALESCE(SUM(${status}), 0) FROM task_rollups
      WHERE owner = COALESCE(@createdBy, '*') AND minute >= @firstMinute AND minute < ${ROLLED})`;

const STATS_RECENT = `
  SELECT ${finished('completed', 'completed_at >= @minuteAgo')} AS completed_minute,
         ${hour('completed')} AS completed_hour,
         ${finished('failed', 'completed_at >= @minuteAgo')} AS failed_minute,
         ${hour('failed')} AS failed_hour`;

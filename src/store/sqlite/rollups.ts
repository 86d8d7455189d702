import type { TaskHistory, TaskHistoryParams } from '../engine.ts';
import { ALL_OWNERS, historyOf, rollupExpiry, rollupRowsOf, rollupWindow, type FinishedTaskRow, type RollupRow } from '../shared/task-rollups.ts';
import { FINISHED } from './sql-parts.ts';
import type { SqliteConnection } from './sqlite-connection.ts';
import { COUNTS_ADD_FINISHED } from './task-counts.ts';

/** Per-minute rollups of finished tasks: written by the leader (taskRollup), read by the charts (taskHistory). */
export class RollupStore {
  readonly #c: SqliteConnection;

  constructor(c: SqliteConnection) {
    this.#c = c;
  }

  taskRollup(p: { now: Date }): Promise<{ minutes: number; rolledThrough: Date | null }> {
    return this.#c.write('taskRollup', () => {
      const state = this.#c.prepare(ROLLUP_STATE).get() as { rolled_through: number } | undefined;
      const earliest = state ? null : (this.#c.prepare(EARLIEST_FINISHED).get() as { at: number | null }).at;
      const window = rollupWindow(state?.rolled_through ?? null, p.now.getTime(), earliest);
      if (window === null) return { minutes: 0, rolledThrough: state ? new Date(state.rolled_through) : null };
      // The first run counts every finished task before its window too; later ones only their window.
      this.#c.prepare(COUNTS_ADD_FINISHED).run({ from: state ? window.from : Number.MIN_SAFE_INTEGER, to: window.to, sign: 1 });
      const tasks = this.#c.prepare(FINISHED_BETWEEN).all(window) as FinishedTaskRow[];
      const upsert = this.#c.prepare(ROLLUP_UPSERT);
      for (const row of rollupRowsOf(tasks)) upsert.run(row);
      this.#c.prepare(ROLLUP_STATE_SET).run({ to: window.to });
      const expiry = rollupExpiry(window);
      if (expiry !== null) this.#c.prepare(ROLLUP_EXPIRE).run({ before: expiry });
      return { minutes: (window.to - window.from) / 60_000, rolledThrough: new Date(window.to) };
    });
  }

  taskHistory(p: TaskHistoryParams): Promise<TaskHistory> {
    const since = p.since.getTime();
    const until = p.until.getTime();
    return this.#c.run('taskHistory', () =>
      this.#c.db.transaction(() => {
        const rolledThrough = (this.#c.prepare(ROLLUP_STATE).get() as { rolled_through: number } | undefined)?.rolled_through ?? null;
        const owner = p.createdBy ?? ALL_OWNERS;
        const stored = (this.#c.prepare(ROLLUPS_BETWEEN).all({ owner, since, until: Math.min(until, rolledThrough ?? since), taskType: p.taskType ?? null, bucket: p.bucketMs }) as RollupRow[]);
        // The minutes not rolled up yet, counted from the finished index (a few minutes' worth).
        const tailFrom = Math.max(since, rolledThrough ?? since);
        const tail = tailFrom < until
          ? rollupRowsOf(this.#c.prepare(FINISHED_BETWEEN).all({ from: tailFrom, to: until }) as FinishedTaskRow[])
              .filter((row) => row.owner === owner && (p.taskType === undefined || row.taskType === p.taskType))
          : [];
        return historyOf([...stored, ...tail], { since, until, bucketMs: p.bucketMs, rolledThrough });
      })(),
    );
  }
}

const ROLLUP_STATE = `SELECT rolled_through FROM task_rollup_state WHERE id = 1`;
const ROLLUP_STATE_SET = `
  INSERT INTO task_rollup_state (id, rolled_through) VALUES (1, @to)
  ON CONFLICT (id) DO UPDATE SET rolled_through = excluded.rolled_through`;

const EARLIEST_FINISHED = `SELECT MIN(completed_at) AS at FROM tasks WHERE ${FINISHED}`;

const FINISHED_BETWEEN = `
  SELECT task_type, created_by, status, run_at, started_at, completed_at FROM tasks
   WHERE ${FINISHED} AND completed_at >= @from AND completed_at < @to`;

const ROLLUP_UPSERT = `
  INSERT INTO task_rollups (minute, task_type, owner, completed, failed, cancelled, wait_p50_ms, wait_p95_ms, wait_p99_ms, run_p50_ms, run_p95_ms, run_p99_ms)
  VALUES (@minute, @taskType, @owner, @completed, @failed, @cancelled, @waitP50, @waitP95, @waitP99, @runP50, @runP95, @runP99)
  ON CONFLICT (owner, minute, task_type) DO UPDATE SET
    completed = excluded.completed, failed = excluded.failed, cancelled = excluded.cancelled,
    wait_p50_ms = excluded.wait_p50_ms, wait_p95_ms = excluded.wait_p95_ms, wait_p99_ms = excluded.wait_p99_ms,
    run_p50_ms = excluded.run_p50_ms, run_p95_ms = excluded.run_p95_ms, run_p99_ms = excluded.run_p99_ms`;

/**
 * The stored minutes merged into the chart's buckets (a 7-day chart is 168 rows, not 60,000 minutes of
 * every type): sums, and the largest percentile, as historyOf merges.
 */
const ROLLUPS_BETWEEN = `
  SELECT @since + ((minute - @since) / @bucket) * @bucket AS minute, '' AS taskType, @owner AS owner,
         sum(completed) AS completed, sum(failed) AS failed, sum(cancelled) AS cancelled,
         max(wait_p50_ms) AS waitP50, max(wait_p95_ms) AS waitP95, max(wait_p99_ms) AS waitP99,
         max(run_p50_ms) AS runP50, max(run_p95_ms) AS runP95, max(run_p99_ms) AS runP99
    FROM task_rollups
   WHERE owner = @owner AND minute >= @since AND minute < @until AND (@taskType IS NULL OR task_type = @taskType)
   GROUP BY 1`;

const ROLLUP_EXPIRE = `DELETE FROM task_rollups WHERE minute < @before`;

import type { TaskHistory, TaskHistoryParams } from '../engine.ts';
import { ALL_OWNERS, historyOf, HOUR_MS, hoursEndOf, MINUTE_MS, rollupExpiry, rollupHourWindow, rollupRowsOf, rollupWindow, type FinishedTaskRow, type RollupRow } from '../shared/task-rollups.ts';
import { FINISHED } from './sql-parts.ts';
import type { SqliteConnection } from './sqlite-connection.ts';
import { COUNTS_ADD_FINISHED } from './task-counts.ts';

/** Per-minute and hourly rollups of finished tasks: written by the leader (taskRollup), read by the charts (taskHistory). */
export class RollupStore {
  readonly #c: SqliteConnection;

  constructor(c: SqliteConnection) {
    this.#c = c;
  }

  taskRollup(p: { now: Date }): Promise<{ minutes: number; hours: number; rolledThrough: Date | null }> {
    return this.#c.write('taskRollup', () => {
      const state = this.#c.prepare(ROLLUP_STATE).get() as RollupState | undefined;
      const earliest = state ? null : (this.#c.prepare(EARLIEST_FINISHED).get() as { at: number | null }).at;
      const window = rollupWindow(state?.rolled_through ?? null, p.now.getTime(), earliest);
      let rolledThrough = state?.rolled_through ?? null;
      if (window !== null) {
        // The first run counts every finished task before its window too; later ones only their window.
        this.#c.prepare(COUNTS_ADD_FINISHED).run({ from: state ? window.from : Number.MIN_SAFE_INTEGER, to: window.to, sign: 1 });
        const tasks = this.#c.prepare(FINISHED_BETWEEN).all(window) as FinishedTaskRow[];
        const upsert = this.#c.prepare(ROLLUP_UPSERT);
        for (const row of rollupRowsOf(tasks)) upsert.run(row);
        this.#c.prepare(ROLLUP_STATE_SET).run({ to: window.to });
        const expiry = rollupExpiry(window);
        if (expiry !== null) {
          this.#c.prepare(ROLLUP_EXPIRE).run({ before: expiry });
          this.#c.prepare(ROLLUP_HOURS_EXPIRE).run({ through: expiry - HOUR_MS });
        }
        rolledThrough = window.to;
      }
      // The hours the minutes now complete (or, on an upgraded database, the hours of minutes rolled before).
      const earliestMinute = (state?.hours_through ?? null) === null && rolledThrough !== null
        ? (this.#c.prepare(EARLIEST_MINUTE).get() as { at: number | null }).at
        : null;
      const hours = rollupHourWindow(state?.hours_through ?? null, rolledThrough, p.now.getTime(), earliestMinute);
      if (hours !== null) {
        this.#c.prepare(ROLLUP_HOURS).run(hours);
        this.#c.prepare(ROLLUP_HOURS_SET).run({ to: hours.to });
      }
      return {
        minutes: window === null ? 0 : (window.to - window.from) / MINUTE_MS,
        hours: hours === null ? 0 : (hours.to - hours.from) / HOUR_MS,
        rolledThrough: rolledThrough === null ? null : new Date(rolledThrough),
      };
    });
  }

  taskHistory(p: TaskHistoryParams): Promise<TaskHistory> {
    const since = p.since.getTime();
    const until = p.until.getTime();
    return this.#c.run('taskHistory', () =>
      this.#c.db.transaction(() => {
        const state = this.#c.prepare(ROLLUP_STATE).get() as RollupState | undefined;
        const rolledThrough = state?.rolled_through ?? null;
        const owner = p.createdBy ?? ALL_OWNERS;
        const taskType = p.taskType ?? null;
        // Whole hours from the hourly rollups (a chart of hour buckets), then minutes, then the tail.
        const hoursEnd = hoursEndOf({ since, until, bucketMs: p.bucketMs }, state?.hours_through ?? null);
        const hours = hoursEnd > since ? (this.#c.prepare(HOURS_BETWEEN).all({ owner, since, until: hoursEnd, taskType, bucket: p.bucketMs }) as RollupRow[]) : [];
        const minutesEnd = Math.min(until, rolledThrough ?? since);
        const minutes = minutesEnd > hoursEnd ? (this.#c.prepare(ROLLUPS_BETWEEN).all({ owner, since, from: hoursEnd, until: minutesEnd, taskType, bucket: p.bucketMs }) as RollupRow[]) : [];
        // The minutes not rolled up yet, counted from the finished index (a few minutes' worth).
        const tailFrom = Math.max(since, rolledThrough ?? since);
        const tail = tailFrom < until
          ? rollupRowsOf(this.#c.prepare(FINISHED_BETWEEN).all({ from: tailFrom, to: until }) as FinishedTaskRow[])
              .filter((row) => row.owner === owner && (p.taskType === undefined || row.taskType === p.taskType))
          : [];
        return historyOf([...hours, ...minutes, ...tail], { since, until, bucketMs: p.bucketMs, rolledThrough });
      })(),
    );
  }
}

interface RollupState {
  rolled_through: number;
  hours_through: number | null;
}

const ROLLUP_STATE = `SELECT rolled_through, hours_through FROM task_rollup_state WHERE id = 1`;
const ROLLUP_STATE_SET = `
  INSERT INTO task_rollup_state (id, rolled_through) VALUES (1, @to)
  ON CONFLICT (id) DO UPDATE SET rolled_through = excluded.rolled_through`;

const EARLIEST_FINISHED = `SELECT MIN(completed_at) AS at FROM tasks WHERE ${FINISHED}`;

const FINISHED_BETWEEN = `
  SELECT task_type, created_by, status, run_at, started_at, completed_at FROM tasks
   WHERE ${FINISHED} AND completed_at >= @from AND completed_at < @to`;

/** A rollup row made again (after a crash before the state moved, or an upgrade's minutes) replaces the stored one. */
const ROLLUP_REPLACED = `
    completed = excluded.completed, failed = excluded.failed, cancelled = excluded.cancelled,
    wait_p50_ms = excluded.wait_p50_ms, wait_p95_ms = excluded.wait_p95_ms, wait_p99_ms = excluded.wait_p99_ms,
    run_p50_ms = excluded.run_p50_ms, run_p95_ms = excluded.run_p95_ms, run_p99_ms = excluded.run_p99_ms`;

/**
 * The stored rows of `table` with `column` in [lower, @until), merged into the chart's buckets of
 * [@since, ...): sums, and the largest percentile, as historyOf merges.
 */
function bucketsOf(table: string, column: string, lower: string): string {
  return `
  SELECT @since + ((${column} - @since) / @bucket) * @bucket AS minute, '' AS taskType, @owner AS owner,
         sum(completed) AS completed, sum(failed) AS failed, sum(cancelled) AS cancelled,
         max(wait_p50_ms) AS waitP50, max(wait_p95_ms) AS waitP95, max(wait_p99_ms) AS waitP99,
         max(run_p50_ms) AS runP50, max(run_p95_ms) AS runP95, max(run_p99_ms) AS runP99
    FROM ${table}
   WHERE owner = @owner AND ${column} >= ${lower} AND ${column} < @until AND (@taskType IS NULL OR task_type = @taskType)
   GROUP BY 1`;
}

const ROLLUP_UPSERT = `
  INSERT INTO task_rollups (minute, task_type, owner, completed, failed, cancelled, wait_p50_ms, wait_p95_ms, wait_p99_ms, run_p50_ms, run_p95_ms, run_p99_ms)
  VALUES (@minute, @taskType, @owner, @completed, @failed, @cancelled, @waitP50, @waitP95, @waitP99, @runP50, @runP95, @runP99)
  ON CONFLICT (owner, minute, task_type) DO UPDATE SET ${ROLLUP_REPLACED}`;

/**
 * The stored minutes [from, until) merged into the chart's buckets of [since, ...): sums, and the
 * largest percentile, as historyOf merges (a 24-hour chart is 96 rows, not 9,000 minutes of every type;
 * a 7-day chart reads hours, and minutes only after hours_through).
 */
export const ROLLUPS_BETWEEN = bucketsOf('task_rollups', 'minute', '@from');

const ROLLUP_EXPIRE = `DELETE FROM task_rollups WHERE minute < @before`;
/** The hours that ended before the minutes' cutoff. */
const ROLLUP_HOURS_EXPIRE = `DELETE FROM task_rollups_hourly WHERE hour <= @through`;

const EARLIEST_MINUTE = `SELECT min(minute) AS at FROM task_rollups`;

const ROLLUP_HOURS_SET = `UPDATE task_rollup_state SET hours_through = @to WHERE id = 1`;

/**
 * The hours [from, to) (whole hours, all before rolled_through) made from their minutes
 * (task_rollups_minute_idx), merged as the charts merge minutes: sums, and the largest percentile.
 * An hour made again (an upgrade's minutes) is replaced.
 */
export const ROLLUP_HOURS = `
  INSERT INTO task_rollups_hourly (hour, task_type, owner, completed, failed, cancelled, wait_p50_ms, wait_p95_ms, wait_p99_ms, run_p50_ms, run_p95_ms, run_p99_ms)
  SELECT (minute / 3600000) * 3600000, task_type, owner, sum(completed), sum(failed), sum(cancelled),
         max(wait_p50_ms), max(wait_p95_ms), max(wait_p99_ms), max(run_p50_ms), max(run_p95_ms), max(run_p99_ms)
    FROM task_rollups
   WHERE minute >= @from AND minute < @to
   GROUP BY 1, task_type, owner
  ON CONFLICT (owner, hour, task_type) DO UPDATE SET ${ROLLUP_REPLACED}`;

/**
 * The stored hours merged into the chart's buckets, as ROLLUPS_BETWEEN merges minutes (an hour is its
 * minutes merged the same way, so a chart of hour buckets is the same from hours as from minutes).
 */
export const HOURS_BETWEEN = bucketsOf('task_rollups_hourly', 'hour', '@since');

import type { TaskHistory, TaskHistoryParams } from '../engine.ts';
import { ALL_OWNERS, chartReadsHours, historyOf, HOUR_MS, MINUTE_MS, rollupExpiry, rollupHourWindow, rollupWindow, type RollupRow } from '../shared/task-rollups.ts';
import type { PostgresConnection } from './postgres-connection.ts';
import { FINISHED, type SqlContext } from './sql-parts.ts';
import { countsSql } from './task-counts.ts';

/** Per-minute and hourly rollups of finished tasks: written by the leader (taskRollup), read by the charts (taskHistory). */
export class RollupStore {
  readonly #c: PostgresConnection;
  readonly #sql: ReturnType<typeof rollupSql>;
  readonly #counts: ReturnType<typeof countsSql>;

  constructor(c: PostgresConnection) {
    this.#c = c;
    this.#sql = rollupSql(c.sql);
    this.#counts = countsSql(c.sql);
  }

  async taskRollup(p: { now: Date }): Promise<{ minutes: number; hours: number; rolledThrough: Date | null }> {
    this.#c.assertOpen();
    return this.#c.transaction('taskRollup', async (client) => {
      // The row lock keeps two rollups (a leader and one that just lost the leadership) from interleaving.
      await this.#c.run('taskRollup', this.#sql.stateEnsure, [], client);
      const state = (await this.#c.run<{ rolled_through: Date | null; hours_through: Date | null }>('taskRollup', this.#sql.stateLock, [], client)).rows[0]!;
      const earliest = state.rolled_through ? null : (await this.#c.run<{ at: Date | null }>('taskRollup', this.#sql.earliestFinished, [], client)).rows[0]!.at;
      const window = rollupWindow(state.rolled_through?.getTime() ?? null, p.now.getTime(), earliest?.getTime() ?? null);
      let rolledThrough = state.rolled_through?.getTime() ?? null;
      if (window !== null) {
        // The first run counts every finished task before its window too; later ones only their window.
        await this.#c.run('taskRollup', this.#counts.countsAdd, [state.rolled_through ? new Date(window.from) : '-infinity', new Date(window.to)], client);
        await this.#c.run('taskRollup', this.#sql.rollup, [new Date(window.from), new Date(window.to)], client);
        await this.#c.run('taskRollup', this.#sql.stateSet, [new Date(window.to)], client);
        const expiry = rollupExpiry(window);
        if (expiry !== null) {
          await this.#c.run('taskRollup', this.#sql.expire, [new Date(expiry)], client);
          await this.#c.run('taskRollup', this.#sql.expireHours, [new Date(expiry - HOUR_MS)], client);
        }
        rolledThrough = window.to;
      }
      // The hours the minutes now complete (or, on an upgraded database, the hours of minutes rolled before).
      const earliestMinute = state.hours_through === null && rolledThrough !== null
        ? (await this.#c.run<{ at: Date | null }>('taskRollup', this.#sql.earliestMinute, [], client)).rows[0]!.at
        : null;
      const hours = rollupHourWindow(state.hours_through?.getTime() ?? null, rolledThrough, p.now.getTime(), earliestMinute?.getTime() ?? null);
      if (hours !== null) {
        await this.#c.run('taskRollup', this.#sql.rollupHours, [new Date(hours.from), new Date(hours.to)], client);
        await this.#c.run('taskRollup', this.#sql.hoursSet, [new Date(hours.to)], client);
      }
      return {
        minutes: window === null ? 0 : (window.to - window.from) / MINUTE_MS,
        hours: hours === null ? 0 : (hours.to - hours.from) / HOUR_MS,
        rolledThrough: rolledThrough === null ? null : new Date(rolledThrough),
      };
    });
  }

  async taskHistory(p: TaskHistoryParams): Promise<TaskHistory> {
    this.#c.assertOpen();
    const since = p.since.getTime();
    const until = p.until.getTime();
    const owner = p.createdBy ?? ALL_OWNERS;
    // One statement: the stored minutes and the tail after them read the same snapshot.
    const { rows } = await this.#c.run<RollupDbRow>('taskHistory', this.#sql.history, [owner, p.since, p.until, p.taskType ?? null, p.bucketMs, chartReadsHours({ since, bucketMs: p.bucketMs })]);
    const rolledThrough = rows.find((row) => row.rolled_through !== null)?.rolled_through?.getTime() ?? null;
    return historyOf(rows.filter((row) => row.minute !== null).map(rollupOf), { since, until, bucketMs: p.bucketMs, rolledThrough });
  }
}

interface RollupDbRow {
  minute: Date | null;
  task_type: string;
  owner: string;
  completed: number;
  failed: number;
  cancelled: number;
  wait: number[] | null;
  run: number[] | null;
  rolled_through: Date | null;
}

function rollupOf(row: RollupDbRow): RollupRow {
  return {
    minute: row.minute!.getTime(),
    taskType: row.task_type,
    owner: row.owner,
    completed: row.completed,
    failed: row.failed,
    cancelled: row.cancelled,
    waitP50: row.wait?.[0] ?? null,
    waitP95: row.wait?.[1] ?? null,
    waitP99: row.wait?.[2] ?? null,
    runP50: row.run?.[0] ?? null,
    runP95: row.run?.[1] ?? null,
    runP99: row.run?.[2] ?? null,
  };
}

/** A rollup row made again (after a crash before the state moved, or an upgrade's minutes) replaces the stored one. */
const ROLLUP_REPLACED = `
        completed = excluded.completed, failed = excluded.failed, cancelled = excluded.cancelled,
        wait_p50_ms = excluded.wait_p50_ms, wait_p95_ms = excluded.wait_p95_ms, wait_p99_ms = excluded.wait_p99_ms,
        run_p50_ms = excluded.run_p50_ms, run_p95_ms = excluded.run_p95_ms, run_p99_ms = excluded.run_p99_ms`;

export function rollupSql({ s, statement }: SqlContext) {
  /**
   * Finished tasks in [from, to) per minute, type and owner, and per minute and type for every owner
   * ('*'), read from tasks_finished_idx. Percentiles are nearest-rank (percentile_disc), as on SQLite.
   */
  const computed = (from: string, to: string) => `
    SELECT date_trunc('minute', completed_at) AS minute, task_type,
           CASE WHEN grouping(created_by) = 1 THEN '${ALL_OWNERS}' ELSE created_by::text END AS owner,
           (count(*) FILTER (WHERE status = 'completed'))::integer AS completed,
           (count(*) FILTER (WHERE status = 'failed'))::integer AS failed,
           (count(*) FILTER (WHERE status = 'cancelled'))::integer AS cancelled,
           percentile_disc(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY greatest(0, round(extract(epoch FROM started_at - run_at) * 1000))::integer) AS wait,
           percentile_disc(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY greatest(0, round(extract(epoch FROM completed_at - started_at) * 1000))::integer) AS run
      FROM ${s}.tasks
     WHERE status IN (${FINISHED}) AND completed_at >= ${from} AND completed_at < ${to}
     GROUP BY GROUPING SETS ((date_trunc('minute', completed_at), task_type, created_by), (date_trunc('minute', completed_at), task_type))
    HAVING grouping(created_by) = 1 OR created_by IS NOT NULL`;
  /**
   * The stored rows of `table` with `column` in [lower, upper), for owner $1 and type $4 (or all),
   * merged into the chart's buckets of $5 ms from $2: sums, and the largest percentile, as historyOf merges.
   */
  const buckets = (table: string, column: string, lower: string, upper: string) => `
      SELECT $2::timestamptz + floor(extract(epoch FROM ${column} - $2::timestamptz) * 1000 / $5::float8) * $5::float8 * interval '1 millisecond' AS minute,
             '' AS task_type, $1::text AS owner, sum(completed)::integer AS completed, sum(failed)::integer AS failed, sum(cancelled)::integer AS cancelled,
             ARRAY[max(wait_p50_ms), max(wait_p95_ms), max(wait_p99_ms)] AS wait, ARRAY[max(run_p50_ms), max(run_p95_ms), max(run_p99_ms)] AS run, NULL::timestamptz AS rolled_through
        FROM ${s}.${table}
       WHERE owner = $1::text AND ${column} >= ${lower} AND ${column} < ${upper}
         AND ($4::text IS NULL OR task_type = $4::text)
       GROUP BY 1`;
  return {
    stateEnsure: statement('rollup_state_ensure', `
      INSERT INTO ${s}.task_rollup_state (id, rolled_through) VALUES (1, '-infinity') ON CONFLICT (id) DO NOTHING`),
    stateLock: statement('rollup_state_lock', `
      SELECT CASE WHEN rolled_through = '-infinity' THEN NULL ELSE rolled_through END AS rolled_through, hours_through
        FROM ${s}.task_rollup_state WHERE id = 1 FOR UPDATE`),
    earliestFinished: statement('rollup_earliest_finished', `SELECT min(completed_at) AS at FROM ${s}.tasks WHERE status IN (${FINISHED})`),
    expire: statement('rollup_expire', `DELETE FROM ${s}.task_rollups WHERE minute < $1::timestamptz`),
    // $1: the minutes' cutoff less an hour: the hours that ended before the cutoff.
    expireHours: statement('rollup_expire_hours', `DELETE FROM ${s}.task_rollups_hourly WHERE hour <= $1::timestamptz`),
    earliestMinute: statement('rollup_earliest_minute', `SELECT min(minute) AS at FROM ${s}.task_rollups`),
    hoursSet: statement('rollup_hours_set', `UPDATE ${s}.task_rollup_state SET hours_through = $1::timestamptz WHERE id = 1`),
    // $1 from, $2 to (whole UTC hours, all before rolled_through): the hours made from their minutes
    // (task_rollups_minute_idx), merged as the charts merge minutes: sums, and the largest percentile.
    // An hour made again (an upgrade's minutes, a crash before the state moved) is replaced.
    rollupHours: statement('rollup_hours_insert', `
      INSERT INTO ${s}.task_rollups_hourly (hour, task_type, owner, completed, failed, cancelled, wait_p50_ms, wait_p95_ms, wait_p99_ms, run_p50_ms, run_p95_ms, run_p99_ms)
      SELECT to_timestamp(floor(extract(epoch FROM minute) / 3600) * 3600), task_type, owner,
             sum(completed)::integer, sum(failed)::integer, sum(cancelled)::integer,
             max(wait_p50_ms), max(wait_p95_ms), max(wait_p99_ms), max(run_p50_ms), max(run_p95_ms), max(run_p99_ms)
        FROM ${s}.task_rollups
       WHERE minute >= $1::timestamptz AND minute < $2::timestamptz
       GROUP BY 1, task_type, owner
      ON CONFLICT (owner, hour, task_type) DO UPDATE SET ${ROLLUP_REPLACED}`),
    stateSet: statement('rollup_state_set', `UPDATE ${s}.task_rollup_state SET rolled_through = $1::timestamptz WHERE id = 1`),
    // $1 from, $2 to. A minute rolled up again (after a crash before the state moved) is replaced.
    rollup: statement('rollup_insert', `
      INSERT INTO ${s}.task_rollups (minute, task_type, owner, completed, failed, cancelled, wait_p50_ms, wait_p95_ms, wait_p99_ms, run_p50_ms, run_p95_ms, run_p99_ms)
      SELECT minute, task_type, owner, completed, failed, cancelled, wait[1], wait[2], wait[3], run[1], run[2], run[3]
        FROM (${computed('$1::timestamptz', '$2::timestamptz')}) AS minutes
      ON CONFLICT (owner, minute, task_type) DO UPDATE SET ${ROLLUP_REPLACED}`),
    // $1 owner, $2 since, $3 until, $4 task type or null, $5 the bucket (ms), $6 whether the chart's
    // buckets are whole hours on hour boundaries (chartReadsHours). The stored hours before
    // hours_through (when $6), then the stored minutes before rolled_through, merged into the chart's
    // buckets here (a 7-day chart is 168 rows, not 60,000 minutes of every type: sums, and the largest
    // percentile, as historyOf merges; an hour is its minutes merged the same way, so the buckets are
    // the same either way), the tail after rolled_through counted from the tasks, and one row carrying
    // rolled_through itself.
    history: statement('rollup_history', `
      WITH state AS (SELECT CASE WHEN rolled_through = '-infinity' THEN NULL ELSE rolled_through END AS rolled_through, hours_through FROM ${s}.task_rollup_state WHERE id = 1),
           mark AS (SELECT coalesce((SELECT rolled_through FROM state), $2::timestamptz) AS at,
                           CASE WHEN $6::boolean THEN greatest($2::timestamptz, least($3::timestamptz, coalesce((SELECT hours_through FROM state), $2::timestamptz)))
                                ELSE $2::timestamptz END AS hours_end)
      ${buckets('task_rollups_hourly', 'hour', '$2::timestamptz', '(SELECT hours_end FROM mark)')}
      UNION ALL
      ${buckets('task_rollups', 'minute', '(SELECT hours_end FROM mark)', 'least($3::timestamptz, (SELECT at FROM mark))')}
      UNION ALL
      SELECT minute, task_type, owner, completed, failed, cancelled, wait, run, NULL
        FROM (${computed('greatest($2::timestamptz, (SELECT at FROM mark))', '$3::timestamptz')}) AS tail
       WHERE owner = $1::text AND ($4::text IS NULL OR task_type = $4::text)
      UNION ALL
      SELECT NULL, '', '', 0, 0, 0, NULL, NULL, (SELECT rolled_through FROM state)`),
  };
}

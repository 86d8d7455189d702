import type { StorageStats, TaskStats } from '../engine.ts';
import { type StatsCountRow, type StatsTimesRow, taskStatsFromRows } from '../shared/task-stats.ts';
import { type PostgresConnection, WORKER } from './postgres-connection.ts';
import { ALL_OWNERS } from '../shared/task-rollups.ts';
import { FAIR_GROUP } from './fair-claim.ts';
import { FINISHED, quoteLiteral, READY, type SqlContext } from './sql-parts.ts';
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** Counts for operators and doctor: tasks by status, type and priority, recent finishes, and the database's health. */
export class StatsStore {
  readonly #c: PostgresConnection;
  readonly #sql: ReturnType<typeof statsSql>;

  constructor(c: PostgresConnection) {
    this.#c = c;
    this.#sql = statsSql(c.sql);
  }

  async taskStats(p: { now: Date; createdBy?: string }): Promise<TaskStats> {
    this.#c.assertOpen();
    const owner = p.createdBy !== undefined;
    const ownerValue = owner ? [p.createdBy] : [];
    const now = p.now.getTime();
    const hourAgo = now - HOUR_MS;
    // Two statements at once, on two connections: the GROUP BY, and the timings (each off a partial
    // index). On the worker pool, whose planner settings keep them index walks: their bounds read
    // rolled_through in the statement, a value the planner cannot see, and it guessed a third of the
    // history for them, which on a large table made the finished tasks since rolled_through a
    // parallel scan of the whole table (145 ms at 2.8 million tasks, against 15).
    const [counts, times] = await Promise.all([
      this.#c.run<StatsCountRow>('taskStats', this.#sql.taskStatsCounts(owner), ownerValue, WORKER),
      this.#c.run<StatsTimesRow>('taskStats', this.#sql.taskStatsTimes(owner), [p.now, new Date(now - MINUTE_MS), new Date(hourAgo), new Date(Math.ceil(hourAgo / MINUTE_MS) * MINUTE_MS), ...ownerValue], WORKER),
    ]);
    return taskStatsFromRows(counts.rows, times.rows[0]!, p.now);
  }

  async storageStats(p: { now: Date }): Promise<StorageStats> {
    const [tables, oldest] = await Promise.all([
      this.#c.run<{ name: string; live_rows: string; dead_rows: string; last_vacuum_at: Date | null }>('storageStats', this.#sql.storageTables, [], WORKER),
      this.#c.run<{ pid: number; application_name: string; state: string | null; age_ms: string }>('storageStats', this.#sql.storageOldestTransaction, [p.now], WORKER),
    ]);
    const row = oldest.rows[0];
    return {
      tables: tables.rows.map((t) => ({ name: t.name, liveRows: Number(t.live_rows), deadRows: Number(t.dead_rows), lastVacuumAt: t.last_vacuum_at })),
      oldestTransaction: row ? { ageMs: Math.max(0, Math.round(Number(row.age_ms))), pid: row.pid, application: row.application_name, state: row.state ?? 'unknown' } : null,
      walBytes: null,
    };
  }
}

function statsSql({ s, schema, statement }: SqlContext) {
  return {
    // Counts without reading the history: waiting and running tasks from the claim's and the
    // rescuer's partial indexes, finished ones from task_counts (kept by the rollup up to
    // rolled_through) plus those finished since, from tasks_finished_idx. One statement, one snapshot.
    taskStatsCounts: (ownerFilter: boolean) => {
      const owner = ownerOf('$1', ownerFilter);
      return statement(`task_stats_counts${ownerFilter ? '_owner' : ''}`, `
        SELECT task_type, priority_rank, status, count(*)::integer AS count FROM ${s}.tasks WHERE status IN (${READY}) ${owner.ready} GROUP BY task_type, priority_rank, status
        UNION ALL
        SELECT task_type, priority_rank, status, count(*)::integer FROM ${s}.tasks WHERE status = 'running' ${owner.other} GROUP BY task_type, priority_rank, status
        UNION ALL
        SELECT task_type, priority_rank, status, count::integer FROM ${s}.task_counts WHERE owner = ${ownerFilter ? '$1::text' : `'${ALL_OWNERS}'`} AND count <> 0
        UNION ALL
        SELECT task_type, priority_rank, status, count(*)::integer FROM ${s}.tasks
         WHERE status IN (${FINISHED}) ${owner.other}
           AND completed_at >= coalesce((SELECT rolled_through FROM ${s}.task_rollup_state WHERE id = 1), '-infinity')
         GROUP BY task_type, priority_rank, status`);
    },
    // $1 now, $2 a minute ago, $3 an hour ago, $4 the first whole minute after $3. The last minute
    // from the tasks (tasks_finished_idx); the last hour from the rollups for its whole minutes up to
    // rolled_through (task_rollups), and from the tasks for the part of a minute before them and the
    // few minutes since rolled_through: at most a few minutes of the index instead of an hour's. The
    // three parts do not overlap and cover [$3, now], so the figures are those of a direct count.
    taskStatsTimes: (ownerFilter: boolean) => {
      const owner = ownerOf('$5', ownerFilter);
      const rolled = `coalesce((SELECT rolled_through FROM ${s}.task_rollup_state WHERE id = 1), '-infinity'::timestamptz)`;
      const finished = (status: string, range: string) =>
        `(SELECT count(*) FROM ${s}.tasks WHERE status IN (${FINISHED}) AND status = '${status}' AND ${range} ${owner.other})`;
      const hour = (status: string) => `
          ${finished(status, `completed_at >= $3::timestamptz AND completed_at < least($4::timestamptz, (SELECT r FROM state))`)}
          + ${finished(status, `completed_at >= greatest($3::timestamptz, (SELECT r FROM state))`)}
          + (SELECT coalesce(sum(${status}), 0) FROM ${s}.task_rollups
              WHERE owner = ${ownerFilter ? '$5::text' : `'${ALL_OWNERS}'`} AND minute >= $4::timestamptz AND minute < (SELECT r FROM state))`;
      return statement(`task_stats_times${ownerFilter ? '_owner' : ''}`, `
        WITH state AS (SELECT ${rolled} AS r)
        SELECT (SELECT min(run_at) FROM ${s}.tasks WHERE status IN (${READY}) AND run_at <= $1::timestamptz ${owner.ready}
                  AND task_type NOT IN (SELECT task_type FROM ${s}.task_type_pauses)) AS oldest_ready,
          ${finished('completed', 'completed_at >= $2::timestamptz')} AS completed_minute,
          (${hour('completed')})::bigint AS completed_hour,
          ${finished('failed', 'completed_at >= $2::timestamptz')} AS failed_minute,
          (${hour('failed')})::bigint AS failed_hour`);
    },

    storageTables: statement('storage_tables', `
      SELECT schemaname || '.' || relname AS name, n_live_tup AS live_rows, n_dead_tup AS dead_rows, greatest(last_vacuum, last_autovacuum) AS last_vacuum_at
      FROM pg_stat_user_tables WHERE schemaname = ${quoteLiteral(schema)} ORDER BY relname`),
    // Another session's open transaction holds back the cleanup of every row that died since it
    // began, in every table (the "xmin horizon"). $1 now.
    storageOldestTransaction: statement('storage_oldest_transaction', `
      SELECT pid, application_name, state, extract(epoch FROM ($1::timestamptz - xact_start)) * 1000 AS age_ms
      FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL AND backend_type = 'client backend'
      ORDER BY xact_start LIMIT 1`),
  };
}

/**
 * An owner's part of the stats, written so that the planner cannot walk tasks_created_by_idx, which
 * holds the owner's whole history: their waiting tasks by the fair-share group (tasks_fair_ready_idx
 * leads with it); their running and recently finished tasks as a filter on the small lease index and
 * the few entries of tasks_finished_idx since the rollup. Reading the owner's history instead took
 * 330 ms per GET /tasks/stats of a role user at 10,000,000 tasks (bench --scale).
 */
function ownerOf(param: string, ownerFilter: boolean): { ready: string; other: string } {
  if (!ownerFilter) return { ready: '', other: '' };
  return { ready: `AND ${FAIR_GROUP} = ${param}::uuid`, other: `AND created_by::text = ${param}::uuid::text` };
}

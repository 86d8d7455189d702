import type { StorageStats, TaskStats } from '../engine.ts';
import { type StatsCountRow, type StatsTimesRow, taskStatsFromRows } from '../shared/task-stats.ts';
import { type PostgresConnection, WORKER } from './postgres-connection.ts';
import { ALL_OWNERS } from '../shared/task-rollups.ts';
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
    // Two statements at once, on two connections: the GROUP BY, and the timings (each off a partial index).
    const [counts, times] = await Promise.all([
      this.#c.run<StatsCountRow>('taskStats', this.#sql.taskStatsCounts(owner), ownerValue),
      this.#c.run<StatsTimesRow>('taskStats', this.#sql.taskStatsTimes(owner), [p.now, new Date(now - MINUTE_MS), new Date(now - HOUR_MS), ...ownerValue]),
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
      const owner = ownerFilter ? 'AND created_by = $1::uuid' : '';
      return statement(`task_stats_counts${ownerFilter ? '_owner' : ''}`, `
        SELECT task_type, priority_rank, status, count(*)::integer AS count FROM ${s}.tasks WHERE status IN (${READY}) ${owner} GROUP BY task_type, priority_rank, status
        UNION ALL
        SELECT task_type, priority_rank, status, count(*)::integer FROM ${s}.tasks WHERE status = 'running' ${owner} GROUP BY task_type, priority_rank, status
        UNION ALL
        SELECT task_type, priority_rank, status, count::integer FROM ${s}.task_counts WHERE owner = ${ownerFilter ? '$1::text' : `'${ALL_OWNERS}'`} AND count <> 0
        UNION ALL
        SELECT task_type, priority_rank, status, count(*)::integer FROM ${s}.tasks
         WHERE status IN (${FINISHED}) ${owner}
           AND completed_at >= coalesce((SELECT rolled_through FROM ${s}.task_rollup_state WHERE id = 1), '-infinity')
         GROUP BY task_type, priority_rank, status`);
    },
    // $1 now, $2 a minute ago, $3 an hour ago. Each part reads a partial index.
    taskStatsTimes: (ownerFilter: boolean) => {
      const owner = ownerFilter ? 'AND created_by = $4::uuid' : '';
      const recent = (status: string, since: string) =>
        `(SELECT count(*) FROM ${s}.tasks WHERE status IN (${FINISHED}) AND status = '${status}' AND completed_at >= ${since} ${owner})`;
      return statement(`task_stats_times${ownerFilter ? '_owner' : ''}`, `
        SELECT (SELECT min(run_at) FROM ${s}.tasks WHERE status IN (${READY}) AND run_at <= $1::timestamptz ${owner}
                  AND task_type NOT IN (SELECT task_type FROM ${s}.task_type_pauses)) AS oldest_ready,
          ${recent('completed', '$2::timestamptz')} AS completed_minute, ${recent('completed', '$3::timestamptz')} AS completed_hour,
          ${recent('failed', '$2::timestamptz')} AS failed_minute, ${recent('failed', '$3::timestamptz')} AS failed_hour`);
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

import { ALL_OWNERS } from '../shared/task-rollups.ts';
import { FINISHED, type SqlContext } from './sql-parts.ts';

/**
 * The finished-task counts (task_counts) that let taskStats skip the history: the rollup adds the
 * tasks of the minutes it rolls up; retrying, deleting and pruning a task it counted subtracts it.
 *
 * Why the counts stay exact under concurrency: a subtraction first takes task_rollup_state FOR SHARE
 * (the rollup holds it FOR UPDATE) and locks the tasks it subtracts. A rollup that went first has
 * committed both its counts and rolled_through, which the subtraction then reads; one that comes
 * second waits, and its next statement sees the task already retried or deleted. A prune batch
 * (maintenance.ts) locks its rows first and reads the state FOR SHARE after, in the same statement:
 * no deadlock, as the only holder of the state FOR UPDATE, the rollup, locks no task row.
 */
/** Per owner ('*' and each creator), type, priority and status: how many rows of `source` (task_type, priority_rank, status, created_by). */
const grouped = (source: string) => `
    SELECT '${ALL_OWNERS}' AS owner, task_type, priority_rank, status, count(*) AS n FROM ${source} GROUP BY task_type, priority_rank, status
    UNION ALL
    SELECT created_by::text, task_type, priority_rank, status, count(*) FROM ${source} WHERE created_by IS NOT NULL GROUP BY created_by, task_type, priority_rank, status`;

/**
 * The UPDATE that subtracts the rows of `source` (a CTE of counted tasks: task_type, priority_rank,
 * status, created_by) from task_counts, for a data-modifying CTE; the caller reads the state FOR SHARE.
 */
export function countsSubtractGrouped(s: string, source: string): string {
  return `
    UPDATE ${s}.task_counts c SET count = c.count - g.n FROM (${grouped(source)}) AS g
     WHERE c.owner = g.owner AND c.task_type = g.task_type AND c.priority_rank = g.priority_rank AND c.status = g.status`;
}

export function countsSql({ s, statement }: SqlContext) {
  return {
    // $1 from (or -infinity on the first run), $2 to.
    countsAdd: statement('counts_add', `
      WITH finished AS (SELECT task_type, priority_rank, status, created_by FROM ${s}.tasks
                         WHERE status IN (${FINISHED}) AND completed_at >= $1::timestamptz AND completed_at < $2::timestamptz)
      INSERT INTO ${s}.task_counts (owner, task_type, priority_rank, status, count)
      SELECT owner, task_type, priority_rank, status, n FROM (${grouped('finished')}) AS g
      ON CONFLICT (owner, task_type, priority_rank, status) DO UPDATE SET count = task_counts.count + excluded.count`),
    /** $1 the task ids; only those in `statuses` (SQL list) and counted already (before rolled_through). */
    countsSubtract: (name: string, statuses: string) =>
      statement(`counts_subtract_${name}`, `
        WITH state AS (SELECT rolled_through FROM ${s}.task_rollup_state WHERE id = 1 FOR SHARE),
             counted AS (SELECT task_type, priority_rank, status, created_by FROM ${s}.tasks
                          WHERE id = ANY($1::uuid[]) AND status IN (${statuses}) AND completed_at < (SELECT rolled_through FROM state)
                          FOR UPDATE),
             g AS (${grouped('counted')})
        UPDATE ${s}.task_counts c SET count = c.count - g.n FROM g
         WHERE c.owner = g.owner AND c.task_type = g.task_type AND c.priority_rank = g.priority_rank AND c.status = g.status`),
  };
}

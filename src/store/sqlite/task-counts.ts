import { FINISHED } from './sql-parts.ts';

/**
 * The finished-task counts (task_counts) that let taskStats skip the history: the rollup adds the
 * tasks of the minutes it rolls up; retrying, deleting and pruning a task it counted subtracts it,
 * in the same write transaction (SQLite has one writer, so nothing can come between).
 */

/** Per owner ('*' and each creator) and type, priority and status: the finished tasks `where` selects, times @sign. */
const grouped = (where: string) => `
  SELECT owner, task_type, priority_rank, status, n * @sign AS n FROM (
    SELECT '*' AS owner, task_type, priority_rank, status, COUNT(*) AS n FROM tasks WHERE ${FINISHED} AND ${where}
     GROUP BY task_type, priority_rank, status
    UNION ALL
    SELECT created_by, task_type, priority_rank, status, COUNT(*) FROM tasks WHERE ${FINISHED} AND ${where} AND created_by IS NOT NULL
     GROUP BY created_by, task_type, priority_rank, status)
   WHERE true`;

const UPSERT = `
  ON CONFLICT (owner, task_type, priority_rank, status) DO UPDATE SET count = count + excluded.count`;

/** Adds the tasks that finished in [@from, @to) (@sign = 1). */
export const COUNTS_ADD_FINISHED = `
  INSERT INTO task_counts (owner, task_type, priority_rank, status, count)
  ${grouped('completed_at >= @from AND completed_at < @to')}
  ${UPSERT}`;

/**
 * Subtracts the tasks among @ids (a JSON array) that the rollup counted already (@sign = -1); run
 * before the statement that retries or deletes them.
 */
export const COUNTS_SUBTRACT_IDS = `
  INSERT INTO task_counts (owner, task_type, priority_rank, status, count)
  ${grouped(`id IN (SELECT value FROM json_each(@ids)) AND completed_at < (SELECT rolled_through FROM task_rollup_state WHERE id = 1)`)}
  ${UPSERT}`;

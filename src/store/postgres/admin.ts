import { wakesWorkers } from '../../core/lifecycle.ts';
import type { TaskRecord } from '../../core/task.ts';
import type { TaskListParams, TaskListResult } from '../engine.ts';
import { cappedTotal } from '../shared/task-list-branches.ts';
import type { PostgresConnection } from './postgres-connection.ts';
import { FINISHED, notifyIf, READY, type SqlContext, type Statement } from './sql-parts.ts';
import { countsSql } from './task-counts.ts';
import { encodeCursor, taskListQuery } from './task-list-query.ts';
import { taskFromRow, type TaskRow } from './task-row.ts';

/** Operators' reads and changes of single tasks: get, list, cancel, retry, delete. */
export class AdminStore {
  readonly #c: PostgresConnection;
  readonly #sql: ReturnType<typeof adminSql>;
  /** Retrying or deleting a finished task takes it out of the finished counts (task-counts.ts). */
  readonly #counts: { retry: Statement; delete: Statement };

  constructor(c: PostgresConnection) {
    this.#c = c;
    this.#sql = adminSql(c.sql);
    const counts = countsSql(c.sql);
    this.#counts = { retry: counts.countsSubtract('retry', `'failed', 'cancelled'`), delete: counts.countsSubtract('delete', FINISHED) };
  }

  async taskGet(p: { id: string }): Promise<TaskRecord | null> {
    this.#c.assertOpen();
    const { rows } = await this.#c.run<TaskRow>('taskGet', this.#sql.taskGet, [p.id]);
    return rows[0] ? taskFromRow(rows[0]) : null;
  }

  async taskList(p: TaskListParams): Promise<TaskListResult> {
    this.#c.assertOpen();
    const query = taskListQuery(p, this.#c.sql.s, this.#c.sql.taskColumns);
    if (query === null) return { tasks: [], nextCursor: null, total: p.withTotal ? 0 : null, totalIsExact: true };
    const [page, count] = await Promise.all([
      this.#c.runText<TaskRow>('taskList', query.page.text, query.page.values),
      query.count ? this.#c.runText<{ count: number }>('taskList', query.count.text, query.count.values) : null,
    ]);
    const rows = page.rows.slice(0, query.limit);
    const more = page.rows.length > query.limit;
    return {
      tasks: rows.map(taskFromRow),
      nextCursor: more ? encodeCursor(rows.at(-1)!.id) : null,
      ...(count ? cappedTotal(count.rows[0]!.count) : { total: null, totalIsExact: true }),
    };
  }

  async taskCancel(p: { id: string; now: Date }): Promise<{ outcome: 'cancelled' | 'cancel_requested' | 'not_cancellable' | 'not_found'; task: TaskRecord | null }> {
    this.#c.assertOpen();
    const { rows } = await this.#c.run<TaskRow>('taskCancel', this.#sql.taskCancel, [p.id, p.now]);
    const row = rows[0];
    if (row) return { outcome: row.status === 'cancelled' ? 'cancelled' : 'cancel_requested', task: taskFromRow(row) };
    const task = await this.taskGet({ id: p.id });
    return { outcome: task ? 'not_cancellable' : 'not_found', task };
  }

  async taskRetry(p: { id: string; now: Date }): Promise<{ outcome: 'retried' | 'not_retryable' | 'not_found'; task: TaskRecord | null }> {
    this.#c.assertOpen();
    const { rows } = await this.#c.transaction('taskRetry', async (client) => {
      await this.#c.run('taskRetry', this.#counts.retry, [[p.id]], client);
      return this.#c.run<TaskRow>('taskRetry', this.#sql.taskRetry, [p.id, p.now, wakesWorkers('retry', 'pending')], client);
    });
    if (rows[0]) return { outcome: 'retried', task: taskFromRow(rows[0]) };
    const task = await this.taskGet({ id: p.id });
    return { outcome: task ? 'not_retryable' : 'not_found', task };
  }

  async taskDelete(p: { id: string }): Promise<'deleted' | 'not_finished' | 'not_found'> {
    this.#c.assertOpen();
    const deleted = await this.#c.transaction('taskDelete', async (client) => {
      await this.#c.run('taskDelete', this.#counts.delete, [[p.id]], client);
      return this.#c.run('taskDelete', this.#sql.taskDelete, [p.id], client);
    });
    if (deleted.rowCount === 1) return 'deleted';
    const { rows } = await this.#c.run('taskDelete', this.#sql.taskStatus, [p.id]);
    return rows.length ? 'not_finished' : 'not_found';
  }
}

function adminSql({ s, statement, channel, taskColumns }: SqlContext) {
  return {
    taskGet: statement('task_get', `SELECT ${taskColumns} FROM ${s}.tasks WHERE id = $1::uuid`),
    taskStatus: statement('task_status', `SELECT status FROM ${s}.tasks WHERE id = $1::uuid`),
    // One conditional statement, so a claim or a finish racing with it is decided by the row lock:
    // waiting tasks end at once, a running one is asked to stop.
    taskCancel: statement('task_cancel', `
      UPDATE ${s}.tasks
      SET status = CASE WHEN status = 'running' THEN status ELSE 'cancelled' END,
          completed_at = CASE WHEN status = 'running' THEN completed_at ELSE $2::timestamptz END,
          cancel_requested_at = CASE WHEN status = 'running' THEN coalesce(cancel_requested_at, $2::timestamptz) ELSE cancel_requested_at END,
          updated_at = $2::timestamptz
      WHERE id = $1::uuid AND status IN (${READY}, 'running')
      RETURNING ${taskColumns}`),
    // Attempt numbers fence workers, so they never go back: a task whose attempts are spent gets one more.
    // A strategy stored as {} (the default, core/retry-strategy.ts) takes its count from the column.
    // $3 whether it wakes idle workers (wakesWorkers: it is due at once).
    taskRetry: statement('task_retry', `
      WITH retried AS (
        UPDATE ${s}.tasks
        SET status = 'pending', run_at = $2::timestamptz, updated_at = $2::timestamptz, cancel_requested_at = NULL, completed_at = NULL,
            worker_id = NULL, lease_expires_at = NULL, rescue_count = 0, unstarted_losses = 0,
            max_attempts = CASE WHEN current_attempt >= max_attempts THEN current_attempt + 1 ELSE max_attempts END,
            retry_strategy = CASE WHEN retry_strategy = '{}'::jsonb THEN retry_strategy
              ELSE jsonb_set(retry_strategy, '{max_attempts}', to_jsonb(CASE WHEN current_attempt >= max_attempts THEN current_attempt + 1 ELSE max_attempts END)) END
        WHERE id = $1::uuid AND status IN ('failed', 'cancelled')
        RETURNING ${taskColumns})
      SELECT ${taskColumns} FROM retried WHERE ${notifyIf('$3::boolean', channel)}`),
    taskDelete: statement('task_delete', `DELETE FROM ${s}.tasks WHERE id = $1::uuid AND status IN (${FINISHED}) RETURNING id`),
  };
}

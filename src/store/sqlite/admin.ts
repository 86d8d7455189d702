import { wakesWorkers } from '../../core/lifecycle.ts';
import type { TaskRecord } from '../../core/task.ts';
import type { TaskListParams, TaskListResult } from '../engine.ts';
import { cappedTotal } from '../shared/task-list-branches.ts';
import type { InsertSignal } from './insert-signal.ts';
import { FINISHED, READY } from './sql-parts.ts';
import { COUNTS_SUBTRACT_IDS } from './task-counts.ts';
import type { SqliteConnection } from './sqlite-connection.ts';
import { buildListQuery, encodeCursor } from './task-list-query.ts';
import { rowToTask, type TaskRow } from './task-row.ts';

/** Operators' reads and changes of single tasks: get, list, cancel, retry, delete. */
export class AdminStore {
  readonly #c: SqliteConnection;
  readonly #signal: InsertSignal;

  constructor(c: SqliteConnection, signal: InsertSignal) {
    this.#c = c;
    this.#signal = signal;
  }

  taskGet(p: { id: string }): Promise<TaskRecord | null> {
    return this.#c.run('taskGet', () => {
      const row = this.#c.prepare(TASK_BY_ID).get(p.id) as TaskRow | undefined;
      return row === undefined ? null : rowToTask(row);
    });
  }

  async taskList(p: TaskListParams): Promise<TaskListResult> {
    this.#c.assertOpen();
    const query = buildListQuery(p);
    return this.#c.run('taskList', () => {
      const rows = this.#c.rows<TaskRow>(query.pageSql, query.params);
      const more = rows.length > p.limit;
      const page = more ? rows.slice(0, p.limit) : rows;
      const counted = p.withTotal === true ? cappedTotal((this.#c.prepare(query.countSql).get(query.countParams) as { n: number }).n) : { total: null, totalIsExact: true };
      return { tasks: page.map(rowToTask), nextCursor: more ? encodeCursor(page[page.length - 1]!.id) : null, ...counted };
    });
  }

  taskCancel(p: { id: string; now: Date }): Promise<{ outcome: 'cancelled' | 'cancel_requested' | 'not_cancellable' | 'not_found'; task: TaskRecord | null }> {
    const params = { id: p.id, now: p.now.getTime() };
    return this.#c.write('taskCancel', () => {
      const cancelled = this.#c.prepare(TASK_CANCEL_READY).get(params) as TaskRow | undefined;
      if (cancelled !== undefined) return { outcome: 'cancelled' as const, task: rowToTask(cancelled) };
      const requested = this.#c.prepare(TASK_REQUEST_CANCEL).get(params) as TaskRow | undefined;
      if (requested !== undefined) return { outcome: 'cancel_requested' as const, task: rowToTask(requested) };
      const row = this.#c.prepare(TASK_BY_ID).get(p.id) as TaskRow | undefined;
      return row === undefined ? { outcome: 'not_found' as const, task: null } : { outcome: 'not_cancellable' as const, task: rowToTask(row) };
    });
  }

  async taskRetry(p: { id: string; now: Date }): Promise<{ outcome: 'retried' | 'not_retryable' | 'not_found'; task: TaskRecord | null }> {
    const result = await this.#retry(p);
    if (result.outcome === 'retried' && wakesWorkers('retry', result.task!.status)) this.#signal.notify(result.task!.taskType);
    return result;
  }

  #retry(p: { id: string; now: Date }): Promise<{ outcome: 'retried' | 'not_retryable' | 'not_found'; task: TaskRecord | null }> {
    return this.#c.write('taskRetry', () => {
      this.#c.prepare(COUNTS_SUBTRACT_RETRYABLE).run({ ids: JSON.stringify([p.id]), sign: -1 });
      const retried = this.#c.prepare(TASK_RETRY).get({ id: p.id, now: p.now.getTime() }) as TaskRow | undefined;
      if (retried !== undefined) return { outcome: 'retried' as const, task: rowToTask(retried) };
      const row = this.#c.prepare(TASK_BY_ID).get(p.id) as TaskRow | undefined;
      return row === undefined ? { outcome: 'not_found' as const, task: null } : { outcome: 'not_retryable' as const, task: rowToTask(row) };
    });
  }

  taskDelete(p: { id: string }): Promise<'deleted' | 'not_finished' | 'not_found'> {
    return this.#c.write('taskDelete', () => {
      this.#c.prepare(COUNTS_SUBTRACT_IDS).run({ ids: JSON.stringify([p.id]), sign: -1 });
      if (this.#c.prepare(TASK_DELETE).run(p.id).changes > 0) return 'deleted' as const;
      return this.#c.prepare(TASK_STATUS_BY_ID).get(p.id) === undefined ? ('not_found' as const) : ('not_finished' as const);
    });
  }
}

const TASK_BY_ID = `SELECT * FROM tasks WHERE id = ?`;

/** Only failed and cancelled tasks are retried: a completed one stays counted. */
const COUNTS_SUBTRACT_RETRYABLE = COUNTS_SUBTRACT_IDS.replace('WHERE true', "WHERE status IN ('failed', 'cancelled')");

const TASK_STATUS_BY_ID = `SELECT status FROM tasks WHERE id = ?`;

const TASK_CANCEL_READY = `
  UPDATE tasks SET status = 'cancelled', completed_at = @now, updated_at = @now
   WHERE id = @id AND ${READY}
  RETURNING *`;

const TASK_REQUEST_CANCEL = `
  UPDATE tasks SET cancel_requested_at = COALESCE(cancel_requested_at, @now), updated_at = @now
   WHERE id = @id AND status = 'running'
  RETURNING *`;

/** As PostgreSQL's taskRetry: one more attempt when they are spent; a strategy stored as {} takes its count from the column. */
const TASK_RETRY = `
  UPDATE tasks
     SET status = 'pending', run_at = @now, updated_at = @now, cancel_requested_at = NULL, completed_at = NULL,
         worker_id = NULL, lease_expires_at = NULL, rescue_count = 0, unstarted_losses = 0,
         max_attempts = CASE WHEN current_attempt >= max_attempts THEN current_attempt + 1 ELSE max_attempts END,
         retry_strategy = CASE WHEN retry_strategy = '{}' THEN retry_strategy ELSE json_set(retry_strategy, '$.max_attempts',
           CASE WHEN current_attempt >= max_attempts THEN current_attempt + 1 ELSE max_attempts END) END
   WHERE id = @id AND status IN ('failed', 'cancelled')
  RETURNING *`;

const TASK_DELETE = `DELETE FROM tasks WHERE id = ? AND ${FINISHED}`;

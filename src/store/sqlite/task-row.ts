import type { NewTask } from '../../core/new-task.ts';
import { taskMappers, type ClaimRowOf, type TaskRowOf } from '../shared/task-mappers.ts';
import { sqliteCodec } from './sqlite-codec.ts';

const sqliteTasks = taskMappers(sqliteCodec);

/** A `tasks` row as better-sqlite3 returns it: INTEGER epoch milliseconds, JSON as TEXT. */
export type TaskRow = TaskRowOf<number, string>;

export const rowToTask = sqliteTasks.task;

/** Named parameters of the insert statement. */
export function taskInsertParams(task: NewTask): Record<string, string | number | null> {
  return {
    id: task.id,
    task_type: task.taskType,
    payload: task.payloadJson,
    status: task.status,
    priority_rank: task.priorityRank,
    retry_strategy: task.retryStrategyJson,
    max_attempts: task.maxAttempts,
    metadata: task.metadataJson,
    idempotency_key: task.idempotencyKey,
    created_by: task.createdBy,
    breaker_scope: task.breakerScope,
    created_at: task.createdAt.getTime(),
    scheduled_at: task.scheduledAt === null ? null : task.scheduledAt.getTime(),
    run_at: task.runAt.getTime(),
  };
}

/** The columns a claim reads back. */
export type ClaimRow = ClaimRowOf<number, string>;

/** A claimed task (throws RowDecodeError), or the same as a decode result that names the bad column. */
export const claimedTaskFromRow = sqliteTasks.claimed;
export const decodeClaimedRow = sqliteTasks.decodeClaimed;

/** Orders claimed rows the way the claim chose them (RETURNING gives no order guarantee). */
export function compareClaimOrder(a: Pick<TaskRow, 'priority_rank' | 'run_at' | 'id'>, b: Pick<TaskRow, 'priority_rank' | 'run_at' | 'id'>): number {
  return a.priority_rank - b.priority_rank || a.run_at - b.run_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export function toDate(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}

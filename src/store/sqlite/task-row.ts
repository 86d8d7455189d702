import type { NewTask } from '../../core/new-task.ts';
import type { RetryStrategy } from '../../core/retry-strategy.ts';
import { priorityFromRank, type ClaimedTask, type JsonObject, type JsonValue, type TaskRecord, type TaskStatus } from '../../core/task.ts';
import { attemptFromJson, attemptHistory, type AttemptJson } from '../attempt-json.ts';

/** A `tasks` row as better-sqlite3 returns it: INTEGER epoch milliseconds, JSON as TEXT. */
export interface TaskRow {
  id: string;
  task_type: string;
  payload: string;
  status: TaskStatus;
  priority_rank: number;
  retry_strategy: string;
  max_attempts: number;
  current_attempt: number;
  last_error: string | null;
  output: string | null;
  metadata: string;
  idempotency_key: string | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
  scheduled_at: number | null;
  run_at: number;
  started_at: number | null;
  completed_at: number | null;
  worker_id: string | null;
  lease_expires_at: number | null;
  cancel_requested_at: number | null;
  rescue_count: number;
  progress: string | null;
  attempts: string;
}

/** One entry of the `attempts` JSON column; timestamps are ISO strings so the column reads well by hand. */
export function rowToTask(row: TaskRow): TaskRecord {
  return {
    id: row.id,
    taskType: row.task_type,
    payload: JSON.parse(row.payload) as JsonValue,
    status: row.status,
    priority: priorityFromRank(row.priority_rank),
    retryStrategy: JSON.parse(row.retry_strategy) as RetryStrategy,
    maxAttempts: row.max_attempts,
    currentAttempt: row.current_attempt,
    lastError: row.last_error,
    output: row.output === null ? null : (JSON.parse(row.output) as JsonValue),
    metadata: JSON.parse(row.metadata) as JsonObject,
    idempotencyKey: row.idempotency_key,
    createdBy: row.created_by,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    scheduledAt: toDate(row.scheduled_at),
    runAt: new Date(row.run_at),
    startedAt: toDate(row.started_at),
    completedAt: toDate(row.completed_at),
    workerId: row.worker_id,
    leaseExpiresAt: toDate(row.lease_expires_at),
    cancelRequestedAt: toDate(row.cancel_requested_at),
    rescueCount: row.rescue_count,
    progress: row.progress === null ? null : (JSON.parse(row.progress) as JsonValue),
    attempts: attemptHistory(row.attempts === '[]' ? [] : (JSON.parse(row.attempts) as AttemptJson[]).map(attemptFromJson), {
      status: row.status,
      currentAttempt: row.current_attempt,
      workerId: row.worker_id,
      startedAt: toDate(row.started_at),
      completedAt: toDate(row.completed_at),
    }),
  };
}

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
    created_at: task.createdAt.getTime(),
    scheduled_at: task.scheduledAt === null ? null : task.scheduledAt.getTime(),
    run_at: task.runAt.getTime(),
  };
}

/** The columns a claim reads back. */
export type ClaimRow = Pick<
  TaskRow,
  'id' | 'task_type' | 'payload' | 'priority_rank' | 'run_at' | 'current_attempt' | 'max_attempts' | 'metadata' | 'idempotency_key' | 'created_by' | 'created_at'
>;

/** A claimed task, field by field: this runs for every task a worker claims. */
export function claimedTaskFromRow(row: ClaimRow): ClaimedTask {
  return {
    id: row.id,
    taskType: row.task_type,
    payload: JSON.parse(row.payload) as JsonValue,
    priority: priorityFromRank(row.priority_rank),
    runAt: new Date(row.run_at),
    currentAttempt: row.current_attempt,
    maxAttempts: row.max_attempts,
    metadata: row.metadata === '{}' ? {} : (JSON.parse(row.metadata) as JsonObject),
    idempotencyKey: row.idempotency_key,
    createdBy: row.created_by,
    createdAt: new Date(row.created_at),
  };
}

/** Orders claimed rows the way the claim chose them (RETURNING gives no order guarantee). */
export function compareClaimOrder(a: Pick<TaskRow, 'priority_rank' | 'run_at' | 'id'>, b: Pick<TaskRow, 'priority_rank' | 'run_at' | 'id'>): number {
  return a.priority_rank - b.priority_rank || a.run_at - b.run_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export function toDate(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}

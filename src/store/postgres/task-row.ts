import type { RetryStrategy } from '../../core/retry-strategy.ts';
import { priorityFromRank, type ClaimedTask, type JsonObject, type JsonValue, type TaskRecord, type TaskStatus } from '../../core/task.ts';
import { attemptFromJson, attemptHistory, type AttemptJson } from '../attempt-json.ts';

/** A `tasks` row as pg returns it with PG_TYPES: jsonb parsed, timestamptz as Date, integers as numbers. */
export interface TaskRow {
  id: string;
  task_type: string;
  payload: JsonValue;
  status: TaskStatus;
  priority_rank: number;
  retry_strategy: RetryStrategy;
  max_attempts: number;
  current_attempt: number;
  last_error: string | null;
  output: JsonValue | null;
  metadata: JsonObject;
  idempotency_key: string | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
  scheduled_at: Date | null;
  run_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
  worker_id: string | null;
  lease_expires_at: Date | null;
  cancel_requested_at: Date | null;
  rescue_count: number;
  progress: JsonValue | null;
  attempts: AttemptJson[];
}

/** An attempt as stored in the `attempts` jsonb array (snake_case, ISO timestamps). */
export function taskFromRow(row: TaskRow): TaskRecord {
  return {
    id: row.id,
    taskType: row.task_type,
    payload: row.payload,
    status: row.status,
    priority: priorityFromRank(row.priority_rank),
    retryStrategy: row.retry_strategy,
    maxAttempts: row.max_attempts,
    currentAttempt: row.current_attempt,
    lastError: row.last_error,
    output: row.output,
    metadata: row.metadata,
    idempotencyKey: row.idempotency_key,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    scheduledAt: row.scheduled_at,
    runAt: row.run_at,
    startedAt: row.started_at,
    completedAt: row.completed_at,
    workerId: row.worker_id,
    leaseExpiresAt: row.lease_expires_at,
    cancelRequestedAt: row.cancel_requested_at,
    rescueCount: row.rescue_count,
    progress: row.progress,
    attempts: attemptHistory(row.attempts.map(attemptFromJson), {
      status: row.status,
      currentAttempt: row.current_attempt,
      workerId: row.worker_id,
      startedAt: row.started_at,
      completedAt: row.completed_at,
    }),
  };
}

/** The columns a claim reads back (CLAIM_COLUMN_NAMES). */
export type ClaimRow = Pick<
  TaskRow,
  'id' | 'task_type' | 'payload' | 'priority_rank' | 'run_at' | 'current_attempt' | 'max_attempts' | 'metadata' | 'idempotency_key' | 'created_by' | 'created_at'
>;

/** A claimed task, field by field: this runs for every task a worker claims. */
export function claimedTaskFromRow(row: ClaimRow): ClaimedTask {
  return {
    id: row.id,
    taskType: row.task_type,
    payload: row.payload,
    priority: priorityFromRank(row.priority_rank),
    runAt: row.run_at,
    currentAttempt: row.current_attempt,
    maxAttempts: row.max_attempts,
    metadata: row.metadata,
    idempotencyKey: row.idempotency_key,
    createdBy: row.created_by,
    createdAt: row.created_at,
  };
}

/** Claim order: critical > high > normal > low, then due time, then creation (UUIDv7 ids sort by time). */
export function compareClaimOrder(a: Pick<TaskRow, 'priority_rank' | 'run_at' | 'id'>, b: Pick<TaskRow, 'priority_rank' | 'run_at' | 'id'>): number {
  return a.priority_rank - b.priority_rank || a.run_at.getTime() - b.run_at.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

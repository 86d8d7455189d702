import { type RetryStrategy, retryStrategyOfRow } from '../../core/retry-strategy.ts';
import { priorityFromRank, type ClaimedTask, type JsonObject, type JsonValue, type TaskRecord, type TaskStatus } from '../../core/task.ts';
import { attemptFromJson, attemptHistory, type AttemptJson } from '../attempt-json.ts';
import { orNull, RowDecodeError, type RowCodec } from './row-codec.ts';

/** A `tasks` row whose timestamps are stored as `T` and JSON columns as `J`. */
export interface TaskRowOf<T, J> {
  id: string;
  task_type: string;
  payload: J;
  status: TaskStatus;
  priority_rank: number;
  retry_strategy: J;
  max_attempts: number;
  current_attempt: number;
  last_error: string | null;
  output: J | null;
  metadata: J;
  idempotency_key: string | null;
  created_by: string | null;
  created_at: T;
  updated_at: T;
  scheduled_at: T | null;
  run_at: T;
  started_at: T | null;
  completed_at: T | null;
  worker_id: string | null;
  lease_expires_at: T | null;
  cancel_requested_at: T | null;
  rescue_count: number;
  progress: J | null;
  attempts: J;
}

/** The columns a claim reads back (CLAIM_COLUMNS of each engine). */
export type ClaimRowOf<T, J> = Pick<
  TaskRowOf<T, J>,
  'id' | 'task_type' | 'payload' | 'priority_rank' | 'run_at' | 'current_attempt' | 'max_attempts' | 'metadata' | 'idempotency_key' | 'created_by' | 'created_at' | 'rescue_count'
> & {
  breaker_scope: string | null;
  /** A boolean on PostgreSQL, 0 or 1 on SQLite. */
  attempt_started: boolean | number;
  unstarted_losses: number;
};

/** A claimed row that could be decoded, or the column that could not: one bad row never spoils the others. */
export type ClaimDecoded = { ok: true; task: ClaimedTask } | { ok: false; id: string; attempt: number; error: RowDecodeError };

/** The task mappers of one engine, field mapping written once over its codec. */
export function taskMappers<T, J, B>(codec: RowCodec<T, J, B>) {
  const time = (value: T) => codec.time(value);
  const optTime = (value: T | null) => orNull(value, time);
  const object = (value: J, column: string): JsonObject => {
    const decoded = codec.json<unknown>(value, column);
    if (decoded === null || typeof decoded !== 'object' || Array.isArray(decoded)) throw new RowDecodeError(column, 'is not an object');
    return decoded as JsonObject;
  };
  /**
   * The user's own data (payload, output, progress) read for showing: stored text that cannot be
   * decoded is shown as that text, so the task can still be looked at, and fixed or deleted.
   */
  const shown = (value: J, column: string): JsonValue => {
    try {
      return codec.json<JsonValue>(value, column);
    } catch (error) {
      if (error instanceof RowDecodeError && typeof value === 'string') return value;
      throw error;
    }
  };

  function task(row: TaskRowOf<T, J>): TaskRecord {
    const startedAt = optTime(row.started_at);
    const completedAt = optTime(row.completed_at);
    return {
      id: row.id,
      taskType: row.task_type,
      payload: shown(row.payload, 'payload'),
      status: row.status,
      priority: priorityFromRank(row.priority_rank),
      retryStrategy: retryStrategyOfRow(codec.json<RetryStrategy>(row.retry_strategy, 'retry_strategy'), row.max_attempts),
      maxAttempts: row.max_attempts,
      currentAttempt: row.current_attempt,
      lastError: row.last_error,
      output: orNull(row.output, (v) => shown(v, 'output')),
      metadata: codec.json<JsonObject>(row.metadata, 'metadata'),
      idempotencyKey: row.idempotency_key,
      createdBy: row.created_by,
      createdAt: time(row.created_at),
      updatedAt: time(row.updated_at),
      scheduledAt: optTime(row.scheduled_at),
      runAt: time(row.run_at),
      startedAt,
      completedAt,
      workerId: row.worker_id,
      leaseExpiresAt: optTime(row.lease_expires_at),
      cancelRequestedAt: optTime(row.cancel_requested_at),
      rescueCount: row.rescue_count,
      progress: orNull(row.progress, (v) => shown(v, 'progress')),
      attempts: attemptHistory(codec.json<AttemptJson[]>(row.attempts, 'attempts').map(attemptFromJson), {
        status: row.status,
        currentAttempt: row.current_attempt,
        workerId: row.worker_id,
        startedAt,
        completedAt,
      }),
    };
  }

  /** A claimed task, field by field: this runs for every task a worker claims. Throws RowDecodeError. */
  function claimed(row: ClaimRowOf<T, J>): ClaimedTask {
    return {
      id: row.id,
      taskType: row.task_type,
      payload: codec.json<JsonValue>(row.payload, 'payload'),
      priority: priorityFromRank(row.priority_rank),
      runAt: time(row.run_at),
      currentAttempt: row.current_attempt,
      maxAttempts: row.max_attempts,
      metadata: object(row.metadata, 'metadata'),
      idempotencyKey: row.idempotency_key,
      createdBy: row.created_by,
      createdAt: time(row.created_at),
      breakerScope: row.breaker_scope,
      rescueCount: row.rescue_count,
      unstartedLosses: row.unstarted_losses,
      startRecorded: row.attempt_started === true || row.attempt_started === 1,
    };
  }

  /** Each claimed row decoded on its own; an undecodable one comes back as an error naming its column. */
  function decodeClaimed(row: ClaimRowOf<T, J>): ClaimDecoded {
    try {
      return { ok: true, task: claimed(row) };
    } catch (error) {
      if (!(error instanceof RowDecodeError)) throw error;
      return { ok: false, id: row.id, attempt: row.current_attempt, error };
    }
  }

  return { task, claimed, decodeClaimed };
}

import type { TaskRecord } from '../../core/task.ts';
import { unscopeIdempotencyKey } from './idempotency-scope.ts';
import { iso, isoOrNull } from './iso.ts';

/** A task for lists: snake_case like the guide, every optional field present as null. */
export function taskSummary(task: TaskRecord) {
  return {
    id: task.id,
    task_type: task.taskType,
    status: task.status,
    priority: task.priority,
    max_attempts: task.maxAttempts,
    current_attempt: task.currentAttempt,
    last_error: task.lastError,
    created_at: iso(task.createdAt),
    updated_at: iso(task.updatedAt),
    scheduled_at: isoOrNull(task.scheduledAt),
    run_at: iso(task.runAt),
    started_at: isoOrNull(task.startedAt),
    completed_at: isoOrNull(task.completedAt),
    cancel_requested_at: isoOrNull(task.cancelRequestedAt),
    created_by: task.createdBy,
    metadata: task.metadata,
    progress: task.progress,
  };
}

/** One task in full: payload, output, retry strategy and attempt history too. */
export function taskDetail(task: TaskRecord) {
  return {
    ...taskSummary(task),
    payload: task.payload,
    output: task.output,
    retry_strategy: task.retryStrategy as unknown as Record<string, unknown>,
    idempotency_key: unscopeIdempotencyKey(task.idempotencyKey, task.createdBy),
    worker_id: task.workerId,
    lease_expires_at: isoOrNull(task.leaseExpiresAt),
    rescue_count: task.rescueCount,
    attempts: task.attempts.map((a) => ({
      attempt: a.attempt,
      worker_id: a.workerId,
      started_at: isoOrNull(a.startedAt),
      finished_at: iso(a.finishedAt),
      outcome: a.outcome,
      error: a.error,
    })),
  };
}

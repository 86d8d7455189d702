import type { AttemptOutcome, AttemptRecord, TaskRecord } from '../core/task.ts';

/** One entry of a task's `attempts` column, as both engines store it (JSON, ISO timestamps). */
export interface AttemptJson {
  attempt: number;
  worker_id: string | null;
  started_at: string | null;
  finished_at: string;
  outcome: AttemptOutcome;
  error: string | null;
}

export function attemptFromJson(entry: AttemptJson): AttemptRecord {
  return {
    attempt: entry.attempt,
    workerId: entry.worker_id,
    startedAt: entry.started_at === null ? null : new Date(entry.started_at),
    finishedAt: new Date(entry.finished_at),
    outcome: entry.outcome,
    error: entry.error,
  };
}

/**
 * A task's whole attempt history. Every attempt that ends otherwise is appended to the `attempts`
 * column as it ends, but a completion, the hot path, writes only the row's own columns, which already
 * hold that last attempt: its number, worker, start and completion time. A completed task is final
 * (it cannot be retried), so those columns never change again and the entry is made here on read.
 */
export function attemptHistory(stored: AttemptRecord[], task: Pick<TaskRecord, 'status' | 'currentAttempt' | 'workerId' | 'startedAt' | 'completedAt'>): AttemptRecord[] {
  // Rows completed before this rule have the entry already. (Not "the last entry has this attempt
  // number": an attempt handed back at shutdown or snoozed gives its number back, and the attempt
  // that completes then has the same one.)
  if (task.status !== 'completed' || task.completedAt === null || stored.at(-1)?.outcome === 'completed') return stored;
  stored.push({ attempt: task.currentAttempt, workerId: task.workerId, startedAt: task.startedAt, finishedAt: task.completedAt, outcome: 'completed', error: null });
  return stored;
}

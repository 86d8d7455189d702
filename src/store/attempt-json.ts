import type { AttemptOutcome, AttemptRecord } from '../core/task.ts';

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

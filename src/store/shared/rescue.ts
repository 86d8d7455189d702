import type { RescueFacts, RescueOutcome } from '../../core/lifecycle.ts';
import type { RescueResult } from '../engine.ts';

/** An expired lease as both engines read it (taskExpired / TASK_EXPIRED): the facts decideRescue needs. */
export interface ExpiredRow {
  id: string;
  worker_id: string | null;
  rescue_count: number;
  current_attempt: number;
  max_attempts: number;
  /** A boolean on PostgreSQL, 0 or 1 on SQLite. */
  cancel_requested: boolean | number;
}

export function rescueFacts(row: ExpiredRow, maxRescues: number): RescueFacts {
  return {
    workerId: row.worker_id,
    rescueCount: row.rescue_count,
    attempt: row.current_attempt,
    maxAttempts: row.max_attempts,
    cancelRequested: row.cancel_requested === true || row.cancel_requested === 1,
    maxRescues,
  };
}

/** The list of a rescue's result that a decided status goes to. */
export function rescueList(result: RescueResult, status: RescueOutcome['status']): string[] {
  return status === 'retrying' ? result.retried : status === 'failed' ? result.deadLettered : result.cancelled;
}

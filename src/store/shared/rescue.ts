import type { RescueFacts, RescueOutcome } from '../../core/lifecycle.ts';
import type { RescueResult } from '../engine.ts';

/** An expired lease as both engines read it (taskExpired / TASK_EXPIRED): the facts decideRescue needs. */
export interface ExpiredRow {
  id: string;
  worker_id: string | null;
  rescue_count: number;
  /** A boolean on PostgreSQL, 0 or 1 on SQLite. */
  attempt_started: boolean | number;
  unstarted_losses: number;
  current_attempt: number;
  max_attempts: number;
  /** A boolean on PostgreSQL, 0 or 1 on SQLite. */
  cancel_requested: boolean | number;
}

export function rescueFacts(row: ExpiredRow, maxRescues: number): RescueFacts {
  return {
    workerId: row.worker_id,
    rescueCount: row.rescue_count,
    started: row.attempt_started === true || row.attempt_started === 1,
    unstartedLosses: row.unstarted_losses,
    attempt: row.current_attempt,
    maxAttempts: row.max_attempts,
    cancelRequested: row.cancel_requested === true || row.cancel_requested === 1,
    maxRescues,
  };
}

/** The list of a rescue's result that a decided status goes to (a task handed back unstarted is due again: `retried`). */
export function rescueList(result: RescueResult, status: RescueOutcome['status']): string[] {
  return status === 'retrying' || status === 'pending' ? result.retried : status === 'failed' ? result.deadLettered : result.cancelled;
}

/**
 * A decided rescue as the columns both engines write: a counted one adds a rescue and a `lease_expired`
 * attempt to the history; an uncounted one gives the attempt number back and adds an unstarted loss.
 */
export function rescueWrite(outcome: RescueOutcome): { status: RescueOutcome['status']; counted: boolean; message: string | null } {
  return { status: outcome.status, counted: outcome.counted, message: outcome.counted ? outcome.message : null };
}

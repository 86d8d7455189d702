import type BetterSqlite3 from 'better-sqlite3';
import type { TaskLease } from '../../core/task.ts';

/**
 * What the SQL of every SQLite store shares. Statements are module constants beside the operation
 * that runs them, prepared once per connection and reused.
 *
 * Every statement that changes a running task carries FENCE: the attempt and the owner must still be
 * the ones the caller holds, and the caller checks the number of changed rows.
 */
export const FENCE = `id = @id AND status = 'running' AND current_attempt = @attempt AND worker_id = @workerId`;

export const READY = `status IN ('pending', 'scheduled', 'retrying')`;
export const FINISHED = `status IN ('completed', 'failed', 'cancelled')`;

/** What a claim reads back: the columns of a ClaimedTask (see ClaimRow). */
export const CLAIM_COLUMNS = 'id, task_type, payload, priority_rank, run_at, current_attempt, max_attempts, metadata, idempotency_key, created_by, created_at, breaker_scope, rescue_count, attempt_started, unstarted_losses';

/**
 * What a claim sets attempt_started to (ranked.n: a row's place in the claim's order; @startNow: how
 * many start at once); see ATTEMPT_STARTED_AT_CLAIM in claim.ts. Shared by every claim statement.
 */
export const ATTEMPT_STARTED_AT_CLAIM_SQL = 'attempt_started = (ranked.n <= @startNow AND tasks.rescue_count = 0 AND tasks.unstarted_losses = 0)';

/** Epoch ms column -> ISO 8601 text, with integer maths only (no float rounding of the milliseconds). */
export function isoOf(column: string): string {
  return `CASE WHEN ${column} IS NULL THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%S', ${column} / 1000, 'unixepoch') || printf('.%03dZ', ${column} % 1000) END`;
}

/**
 * Appends the running attempt to the history. In an UPDATE every column reference reads the row as it
 * was before the update, so this records the attempt that is ending.
 */
export function appendAttempt(outcome: string, error: string): string {
  return `json_insert(attempts, '$[#]', json_object('attempt', current_attempt, 'worker_id', worker_id, 'started_at', ${isoOf('started_at')}, 'finished_at', @nowIso, 'outcome', ${outcome}, 'error', ${error}))`;
}

/** Prepares (or finds prepared) a statement on some connection: the engine's own, or the application's. */
export type Prepare = (text: string) => BetterSqlite3.Statement;

/** The named parameters of FENCE. */
export function fence(lease: TaskLease): { id: string; attempt: number; workerId: string } {
  return { id: lease.id, attempt: lease.attempt, workerId: lease.workerId };
}

/** `now` as epoch ms for columns, and as ISO text for the attempt history. */
export function stamp(now: Date): { now: number; nowIso: string } {
  return { now: now.getTime(), nowIso: now.toISOString() };
}

import type BetterSqlite3 from 'better-sqlite3';
import type { TaskLease } from '../../core/task.ts';
import { FINISHED_STATUS, READY_STATUS } from '../shared/status-terms.ts';

/**
 * What the SQL of every SQLite store shares. Statements are module constants beside the operation
 * that runs them, prepared once per connection and reused.
 *
 * Every statement that changes a running task carries FENCE: the attempt and the owner must still be
 * the ones the caller holds, and the caller checks the number of changed rows.
 */
export const FENCE = `id = @id AND status = 'running' AND current_attempt = @attempt AND worker_id = @workerId`;

/** A waiting task, a finished one: as the partial indexes spell them (status-terms.ts). */
export const READY = READY_STATUS;
export const FINISHED = FINISHED_STATUS;

/**
 * The group fair shares are kept between: the owner, nobody's tasks as one group (''). Another key
 * (a tenant, a tag) is another expression here and in the index tasks_fair_ready_idx (migrations
 * 0011 and 0014), which must use exactly this expression.
 */
export const FAIR_GROUP = `coalesce(created_by, '')`;

/**
 * Each ready task is in one index that keeps claim order (migration 0014): nobody's tasks are the
 * group '' of tasks_fair_ready_idx, owners' tasks (user ids, never '') are tasks_owned_ready_idx.
 * Each source names its index: otherwise SQLite may take another that its terms allow (a "does any
 * owned task wait?" probe took tasks_created_by_idx, every owned task ever created).
 */
const NOBODYS_READY = `tasks INDEXED BY tasks_fair_ready_idx WHERE ${FAIR_GROUP} = '' AND created_by IS NULL AND ${READY}`;
const OWNED_READY = `tasks INDEXED BY tasks_owned_ready_idx WHERE ${READY} AND created_by IS NOT NULL`;
/** `FROM ... WHERE ...` of each source, for a statement that reads both (add terms with AND). */
export const READY_SOURCES = [NOBODYS_READY, OWNED_READY] as const;

/** Which ready tasks a claim reads: nobody's, owners', or both (the ends of tasks_fair_ready_idx tell). */
export type ReadySources = 'nobodys' | 'owned' | 'both';

/**
 * The first @limit ready tasks matching `where`, in claim order (priority_rank, run_at, id; `columns`
 * must include them). One source is read in its index's order and stops at @limit; both are each
 * read so, then merged, which sorts at most twice @limit rows.
 */
export function readyInClaimOrder(columns: string, where: string, sources: ReadySources): string {
  const source = (ready: string) => `SELECT ${columns} FROM ${ready} AND ${where} ORDER BY priority_rank, run_at, id LIMIT @limit`;
  if (sources === 'nobodys') return source(NOBODYS_READY);
  if (sources === 'owned') return source(OWNED_READY);
  return `SELECT * FROM (SELECT * FROM (${source(NOBODYS_READY)}) UNION ALL SELECT * FROM (${source(OWNED_READY)})) ORDER BY priority_rank, run_at, id LIMIT @limit`;
}

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

/**
 * SQL for the `tasks` table. Statements are prepared once per connection and reused; the strings here
 * are module constants so the statement cache finds them by identity-cheap lookups.
 *
 * Every statement that changes a running task carries FENCE: the attempt and the owner must still be
 * the ones the caller holds, and the caller checks the number of changed rows.
 */

const FENCE = `id = @id AND status = 'running' AND current_attempt = @attempt AND worker_id = @workerId`;

/** Epoch ms column -> ISO 8601 text, with integer maths only (no float rounding of the milliseconds). */
function isoOf(column: string): string {
  return `CASE WHEN ${column} IS NULL THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%S', ${column} / 1000, 'unixepoch') || printf('.%03dZ', ${column} % 1000) END`;
}

/**
 * Appends the running attempt to the history. In an UPDATE every column reference reads the row as it
 * was before the update, so this records the attempt that is ending.
 */
function appendAttempt(outcome: string, error: string): string {
  return `json_insert(attempts, '$[#]', json_object('attempt', current_attempt, 'worker_id', worker_id, 'started_at', ${isoOf('started_at')}, 'finished_at', @nowIso, 'outcome', ${outcome}, 'error', ${error}))`;
}

export const READY = `status IN ('pending', 'scheduled', 'retrying')`;
export const FINISHED = `status IN ('completed', 'failed', 'cancelled')`;

export const TASK_INSERT = `
  INSERT INTO tasks (id, task_type, payload, status, priority_rank, retry_strategy, max_attempts, metadata, idempotency_key,
                     created_by, created_at, updated_at, scheduled_at, run_at)
  VALUES (@id, @task_type, @payload, @status, @priority_rank, @retry_strategy, @max_attempts, @metadata, @idempotency_key,
          @created_by, @created_at, @created_at, @scheduled_at, @run_at)
  ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`;

export const TASK_BY_ID = `SELECT * FROM tasks WHERE id = ?`;
export const TASK_BY_IDEMPOTENCY_KEY = `SELECT * FROM tasks WHERE idempotency_key = ?`;
export const TASK_STATUS_BY_ID = `SELECT status FROM tasks WHERE id = ?`;

/**
 * The claim: one statement inside BEGIN IMMEDIATE. SQLite has one writer at a time, so the inner
 * SELECT and the UPDATE see the same rows and no other process can claim them in between.
 * The ready index (priority_rank, run_at, id) WHERE status IN (...) serves the ORDER BY.
 */
/** What a claim reads back: the columns of a ClaimedTask (see ClaimRow). */
const CLAIM_COLUMNS = 'id, task_type, payload, priority_rank, run_at, current_attempt, max_attempts, metadata, idempotency_key, created_by, created_at';

export function taskClaimSql(typeCount: number): string {
  const types = Array.from({ length: typeCount }, (_, i) => `@t${i}`).join(', ');
  return `
    UPDATE tasks
       SET status = 'running', current_attempt = current_attempt + 1, worker_id = @workerId, started_at = @now,
           lease_expires_at = @leaseExpiresAt, updated_at = @now, progress = NULL
     WHERE id IN (
       SELECT id FROM tasks
        WHERE ${READY} AND run_at <= @now AND task_type IN (${types})
          AND task_type NOT IN (SELECT task_type FROM circuit_breakers WHERE state = 'open' AND reopens_at > @now
                                UNION ALL SELECT task_type FROM task_type_pauses)
        ORDER BY priority_rank, run_at, id
        LIMIT @limit)
    RETURNING ${CLAIM_COLUMNS}`;
}

/**
 * The claim when some of the types have a concurrency limit. SQLite's single writer makes the count
 * and the claim one atomic step: types at their limit are left out of the candidates, and a limited
 * type gets at most its free slots of them (claimed tasks count as running).
 */
export function taskClaimLimitedSql(typeCount: number): string {
  const types = Array.from({ length: typeCount }, (_, i) => `@t${i}`).join(', ');
  const free = `(SELECT l.task_type, l.max_running - (SELECT COUNT(*) FROM tasks r WHERE r.status = 'running' AND r.task_type = l.task_type) AS free
                  FROM task_type_limits l WHERE l.task_type IN (${types}))`;
  return `
    UPDATE tasks
       SET status = 'running', current_attempt = current_attempt + 1, worker_id = @workerId, started_at = @now,
           lease_expires_at = @leaseExpiresAt, updated_at = @now, progress = NULL
     WHERE id IN (
       SELECT ranked.id FROM (
         SELECT id, task_type, row_number() OVER (PARTITION BY task_type ORDER BY priority_rank, run_at, id) AS n FROM (
           SELECT id, task_type, priority_rank, run_at FROM tasks
            WHERE ${READY} AND run_at <= @now AND task_type IN (${types})
              AND task_type NOT IN (SELECT task_type FROM circuit_breakers WHERE state = 'open' AND reopens_at > @now
                                    UNION ALL SELECT task_type FROM task_type_pauses
                                    UNION ALL SELECT task_type FROM ${free} WHERE free <= 0)
            ORDER BY priority_rank, run_at, id
            LIMIT @limit)) AS ranked
       LEFT JOIN ${free} AS lim ON lim.task_type = ranked.task_type
       WHERE lim.free IS NULL OR ranked.n <= lim.free)
    RETURNING ${CLAIM_COLUMNS}`;
}

/** Whether tasks of these limited types wait, due, for a slot. */
export function typeLimitWaitingSql(typeCount: number): string {
  const types = Array.from({ length: typeCount }, (_, i) => `@t${i}`).join(', ');
  return `SELECT EXISTS (SELECT 1 FROM tasks WHERE ${READY} AND run_at <= @now AND task_type IN (${types})) AS waiting`;
}

export const TASK_HEARTBEAT = `
  UPDATE tasks SET lease_expires_at = @leaseExpiresAt
   WHERE ${FENCE}
  RETURNING cancel_requested_at`;

/** A lease still held, and whether its task was asked to cancel; nothing is changed. */
export const TASK_HELD = `SELECT cancel_requested_at FROM tasks WHERE ${FENCE}`;

/** Appends nothing to `attempts`: the row's own columns are that attempt's record (see attemptHistory). */
export const TASK_COMPLETE = `
  UPDATE tasks
     SET status = 'completed', output = @output, completed_at = @now, updated_at = @now, lease_expires_at = NULL
   WHERE ${FENCE}`;

/** The facts decideFail needs (core/lifecycle.ts), read under the lease's fence. */
export const TASK_FENCED_READ = `SELECT retry_strategy, max_attempts, cancel_requested_at IS NOT NULL AS cancel_requested FROM tasks WHERE ${FENCE}`;

/** A failed attempt's decided retry, fenced by the lease and by no cancel request (as read). */
export const TASK_FAIL_RETRY = `
  UPDATE tasks
     SET status = 'retrying', run_at = @runAt, last_error = @error, updated_at = @now, lease_expires_at = NULL, worker_id = NULL,
         attempts = ${appendAttempt(`'failed'`, '@error')}
   WHERE ${FENCE} AND cancel_requested_at IS NULL`;

/** Ends the task for good, as decided: dead letter (`failed`) or `cancelled`; fenced by the cancel request as read. */
export const TASK_FAIL_FINAL = `
  UPDATE tasks
     SET status = @status, last_error = @error, completed_at = @now, updated_at = @now, lease_expires_at = NULL,
         attempts = ${appendAttempt('@status', '@error')}
   WHERE ${FENCE} AND (cancel_requested_at IS NOT NULL) = @cancelRequested`;

export const TASK_CANCEL_RUNNING = `
  UPDATE tasks
     SET status = 'cancelled', completed_at = @now, updated_at = @now, lease_expires_at = NULL,
         attempts = ${appendAttempt(`'cancelled'`, '@reason')}
   WHERE ${FENCE}`;

/**
 * A running task handed back unspent, as decideRelease decided: its attempt number is given back.
 * Fenced by the lease and by whether cancellation was requested, which the decision assumed.
 */
export const TASK_RELEASE = `
  UPDATE tasks
     SET status = @status, run_at = @runAt, completed_at = @completedAt, current_attempt = current_attempt - 1, updated_at = @now,
         worker_id = NULL, lease_expires_at = NULL, started_at = NULL,
         attempts = ${appendAttempt('@attemptOutcome', 'NULL')}
   WHERE ${FENCE} AND (cancel_requested_at IS NOT NULL) = @cancelRequested
  RETURNING task_type`;

/**
 * A task claimed but never started (a worker's prefetch), as decideUnclaim decided: the attempt number
 * is given back, no attempt is recorded, run_at is kept (its place in line). Fenced like TASK_RELEASE.
 */
export const TASK_UNCLAIM = `
  UPDATE tasks
     SET status = @status, completed_at = @completedAt, current_attempt = current_attempt - 1, updated_at = @now,
         worker_id = NULL, lease_expires_at = NULL, started_at = NULL
   WHERE ${FENCE} AND (cancel_requested_at IS NOT NULL) = @cancelRequested
  RETURNING task_type`;

/**
 * When the next waiting task of these types comes due after @now: one probe of the ready index per
 * priority, each stopping at its first match.
 */
export function taskNextDueSql(typeCount: number): string {
  const types = Array.from({ length: typeCount }, (_, i) => `@t${i}`).join(', ');
  const probe = (rank: number) =>
    `SELECT (SELECT run_at FROM tasks WHERE ${READY} AND priority_rank = ${rank} AND run_at > @now AND task_type IN (${types}) ORDER BY priority_rank, run_at, id LIMIT 1) AS next`;
  return `SELECT MIN(next) AS next FROM (${[0, 1, 2, 3].map(probe).join(' UNION ALL ')})`;
}

export const TASK_PROGRESS = `UPDATE tasks SET progress = @progress, updated_at = @now WHERE ${FENCE}`;

export const TASK_CANCEL_READY = `
  UPDATE tasks SET status = 'cancelled', completed_at = @now, updated_at = @now
   WHERE id = @id AND ${READY}
  RETURNING *`;

export const TASK_REQUEST_CANCEL = `
  UPDATE tasks SET cancel_requested_at = COALESCE(cancel_requested_at, @now), updated_at = @now
   WHERE id = @id AND status = 'running'
  RETURNING *`;

/** Attempt numbers never go backwards (they fence workers): a spent task gets one more attempt. */
export const TASK_RETRY = `
  UPDATE tasks
     SET status = 'pending', run_at = @now, updated_at = @now, cancel_requested_at = NULL, completed_at = NULL,
         worker_id = NULL, lease_expires_at = NULL, rescue_count = 0,
         max_attempts = CASE WHEN current_attempt >= max_attempts THEN current_attempt + 1 ELSE max_attempts END,
         retry_strategy = json_set(retry_strategy, '$.max_attempts',
           CASE WHEN current_attempt >= max_attempts THEN current_attempt + 1 ELSE max_attempts END)
   WHERE id = @id AND status IN ('failed', 'cancelled')
  RETURNING *`;

export const TASK_DELETE = `DELETE FROM tasks WHERE id = ? AND ${FINISHED}`;

/** The expired leases and the facts decideRescue needs. */
export const TASK_EXPIRED = `
  SELECT id, worker_id, rescue_count, current_attempt, max_attempts, cancel_requested_at IS NOT NULL AS cancel_requested FROM tasks
   WHERE status = 'running' AND lease_expires_at < @now
   ORDER BY lease_expires_at
   LIMIT @limit`;

/**
 * One decided rescue, fenced by what the decision read: still running and expired (a task that
 * finished or was renewed since is left alone), the same rescue count, the same cancel request.
 */
export const TASK_RESCUE = `
  UPDATE tasks
     SET status = @status, rescue_count = rescue_count + 1, last_error = @error, updated_at = @now, lease_expires_at = NULL,
         run_at = CASE WHEN @status = 'retrying' THEN @now ELSE run_at END,
         completed_at = CASE WHEN @status = 'retrying' THEN NULL ELSE @now END,
         worker_id = CASE WHEN @status = 'retrying' THEN NULL ELSE worker_id END,
         attempts = ${appendAttempt(`'lease_expired'`, '@error')}
   WHERE id = @id AND status = 'running' AND lease_expires_at < @now
     AND rescue_count = @rescueCount AND (cancel_requested_at IS NOT NULL) = @cancelRequested
  RETURNING task_type`;

export const TASK_PRUNE = `
  DELETE FROM tasks WHERE id IN (
    SELECT id FROM tasks WHERE ${FINISHED} AND completed_at < @before ORDER BY completed_at LIMIT @limit)`;

export const STATS_COUNTS = `
  SELECT task_type, priority_rank, status, COUNT(*) AS n FROM tasks
   WHERE (@createdBy IS NULL OR created_by = @createdBy)
   GROUP BY task_type, priority_rank, status`;

export const STATS_OLDEST_READY = `
  SELECT MIN(run_at) AS oldest FROM tasks
   WHERE ${READY} AND run_at <= @now AND (@createdBy IS NULL OR created_by = @createdBy)
     AND task_type NOT IN (SELECT task_type FROM task_type_pauses)`;

export const STATS_RECENT = `
  SELECT COALESCE(SUM(status = 'completed' AND completed_at >= @minuteAgo), 0) AS completed_minute,
         COALESCE(SUM(status = 'completed'), 0) AS completed_hour,
         COALESCE(SUM(status = 'failed' AND completed_at >= @minuteAgo), 0) AS failed_minute,
         COALESCE(SUM(status = 'failed'), 0) AS failed_hour
    FROM tasks
   WHERE ${FINISHED} AND completed_at >= @hourAgo
     AND (@createdBy IS NULL OR created_by = @createdBy)`;

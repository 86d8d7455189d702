import { createHash } from 'node:crypto';
import { FINISHED_STATUSES, READY_STATUSES } from '../../core/task.ts';
import { scheduleStatements } from './schedule-sql.ts';

/** A prepared statement: pg parses and plans it once per connection, then only sends the values. */
export interface Statement {
  name: string;
  text: string;
}

/** Every column of `tasks`, named rather than `*` so that a later migration adding a column cannot break a prepared plan. */
export const TASK_COLUMN_NAMES = [
  'id', 'task_type', 'payload', 'status', 'priority_rank', 'retry_strategy', 'max_attempts', 'current_attempt', 'last_error',
  'output', 'metadata', 'idempotency_key', 'created_by', 'created_at', 'updated_at', 'scheduled_at', 'run_at', 'started_at',
  'completed_at', 'worker_id', 'lease_expires_at', 'cancel_requested_at', 'rescue_count', 'progress', 'attempts',
] as const;

/**
 * What a claim reads back: the columns of a ClaimedTask, nothing more. Every jsonb and timestamp
 * not sent is one less for PostgreSQL to print and the worker to parse, hundreds of times per claim.
 */
export const CLAIM_COLUMN_NAMES = [
  'id', 'task_type', 'payload', 'priority_rank', 'run_at', 'current_attempt', 'max_attempts', 'metadata', 'idempotency_key', 'created_by', 'created_at',
] as const;

const BREAKER_COLUMNS = 'task_type, state, consecutive_failures, consecutive_successes, opened_at, reopens_at, updated_at';
const USER_COLUMNS = 'id, username, email, password_hash, role, is_active, created_at, updated_at, last_login_at';
const SESSION_COLUMNS = 'token_hash, user_id, created_at, expires_at, last_refreshed_at, user_agent';
const TYPE_COLUMNS = 'name, description, payload_schema, examples, timeout_ms, created_at, updated_at, last_seen_at';
const WORKER_COLUMNS = 'id, host, pid, concurrency, running, task_types, started_at, last_heartbeat_at';

/** `columns` qualified by `table` and renamed with `prefix`: 'a, b' → 'u.a AS u_a, u.b AS u_b'. */
const prefixed = (table: string, prefix: string, columns: string) =>
  columns
    .split(', ')
    .map((column) => `${table}${column}${prefix ? ` AS ${prefix}${column}` : ''}`)
    .join(', ');
const list = (values: readonly string[]) => values.map((value) => `'${value}'`).join(', ');
const READY = list(READY_STATUSES);
const FINISHED = list(FINISHED_STATUSES);

/** Quotes an identifier for SQL text (schema names are checked before they get here, but quote anyway). */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes a string literal for SQL text. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * The NOTIFY channel of a schema. Channel names are identifiers, so at most 63 bytes: a long schema
 * name is shortened with a hash so that two long names still get different channels.
 */
export function insertChannel(schema: string): string {
  const channel = `conveyor_insert_${schema}`;
  if (channel.length <= 63) return channel;
  const hash = createHash('sha256').update(schema).digest('hex').slice(0, 12);
  return `${channel.slice(0, 50)}_${hash}`;
}

/** A timestamptz as ISO 8601 UTC text with milliseconds, the form JavaScript's Date writes, for JSON. */
const iso = (expression: string) => `to_char((${expression}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** `attempts || [entry]` for the attempt ending now; `t` qualifies columns where a FROM makes them ambiguous. */
function appendAttempt(outcome: string, error: string, finishedAt: string, t = ''): string {
  return `${t}attempts || jsonb_build_array(jsonb_build_object('attempt', ${t}current_attempt, 'worker_id', ${t}worker_id, 'started_at', ${iso(`${t}started_at`)}, 'finished_at', ${iso(finishedAt)}, 'outcome', ${outcome}, 'error', ${error}))`;
}

/**
 * A WHERE condition that is always true and, for each row where `wake` (decided by the lifecycle's
 * wakesWorkers) is true, sends the insert notification with the row's task type: tasks due again wake
 * idle workers as an insert does. (pg_notify returns void, which is never NULL.) Identical
 * notifications in one transaction are sent once.
 */
function notifyIf(wake: string, channel: string): string {
  return `(NOT ${wake} OR pg_notify(${channel}, task_type) IS NOT NULL)`;
}

/** The first half of a limited type's advisory-lock key: one number per schema, so schemas do not wait for each other. */
function limitLockSpace(schema: string): number {
  return createHash('sha256').update(`conveyor:limits:${schema}`).digest().readInt32BE(0);
}

/** The lease fence: a change to a running task applies only to the attempt and worker that hold it. */
const FENCE = `id = $1::uuid AND status = 'running' AND current_attempt = $2::int AND worker_id = $3::text`;

/**
 * All SQL of the engine for one schema. Tables are always schema-qualified, never found through
 * search_path: `tx` inserts run on the application's own connection, whose search_path is its own.
 */
export function postgresSql(schema: string) {
  const s = quoteIdentifier(schema);
  const name = (suffix: string) => `conveyor_${schema}_${suffix}`;
  const statement = (suffix: string, text: string): Statement => ({ name: name(suffix), text: text.replace(/\s+/g, ' ').trim() });
  const taskColumns = TASK_COLUMN_NAMES.join(', ');
  const insertColumns = 'id, task_type, payload, status, priority_rank, retry_strategy, max_attempts, metadata, idempotency_key, created_by, created_at, updated_at, scheduled_at, run_at';
  const onIdempotencyConflict = 'ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING';
  const channel = quoteLiteral(insertChannel(schema));
  // A batch travels as one compact JSON array of arrays (see insertBatch in the engine): one
  // parameter to encode and parse, instead of thirteen text arrays whose every element pg must quote
  // and PostgreSQL unquote. What most rows share is sent once: $2 the batch's creation time, $3 the
  // default retry strategy; a row's null stands for them (and for empty metadata, and run_at =
  // created_at). Positions: 0 id, 1 type, 2 payload, 3 status, 4 priority rank, 5 strategy,
  // 6 max attempts, 7 metadata, 8 idempotency key, 9 created by, 10 created at, 11 scheduled at, 12 run at.
  const insertFromJson = `
      SELECT (r->>0)::uuid, r->>1, r->2, r->>3, (r->>4)::smallint, coalesce(nullif(r->5, 'null'::jsonb), $3::jsonb), (r->>6)::int,
        coalesce(nullif(r->7, 'null'::jsonb), '{}'::jsonb), r->>8, (r->>9)::uuid, c.created_at, c.created_at, (r->>11)::timestamptz,
        coalesce((r->>12)::timestamptz, (r->>11)::timestamptz, c.created_at)
      FROM jsonb_array_elements($1::jsonb) AS r
      CROSS JOIN LATERAL (SELECT coalesce((r->>10)::timestamptz, $2::timestamptz) AS created_at) AS c`;
  const insertOneValues = `VALUES ($1::uuid, $2::text, $3::jsonb, $4::text, $5::smallint, $6::jsonb, $7::int, $8::jsonb, $9::text, $10::uuid, $11::timestamptz, $11::timestamptz, $12::timestamptz, $13::timestamptz)`;

  return {
    schema: s,
    taskColumns,

    // --- producers ---------------------------------------------------------------------------
    // With idempotency keys: a key already taken skips its row, and RETURNING says which were written.
    taskInsertOne: statement('task_insert_one', `INSERT INTO ${s}.tasks (${insertColumns}) ${insertOneValues} ${onIdempotencyConflict} RETURNING id`),
    taskInsertMany: statement('task_insert_many', `INSERT INTO ${s}.tasks (${insertColumns}) ${insertFromJson} ${onIdempotencyConflict} RETURNING id`),
    // Without keys nothing can be skipped (a duplicate id is an error), so every row is written and
    // neither the conflict check (a speculative insertion per row) nor RETURNING is needed.
    taskInsertOnePlain: statement('task_insert_one_plain', `INSERT INTO ${s}.tasks (${insertColumns}) ${insertOneValues}`),
    taskInsertManyPlain: statement('task_insert_many_plain', `INSERT INTO ${s}.tasks (${insertColumns}) ${insertFromJson}`),
    taskGetByKeys: statement('task_get_by_keys', `SELECT ${taskColumns} FROM ${s}.tasks WHERE idempotency_key = ANY($1::text[])`),

    // --- workers -----------------------------------------------------------------------------
    // One statement: pick in index order, skip rows other claimers hold, take them. The index
    // tasks_ready_idx has exactly this predicate and order, so the scan stops after LIMIT rows. The
    // open breakers and paused types are read once per claim (an init plan), not once per candidate row.
    // A claim commits without waiting for its WAL to reach disk (synchronous_commit off for this
    // statement's own transaction only, also an init plan): a claim lost in a database crash leaves
    // its task ready, to run again, which is what a worker crash does too. Inserts, completions and
    // failures stay durable. It takes a disk flush off the path from insert to start.
    taskClaim: statement('task_claim', `
      WITH picked AS (
        SELECT id FROM ${s}.tasks
        WHERE status IN (${READY}) AND run_at <= $1::timestamptz AND task_type = ANY($2::text[])
          AND task_type <> ALL(ARRAY(
            SELECT task_type FROM ${s}.circuit_breakers WHERE state = 'open' AND reopens_at > $1::timestamptz
            UNION ALL SELECT task_type FROM ${s}.task_type_pauses))
          AND (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL
        ORDER BY priority_rank, run_at, id
        LIMIT $3::int
        FOR UPDATE SKIP LOCKED)
      UPDATE ${s}.tasks t
      SET status = 'running', current_attempt = t.current_attempt + 1, worker_id = $4::text, started_at = $1::timestamptz,
          lease_expires_at = $5::timestamptz, updated_at = $1::timestamptz, progress = NULL
      FROM picked WHERE t.id = picked.id
      RETURNING ${CLAIM_COLUMN_NAMES.map((column) => `t.${column}`).join(', ')}`),
    // The claim when some of the types have a concurrency limit, run in a transaction that first tried
    // each limited type's advisory lock (typeLimitLock): a type whose lock another claimer holds is
    // left out ($6), so no two claimers count the same type at once and none waits for another.
    // Types at their limit are left out too, and a limited type gets at most its free slots (claimed
    // tasks count as running). $1-$5 as for taskClaim.
    taskClaimLimited: statement('task_claim_limited', `
      WITH lim AS (
        SELECT l.task_type, l.max_running - (SELECT count(*) FROM ${s}.tasks r WHERE r.status = 'running' AND r.task_type = l.task_type) AS free
        FROM ${s}.task_type_limits l WHERE l.task_type = ANY($2::text[])),
      candidates AS (
        SELECT id, task_type, priority_rank, run_at FROM ${s}.tasks
        WHERE status IN (${READY}) AND run_at <= $1::timestamptz AND task_type = ANY($2::text[]) AND task_type <> ALL($6::text[])
          AND task_type <> ALL(ARRAY(
            SELECT task_type FROM ${s}.circuit_breakers WHERE state = 'open' AND reopens_at > $1::timestamptz
            UNION ALL SELECT task_type FROM ${s}.task_type_pauses
            UNION ALL SELECT task_type FROM lim WHERE free <= 0))
          AND (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL
        ORDER BY priority_rank, run_at, id
        LIMIT $3::int
        FOR UPDATE SKIP LOCKED),
      picked AS (
        SELECT c.id FROM (
          SELECT id, task_type, row_number() OVER (PARTITION BY task_type ORDER BY priority_rank, run_at, id) AS n FROM candidates) c
        LEFT JOIN lim ON lim.task_type = c.task_type
        WHERE lim.free IS NULL OR c.n <= lim.free)
      UPDATE ${s}.tasks t
      SET status = 'running', current_attempt = t.current_attempt + 1, worker_id = $4::text, started_at = $1::timestamptz,
          lease_expires_at = $5::timestamptz, updated_at = $1::timestamptz, progress = NULL
      FROM picked WHERE t.id = picked.id
      RETURNING ${CLAIM_COLUMN_NAMES.map((column) => `t.${column}`).join(', ')}`),
    // Tries each limited type's lock, held to the end of the claim's transaction; answers the types
    // another claimer holds. $1 the types.
    typeLimitLock: statement('type_limit_lock', `
      SELECT array_agg(t) FILTER (WHERE NOT pg_try_advisory_xact_lock(${limitLockSpace(schema)}, hashtext(t))) AS busy
      FROM unnest($1::text[]) AS t`),
    // Whether tasks of these limited types wait, due, for a slot. $1 now, $2 types.
    typeLimitWaiting: statement('type_limit_waiting', `
      SELECT EXISTS (SELECT 1 FROM ${s}.tasks WHERE status IN (${READY}) AND run_at <= $1::timestamptz AND task_type = ANY($2::text[])) AS waiting`),
    // After a claim found nothing: when the next waiting task of these types comes due (a schedule
    // or a retry), so that an idle worker wakes then instead of polling. One probe of the ready index
    // per priority, each stopping at its first match.
    taskNextDueAt: statement('task_next_due_at', `
      SELECT min(next.run_at) AS next_due_at FROM unnest('{0,1,2,3}'::smallint[]) AS p(rank)
      CROSS JOIN LATERAL (
        SELECT run_at FROM ${s}.tasks
        WHERE status IN (${READY}) AND priority_rank = p.rank AND run_at > $1::timestamptz AND task_type = ANY($2::text[])
        ORDER BY priority_rank, run_at, id LIMIT 1) AS next`),
    // $1/$2 the leases to extend to $4, $5/$6 leases only to look at; both fenced by worker $3.
    taskHeartbeat: statement('task_heartbeat', `
      WITH renewed AS (
        UPDATE ${s}.tasks t SET lease_expires_at = $4::timestamptz
        FROM unnest($1::uuid[], $2::int[]) AS l(id, attempt)
        WHERE t.id = l.id AND t.current_attempt = l.attempt AND t.status = 'running' AND t.worker_id = $3::text
        RETURNING t.id, t.cancel_requested_at IS NOT NULL AS cancel_requested)
      SELECT id, cancel_requested, true AS renewed FROM renewed
      UNION ALL
      SELECT t.id, t.cancel_requested_at IS NOT NULL, false FROM ${s}.tasks t
      JOIN unnest($5::uuid[], $6::int[]) AS c(id, attempt) ON t.id = c.id AND t.current_attempt = c.attempt
      WHERE t.status = 'running' AND t.worker_id = $3::text`),
    // A completion appends nothing to `attempts`: the row's own columns are that attempt's record
    // (see attemptHistory), which spares the hot path building and writing a JSON entry per task.
    taskComplete: statement('task_complete', `
      UPDATE ${s}.tasks
      SET status = 'completed', output = $4::jsonb, completed_at = $5::timestamptz, updated_at = $5::timestamptz, lease_expires_at = NULL
      WHERE ${FENCE}`),
    // Completions that arrive together (see GroupCommit) go as one statement; the fence is per row.
    // $3 and $4 may be shorter than $1 (unnest pads them with NULL): one worker id for every row,
    // no outputs when all are null. $5 is epoch milliseconds, cheaper to send and read than text.
    taskCompleteMany: statement('task_complete_many', `
      UPDATE ${s}.tasks t
      SET status = 'completed', output = c.output, completed_at = c.finished_at, updated_at = c.finished_at, lease_expires_at = NULL
      FROM (
        SELECT id, attempt, coalesce(worker_id, ($3::text[])[1]) AS worker_id, output, 'epoch'::timestamptz + finished_ms * interval '1 millisecond' AS finished_at
        FROM unnest($1::uuid[], $2::int[], $3::text[], $4::jsonb[], $5::bigint[]) AS u(id, attempt, worker_id, output, finished_ms)) AS c
      WHERE t.id = c.id AND t.status = 'running' AND t.current_attempt = c.attempt AND t.worker_id = c.worker_id
      RETURNING t.id`),
    // The facts decideFail needs (core/lifecycle.ts), read under the lease's fence.
    taskFailRead: statement('task_fail_read', `SELECT retry_strategy, max_attempts, cancel_requested_at IS NOT NULL AS cancel_requested FROM ${s}.tasks WHERE ${FENCE}`),
    // The decided outcomes of a failed attempt, fenced by the lease and by the cancel request as it was
    // read: one that arrived since fails the fence, and the engine reads and decides again.
    // $4 now, $5 when it runs again, $6 the error.
    taskFailRetry: statement('task_fail_retry', `
      UPDATE ${s}.tasks
      SET status = 'retrying', run_at = $5::timestamptz, worker_id = NULL, lease_expires_at = NULL, last_error = $6::text, updated_at = $4::timestamptz,
          attempts = ${appendAttempt(`'failed'`, '$6::text', '$4::timestamptz')}
      WHERE ${FENCE} AND cancel_requested_at IS NULL`),
    // $4 now, $5 'failed' (dead letter) or 'cancelled', $6 the error, $7 whether cancellation was requested.
    taskFailFinal: statement('task_fail_final', `
      UPDATE ${s}.tasks
      SET status = $5::text, completed_at = $4::timestamptz, lease_expires_at = NULL, last_error = $6::text, updated_at = $4::timestamptz,
          attempts = ${appendAttempt('$5::text', '$6::text', '$4::timestamptz')}
      WHERE ${FENCE} AND (cancel_requested_at IS NOT NULL) = $7::boolean`),
    taskCancelRunning: statement('task_cancel_running', `
      UPDATE ${s}.tasks
      SET status = 'cancelled', completed_at = $4::timestamptz, updated_at = $4::timestamptz, lease_expires_at = NULL,
          attempts = ${appendAttempt(`'cancelled'`, '$5::text', '$4::timestamptz')}
      WHERE ${FENCE}`),
    // A running task handed back unspent, as decideRelease decided: its attempt number is given back.
    // Fenced by the lease and by whether cancellation was requested ($9), which the decision assumed.
    // $4 now, $5 status, $6 run_at, $7 completed_at, $8 the attempt's outcome, $10 whether it wakes idle workers.
    taskRelease: statement('task_release', `
      WITH released AS (
        UPDATE ${s}.tasks
        SET status = $5::text, run_at = $6::timestamptz, completed_at = $7::timestamptz, current_attempt = current_attempt - 1,
            updated_at = $4::timestamptz, worker_id = NULL, lease_expires_at = NULL, started_at = NULL,
            attempts = ${appendAttempt('$8::text', 'NULL', '$4::timestamptz')}
        WHERE ${FENCE} AND (cancel_requested_at IS NOT NULL) = $9::boolean
        RETURNING task_type)
      SELECT task_type FROM released WHERE ${notifyIf('$10::boolean', channel)}`),
    // Tasks claimed but never started (a worker's prefetch), as decideUnclaim decided per row: the
    // attempt number is given back, no attempt is recorded, run_at is kept (their place in line).
    // $1 ids, $2 attempts, $3 decided statuses, $4 whether each wakes idle workers, $5 worker, $6 now,
    // $7 whether cancellation was requested (the decision's assumption, part of the fence).
    taskUnclaim: statement('task_unclaim', `
      WITH handed AS (
        UPDATE ${s}.tasks t
        SET status = l.status, completed_at = CASE WHEN l.status = 'cancelled' THEN $6::timestamptz END,
            current_attempt = t.current_attempt - 1, updated_at = $6::timestamptz,
            worker_id = NULL, lease_expires_at = NULL, started_at = NULL
        FROM unnest($1::uuid[], $2::int[], $3::text[], $4::boolean[]) AS l(id, attempt, status, wake)
        WHERE t.id = l.id AND t.current_attempt = l.attempt AND t.status = 'running' AND t.worker_id = $5::text
          AND (t.cancel_requested_at IS NOT NULL) = $7::boolean
        RETURNING t.id, t.task_type, t.status, l.wake)
      SELECT id, status FROM handed WHERE ${notifyIf('wake', channel)}`),
    taskProgress: statement('task_progress', `UPDATE ${s}.tasks SET progress = $4::jsonb, updated_at = $5::timestamptz WHERE ${FENCE}`),

    // --- operators ---------------------------------------------------------------------------
    taskGet: statement('task_get', `SELECT ${taskColumns} FROM ${s}.tasks WHERE id = $1::uuid`),
    taskStatus: statement('task_status', `SELECT status FROM ${s}.tasks WHERE id = $1::uuid`),
    // One conditional statement, so a claim or a finish racing with it is decided by the row lock:
    // waiting tasks end at once, a running one is asked to stop.
    taskCancel: statement('task_cancel', `
      UPDATE ${s}.tasks
      SET status = CASE WHEN status = 'running' THEN status ELSE 'cancelled' END,
          completed_at = CASE WHEN status = 'running' THEN completed_at ELSE $2::timestamptz END,
          cancel_requested_at = CASE WHEN status = 'running' THEN coalesce(cancel_requested_at, $2::timestamptz) ELSE cancel_requested_at END,
          updated_at = $2::timestamptz
      WHERE id = $1::uuid AND status IN (${READY}, 'running')
      RETURNING ${taskColumns}`),
    // Attempt numbers fence workers, so they never go back: a task whose attempts are spent gets one more.
    // $3 whether it wakes idle workers (wakesWorkers: it is due at once).
    taskRetry: statement('task_retry', `
      WITH retried AS (
        UPDATE ${s}.tasks
        SET status = 'pending', run_at = $2::timestamptz, updated_at = $2::timestamptz, cancel_requested_at = NULL, completed_at = NULL,
            worker_id = NULL, lease_expires_at = NULL, rescue_count = 0,
            max_attempts = CASE WHEN current_attempt >= max_attempts THEN current_attempt + 1 ELSE max_attempts END,
            retry_strategy = jsonb_set(retry_strategy, '{max_attempts}', to_jsonb(CASE WHEN current_attempt >= max_attempts THEN current_attempt + 1 ELSE max_attempts END))
        WHERE id = $1::uuid AND status IN ('failed', 'cancelled')
        RETURNING ${taskColumns})
      SELECT ${taskColumns} FROM retried WHERE ${notifyIf('$3::boolean', channel)}`),
    taskDelete: statement('task_delete', `DELETE FROM ${s}.tasks WHERE id = $1::uuid AND status IN (${FINISHED}) RETURNING id`),
    taskStatsCounts: (ownerFilter: boolean) =>
      statement(`task_stats_counts${ownerFilter ? '_owner' : ''}`, `
        SELECT task_type, priority_rank, status, count(*) AS count FROM ${s}.tasks
        ${ownerFilter ? 'WHERE created_by = $1::uuid' : ''}
        GROUP BY task_type, priority_rank, status`),
    // $1 now, $2 a minute ago, $3 an hour ago. Each part reads a partial index.
    taskStatsTimes: (ownerFilter: boolean) => {
      const owner = ownerFilter ? 'AND created_by = $4::uuid' : '';
      const recent = (status: string, since: string) =>
        `(SELECT count(*) FROM ${s}.tasks WHERE status IN (${FINISHED}) AND status = '${status}' AND completed_at >= ${since} ${owner})`;
      return statement(`task_stats_times${ownerFilter ? '_owner' : ''}`, `
        SELECT (SELECT min(run_at) FROM ${s}.tasks WHERE status IN (${READY}) AND run_at <= $1::timestamptz ${owner}
                  AND task_type NOT IN (SELECT task_type FROM ${s}.task_type_pauses)) AS oldest_ready,
          ${recent('completed', '$2::timestamptz')} AS completed_minute, ${recent('completed', '$3::timestamptz')} AS completed_hour,
          ${recent('failed', '$2::timestamptz')} AS failed_minute, ${recent('failed', '$3::timestamptz')} AS failed_hour`);
    },

    // --- maintenance ---------------------------------------------------------------------------
    // The expired leases and the facts decideRescue needs. $1 now, $2 limit.
    taskExpired: statement('task_expired', `
      SELECT id, worker_id, rescue_count, current_attempt, max_attempts, cancel_requested_at IS NOT NULL AS cancel_requested
      FROM ${s}.tasks WHERE status = 'running' AND lease_expires_at < $1::timestamptz
      ORDER BY lease_expires_at LIMIT $2::int`),
    // The decided rescues, one row each, fenced by what the decision read: still running and expired
    // (a task completed or renewed meanwhile is left alone, the bug of River #1302), the same rescue
    // count (two rescuers never both count it) and the same cancel request. $1 now, then per row:
    // $2 ids, $3 rescue counts read, $4 cancel requested, $5 statuses, $6 messages, $7 wakes.
    taskRescue: statement('task_rescue', `
      WITH rescued AS (
        UPDATE ${s}.tasks t
        SET status = d.status, rescue_count = t.rescue_count + 1, last_error = d.message, lease_expires_at = NULL, updated_at = $1::timestamptz,
            run_at = CASE WHEN d.status = 'retrying' THEN $1::timestamptz ELSE t.run_at END,
            completed_at = CASE WHEN d.status = 'retrying' THEN NULL ELSE $1::timestamptz END,
            worker_id = CASE WHEN d.status = 'retrying' THEN NULL ELSE t.worker_id END,
            attempts = ${appendAttempt(`'lease_expired'`, 'd.message', '$1::timestamptz', 't.')}
        FROM unnest($2::uuid[], $3::int[], $4::boolean[], $5::text[], $6::text[], $7::boolean[]) AS d(id, rescue_count, cancel_requested, status, message, wake)
        WHERE t.id = d.id AND t.status = 'running' AND t.lease_expires_at < $1::timestamptz
          AND t.rescue_count = d.rescue_count AND (t.cancel_requested_at IS NOT NULL) = d.cancel_requested
        RETURNING t.id, t.status, t.task_type, d.wake)
      SELECT id, status FROM rescued WHERE ${notifyIf('wake', channel)}`),
    taskPrune: statement('task_prune', `
      DELETE FROM ${s}.tasks WHERE id IN (
        SELECT id FROM ${s}.tasks WHERE status IN (${FINISHED}) AND completed_at < $1::timestamptz
        ORDER BY completed_at LIMIT $2::int FOR UPDATE SKIP LOCKED)
      AND status IN (${FINISHED})`),
    leaderAttemptElect: statement('leader_attempt_elect', `
      INSERT INTO ${s}.leaders (name, leader_id, expires_at) VALUES ($1::text, $2::text, $3::timestamptz)
      ON CONFLICT (name) DO UPDATE SET leader_id = EXCLUDED.leader_id, expires_at = EXCLUDED.expires_at
      WHERE leaders.expires_at <= $4::timestamptz OR leaders.leader_id = EXCLUDED.leader_id
      RETURNING leader_id`),
    leaderResign: statement('leader_resign', `DELETE FROM ${s}.leaders WHERE name = $1::text AND leader_id = $2::text`),

    // --- circuit breakers ----------------------------------------------------------------------
    breakerGet: statement('breaker_get', `SELECT ${BREAKER_COLUMNS} FROM ${s}.circuit_breakers WHERE task_type = $1::text`),
    breakerLock: statement('breaker_lock', `SELECT ${BREAKER_COLUMNS} FROM ${s}.circuit_breakers WHERE task_type = $1::text FOR UPDATE`),
    breakerCreate: statement('breaker_create', `
      INSERT INTO ${s}.circuit_breakers (task_type, state, updated_at) VALUES ($1::text, 'closed', $2::timestamptz)
      ON CONFLICT (task_type) DO NOTHING`),
    breakerSave: statement('breaker_save', `
      UPDATE ${s}.circuit_breakers
      SET state = $2::text, consecutive_failures = $3::int, consecutive_successes = $4::int, opened_at = $5::timestamptz,
          reopens_at = $6::timestamptz, updated_at = $7::timestamptz
      WHERE task_type = $1::text`),
    breakerReset: statement('breaker_reset', `
      INSERT INTO ${s}.circuit_breakers (task_type, state, updated_at) VALUES ($1::text, 'closed', $2::timestamptz)
      ON CONFLICT (task_type) DO UPDATE SET state = 'closed', consecutive_failures = 0, consecutive_successes = 0, reopens_at = NULL, updated_at = EXCLUDED.updated_at
      RETURNING ${BREAKER_COLUMNS}`),
    breakerList: statement('breaker_list', `SELECT ${BREAKER_COLUMNS} FROM ${s}.circuit_breakers ORDER BY task_type`),

    // --- storage health ------------------------------------------------------------------------
    storageTables: statement('storage_tables', `
      SELECT schemaname || '.' || relname AS name, n_live_tup AS live_rows, n_dead_tup AS dead_rows, greatest(last_vacuum, last_autovacuum) AS last_vacuum_at
      FROM pg_stat_user_tables WHERE schemaname = ${quoteLiteral(schema)} ORDER BY relname`),
    // Another session's open transaction holds back the cleanup of every row that died since it
    // began, in every table (the "xmin horizon"). $1 now.
    storageOldestTransaction: statement('storage_oldest_transaction', `
      SELECT pid, application_name, state, extract(epoch FROM ($1::timestamptz - xact_start)) * 1000 AS age_ms
      FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL AND backend_type = 'client backend'
      ORDER BY xact_start LIMIT 1`),

    // --- paused task types ---------------------------------------------------------------------
    // Pausing again keeps when and by whom it was first paused; the reason may change.
    typePause: statement('type_pause', `
      INSERT INTO ${s}.task_type_pauses (task_type, paused_at, paused_by, reason) VALUES ($1::text, $2::timestamptz, $3::uuid, $4::text)
      ON CONFLICT (task_type) DO UPDATE SET reason = coalesce(EXCLUDED.reason, task_type_pauses.reason)
      RETURNING task_type, paused_at, paused_by, reason`),
    // Resuming wakes idle workers of the type, as an insert does: its waiting tasks are due.
    typeResume: statement('type_resume', `
      WITH resumed AS (DELETE FROM ${s}.task_type_pauses WHERE task_type = $1::text RETURNING task_type)
      SELECT task_type FROM resumed WHERE pg_notify(${channel}, task_type) IS NOT NULL`),
    typePauseList: statement('type_pause_list', `SELECT task_type, paused_at, paused_by, reason FROM ${s}.task_type_pauses ORDER BY task_type`),

    // --- task types and workers ----------------------------------------------------------------
    // updated_at moves only when the definition changed; last_seen_at on every registration.
    typeRegister: statement('type_register', `
      INSERT INTO ${s}.task_types (${TYPE_COLUMNS})
      VALUES ($1::text, $2::text, $3::jsonb, $4::jsonb, $5::int, $6::timestamptz, $6::timestamptz, $6::timestamptz)
      ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description, payload_schema = EXCLUDED.payload_schema,
        examples = EXCLUDED.examples, timeout_ms = EXCLUDED.timeout_ms, last_seen_at = EXCLUDED.last_seen_at,
        updated_at = CASE
          WHEN (task_types.description, task_types.payload_schema, task_types.examples, task_types.timeout_ms)
               IS DISTINCT FROM (EXCLUDED.description, EXCLUDED.payload_schema, EXCLUDED.examples, EXCLUDED.timeout_ms)
          THEN EXCLUDED.updated_at ELSE task_types.updated_at END`),
    typeList: statement('type_list', `SELECT ${TYPE_COLUMNS} FROM ${s}.task_types ORDER BY name`),
    workerHeartbeat: statement('worker_heartbeat', `
      INSERT INTO ${s}.workers (${WORKER_COLUMNS})
      VALUES ($1::text, $2::text, $3::int, $4::int, $5::int, $6::jsonb, $7::timestamptz, $8::timestamptz)
      ON CONFLICT (id) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid, concurrency = EXCLUDED.concurrency,
        running = EXCLUDED.running, task_types = EXCLUDED.task_types, started_at = EXCLUDED.started_at,
        last_heartbeat_at = EXCLUDED.last_heartbeat_at`),
    workerList: statement('worker_list', `SELECT ${WORKER_COLUMNS} FROM ${s}.workers ORDER BY started_at, id`),
    workerRemove: statement('worker_remove', `DELETE FROM ${s}.workers WHERE id = $1::text`),

    // --- users and sessions --------------------------------------------------------------------
    userInsert: statement('user_insert', `
      INSERT INTO ${s}.users (id, username, email, password_hash, role, created_at, updated_at)
      VALUES ($1::uuid, $2::text, $3::text, $4::text, $5::text, $6::timestamptz, $6::timestamptz)
      RETURNING ${USER_COLUMNS}`),
    userGet: statement('user_get', `SELECT ${USER_COLUMNS} FROM ${s}.users WHERE id = $1::uuid`),
    // Matches the unique indexes on lower(username) and lower(email).
    userFind: statement('user_find', `
      SELECT ${USER_COLUMNS} FROM ${s}.users WHERE lower(username) = lower($1::text)
      UNION ALL
      SELECT ${USER_COLUMNS} FROM ${s}.users WHERE lower(email) = lower($1::text) AND lower(username) <> lower($1::text)
      LIMIT 1`),
    userList: statement('user_list', `SELECT ${USER_COLUMNS} FROM ${s}.users ORDER BY created_at, id LIMIT $1::int OFFSET $2::int`),
    userUpdate: statement('user_update', `
      UPDATE ${s}.users
      SET role = coalesce($2::text, role), is_active = coalesce($3::boolean, is_active), password_hash = coalesce($4::text, password_hash),
          last_login_at = CASE WHEN $5::boolean THEN $6::timestamptz ELSE last_login_at END, updated_at = $7::timestamptz
      WHERE id = $1::uuid
      RETURNING ${USER_COLUMNS}`),
    userCount: statement('user_count', `SELECT count(*) AS count FROM ${s}.users WHERE $1::text IS NULL OR role = $1::text`),
    sessionInsert: statement('session_insert', `
      INSERT INTO ${s}.sessions (${SESSION_COLUMNS}) VALUES ($1::text, $2::uuid, $3::timestamptz, $4::timestamptz, $5::timestamptz, $6::text)`),
    // The user's columns come prefixed (u_), as both tables have created_at.
    sessionGet: statement('session_get', `
      SELECT ${prefixed('s.', '', SESSION_COLUMNS)}, ${prefixed('u.', 'u_', USER_COLUMNS)}
      FROM ${s}.sessions s JOIN ${s}.users u ON u.id = s.user_id
      WHERE s.token_hash = $1::text AND s.expires_at > $2::timestamptz`),
    sessionUpdate: statement('session_update', `
      UPDATE ${s}.sessions SET expires_at = $2::timestamptz, last_refreshed_at = $3::timestamptz
      WHERE token_hash = $1::text AND expires_at > $3::timestamptz`),
    sessionDelete: statement('session_delete', `DELETE FROM ${s}.sessions WHERE token_hash = $1::text`),
    sessionDeleteForUser: statement('session_delete_for_user', `DELETE FROM ${s}.sessions WHERE user_id = $1::uuid`),
    sessionPruneExpired: statement('session_prune_expired', `DELETE FROM ${s}.sessions WHERE expires_at <= $1::timestamptz`),

    // --- concurrency limits ----------------------------------------------------------------------
    typeLimitSet: statement('type_limit_set', `
      INSERT INTO ${s}.task_type_limits (task_type, max_running, updated_at, updated_by) VALUES ($1::text, $2::int, $3::timestamptz, $4::uuid)
      ON CONFLICT (task_type) DO UPDATE SET max_running = EXCLUDED.max_running, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
      RETURNING task_type, max_running, updated_at, updated_by`),
    typeLimitDelete: statement('type_limit_delete', `DELETE FROM ${s}.task_type_limits WHERE task_type = $1::text`),
    typeRunningCounts: statement('type_running_counts', `SELECT task_type, count(*)::int AS running FROM ${s}.tasks WHERE status = 'running' GROUP BY task_type`),
    typeLimitList: statement('type_limit_list', `SELECT task_type, max_running, updated_at, updated_by FROM ${s}.task_type_limits ORDER BY task_type`),

    // --- recurring schedules -------------------------------------------------------------------
    ...scheduleStatements(s, statement),
  };
}

export type PostgresSql = ReturnType<typeof postgresSql>;

import { isUuid } from '../../core/id.ts';
import { decideUnclaim, wakesWorkers } from '../../core/lifecycle.ts';
import type { ClaimedTask, TaskLease, TaskStatus } from '../../core/task.ts';
import type { Engine, HeartbeatResult } from '../engine.ts';
import { decodeClaimBatch } from '../shared/claim-decoding.ts';
import { LIMIT_RECHECK_MS } from '../type-limit-cache.ts';
import { FairClaim } from './fair-claim.ts';
import { type PostgresConnection, WORKER } from './postgres-connection.ts';
import { attemptStartedAtClaim, byId, CLAIM_RETURNING, limitLockSpace, notifyIf, READY, RUNNING_BY_ID, type SqlContext } from './sql-parts.ts';
import { claimRowsFromWire, type ClaimWireRow, compareClaimOrder, decodeClaimedRow } from './task-row.ts';

/** Workers taking tasks: claims (with concurrency limits), when to look again, lease renewal, hand-backs of claimed tasks never started. */
export class ClaimStore {
  readonly #c: PostgresConnection;
  readonly #sql: ReturnType<typeof claimSql>;
  /** Fails a claimed row whose stored data cannot be decoded (decodeClaimBatch). */
  readonly #taskFail: Engine['taskFail'];
  readonly #fair: FairClaim;

  constructor(c: PostgresConnection, taskFail: Engine['taskFail']) {
    this.#c = c;
    this.#sql = claimSql(c.sql);
    this.#taskFail = taskFail;
    this.#fair = new FairClaim(c);
  }

  async taskClaim(p: { workerId: string; taskTypes: readonly string[]; limit: number; now: Date; leaseMs: number; startNow?: number; fairShare?: number }): Promise<ClaimedTask[]> {
    this.#c.assertOpen();
    if (p.taskTypes.length === 0 || p.limit <= 0) return [];
    const leaseExpiresAt = new Date(p.now.getTime() + p.leaseMs);
    const limit = Math.floor(p.limit);
    const values = [p.now, p.taskTypes, limit, p.workerId, leaseExpiresAt, Math.max(0, Math.floor(p.startNow ?? limit))];
    const limited = await this.#c.limits.limitedAmong(p.taskTypes, p.now);
    // Fair shares (fair-claim.ts) only when another owner waits: one owner's drain keeps the claims below.
    const fair = p.fairShare !== undefined && p.fairShare < 1 && (await this.#fair.contended(p.now, p.taskTypes));
    const rows = claimRowsFromWire(
      fair
        ? await this.#fair.claim({ values, limit, maxShare: p.fairShare!, limited })
        : limited.length > 0
          ? await this.#claimLimited(values, limited)
          : (await this.#c.run<ClaimWireRow>('taskClaim', this.#sql.taskClaim, values, WORKER)).rows,
    );
    // UPDATE ... RETURNING does not keep the CTE's order.
    const tasks = await decodeClaimBatch(rows.sort(compareClaimOrder), decodeClaimedRow, { workerId: p.workerId, now: p.now, taskFail: this.#taskFail });
    if (limited.length > 0) for (const task of tasks) if (limited.includes(task.taskType)) task.limited = true;
    return tasks;
  }

  /**
   * A claim that involves limited types, in one transaction: try each limited type's advisory lock,
   * then claim, counting what runs, and leaving out the limited types another claimer is counting at
   * that moment (it takes their free slots; this claim takes the other types). Nobody waits, so a
   * limit on one type never slows the claims of the others.
   */
  #claimLimited(values: unknown[], limited: readonly string[]): Promise<ClaimWireRow[]> {
    return this.#c.workerTransaction('taskClaim', async (client) => {
      const locked = await this.#c.run<{ busy: string[] | null }>('taskClaim', this.#sql.typeLimitLock, [limited], client);
      return (await this.#c.run<ClaimWireRow>('taskClaim', this.#sql.taskClaimLimited, [...values, locked.rows[0]?.busy ?? []], client)).rows;
    });
  }

  async taskNextDueAt(p: { taskTypes: readonly string[]; now: Date }): Promise<Date | null> {
    this.#c.assertOpen();
    if (p.taskTypes.length === 0) return null;
    const { rows } = await this.#c.run<{ next_due_at: Date | null }>('taskNextDueAt', this.#sql.taskNextDueAt, [p.now, p.taskTypes], WORKER);
    const next = rows[0]?.next_due_at ?? null;
    // Tasks held back by a limit are due already: look again soon, a slot may free on another worker.
    const limited = await this.#c.limits.limitedAmong(p.taskTypes, p.now);
    if (limited.length === 0) return next;
    const waiting = await this.#c.run<{ waiting: boolean }>('taskNextDueAt', this.#sql.typeLimitWaiting, [p.now, limited], WORKER);
    if (!waiting.rows[0]?.waiting) return next;
    const recheck = new Date(p.now.getTime() + LIMIT_RECHECK_MS);
    return next === null || recheck < next ? recheck : next;
  }

  /**
   * Decided as if no cancellation was requested (decideUnclaim), fenced on that; the leases the fence
   * refused for it are tried once more as cancel-requested. One statement unless a cancel came in.
   */
  async taskUnclaim(p: { workerId: string; leases: readonly TaskLease[]; now: Date }): Promise<{ released: string[]; cancelled: string[] }> {
    this.#c.assertOpen();
    const released: string[] = [];
    const cancelled: string[] = [];
    let pending = p.leases.filter((lease) => lease.workerId === p.workerId && isUuid(lease.id)).sort(byId);
    for (const cancelRequested of [false, true]) {
      if (pending.length === 0) break;
      const statuses = pending.map((lease) => decideUnclaim({ attempt: lease.attempt, cancelRequested }));
      const { rows } = await this.#c.run<{ id: string; status: TaskStatus }>(
        'taskUnclaim',
        this.#sql.taskUnclaim,
        [pending.map((lease) => lease.id), pending.map((lease) => lease.attempt), statuses, statuses.map((status) => wakesWorkers('unclaim', status)), p.workerId, p.now, cancelRequested],
        WORKER,
      );
      const done = new Set<string>();
      for (const row of rows) {
        done.add(row.id);
        (row.status === 'cancelled' ? cancelled : released).push(row.id);
      }
      pending = pending.filter((lease) => !done.has(lease.id));
    }
    return { released, cancelled };
  }

  async taskStartRecord(p: { workerId: string; starts: readonly { lease: TaskLease; startedAt: Date }[] }): Promise<string[]> {
    this.#c.assertOpen();
    const starts = p.starts.filter((start) => start.lease.workerId === p.workerId && isUuid(start.lease.id)).sort((a, b) => byId(a.lease, b.lease));
    if (starts.length === 0) return [];
    const { rows } = await this.#c.run<{ id: string }>(
      'taskStartRecord',
      this.#sql.taskStartRecord,
      [starts.map((start) => start.lease.id), starts.map((start) => start.lease.attempt), p.workerId, starts.map((start) => start.startedAt.getTime())],
      WORKER,
    );
    return rows.map((row) => row.id);
  }

  async taskHeartbeat(p: { workerId: string; leases: readonly TaskLease[]; now: Date; leaseMs: number; check?: readonly TaskLease[] }): Promise<HeartbeatResult> {
    this.#c.assertOpen();
    const mine = (lease: TaskLease) => lease.workerId === p.workerId && isUuid(lease.id);
    // In id order, as completions lock them: two statements locking the same rows in different
    // orders could deadlock.
    const renew = p.leases.filter(mine).sort(byId);
    const check = (p.check ?? []).filter(mine);
    const renewed: string[] = [];
    const held = new Set<string>();
    const cancelRequested: string[] = [];
    if (renew.length + check.length > 0) {
      const { rows } = await this.#c.run<{ id: string; cancel_requested: boolean; renewed: boolean }>(
        'taskHeartbeat',
        this.#sql.taskHeartbeat,
        [
          renew.map((lease) => lease.id),
          renew.map((lease) => lease.attempt),
          p.workerId,
          new Date(p.now.getTime() + p.leaseMs),
          check.map((lease) => lease.id),
          check.map((lease) => lease.attempt),
        ],
        WORKER,
      );
      for (const row of rows) {
        held.add(row.id);
        if (row.renewed) renewed.push(row.id);
        if (row.cancel_requested) cancelRequested.push(row.id);
      }
    }
    const lost = [...p.leases, ...(p.check ?? [])].filter((lease) => !held.has(lease.id)).map((lease) => lease.id);
    return { renewed, lost, cancelRequested };
  }
}

/**
 * The row a claim's pick locked, found again by its physical address (ctid) instead of a second walk
 * down the primary key: one page read instead of three or four per claimed task. The address holds:
 * FOR UPDATE returns the row version it locked (the newest), and while this statement's transaction
 * holds that lock nobody else can update, move or prune it. The id is checked as well, so that even a
 * stale address could only leave its task unclaimed this time, never change another row.
 */
const LOCKED_ROW = (picked: string) => `t.ctid = ${picked}.row_at AND t.id = ${picked}.id`;

/** A claimed row counts as started when it fills a free slot (n <= $6) and core/lifecycle.ts decideStart would not record its start first. */
const ATTEMPT_STARTED_AT_CLAIM = attemptStartedAtClaim('$6::int');

export function claimSql({ s, schema, statement, channel }: SqlContext) {
  // Tasks whose scope's breaker is open (a webhook's host) wait; a task without a scope, nearly every
  // task, is decided by its first test. The open scopes are read once per claim (an init plan) as
  // 'type @ scope' keys: a task type has no space, so the key is unambiguous.
  const OPEN_SCOPES_EXCLUDED = `(breaker_scope IS NULL OR (task_type || ' @ ' || breaker_scope) <> ALL(ARRAY(
            SELECT task_type || ' @ ' || scope FROM ${s}.circuit_breakers WHERE scope <> '' AND state = 'open' AND reopens_at > $1::timestamptz)))`;
  return {
    // One statement: pick in index order, skip rows other claimers hold, take them. The index
    // tasks_ready_idx has exactly this predicate and order, so the scan stops after LIMIT rows. The
    // open breakers and paused types are read once per claim (an init plan), not once per candidate row.
    // A claim commits without waiting for its WAL to reach disk (synchronous_commit off for this
    // statement's own transaction only, also an init plan): a claim lost in a database crash leaves
    // its task ready, to run again, which is what a worker crash does too. Inserts, completions and
    // failures stay durable. It takes a disk flush off the path from insert to start.
    // attempt_started: the first $6 tasks in claim order go to free slots at once and count as
    // started; the rest wait in the worker's queue until it records their start (taskStartRecord). A
    // task rescued or lost unstarted before never counts at claim (decideStart: its start is recorded
    // first). $6 the number starting now.
    taskClaim: statement('task_claim', `
      WITH picked AS (
        SELECT ctid AS row_at, id, priority_rank, run_at FROM ${s}.tasks
        WHERE status IN (${READY}) AND run_at <= $1::timestamptz AND task_type = ANY($2::text[])
          AND task_type <> ALL(ARRAY(
            SELECT task_type FROM ${s}.circuit_breakers WHERE scope = '' AND state = 'open' AND reopens_at > $1::timestamptz
            UNION ALL SELECT task_type FROM ${s}.task_type_pauses))
          AND ${OPEN_SCOPES_EXCLUDED}
          AND (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL
        ORDER BY priority_rank, run_at, id
        LIMIT $3::int
        FOR UPDATE SKIP LOCKED),
      ranked AS (SELECT row_at, id, row_number() OVER (ORDER BY priority_rank, run_at, id) AS n FROM picked)
      UPDATE ${s}.tasks t
      SET status = 'running', current_attempt = t.current_attempt + 1, worker_id = $4::text, started_at = $1::timestamptz,
          lease_expires_at = $5::timestamptz, updated_at = $1::timestamptz, progress = NULL,
          ${ATTEMPT_STARTED_AT_CLAIM}
      FROM ranked WHERE ${LOCKED_ROW('ranked')}
      RETURNING ${CLAIM_RETURNING}`),
    // The claim when some of the types have a concurrency limit, run in a transaction that first tried
    // each limited type's advisory lock (typeLimitLock): a type whose lock another claimer holds is
    // left out ($7), so no two claimers count the same type at once and none waits for another.
    // Types at their limit are left out too, and a limited type gets at most its free slots (claimed
    // tasks count as running). $1-$6 as for taskClaim; $7 the limited types another claimer holds.
    taskClaimLimited: statement('task_claim_limited', `
      WITH lim AS (
        SELECT l.task_type, l.max_running - (SELECT count(*) FROM ${s}.tasks r WHERE r.status = 'running' AND r.task_type = l.task_type) AS free
        FROM ${s}.task_type_limits l WHERE l.task_type = ANY($2::text[])),
      candidates AS (
        SELECT ctid AS row_at, id, task_type, priority_rank, run_at FROM ${s}.tasks
        WHERE status IN (${READY}) AND run_at <= $1::timestamptz AND task_type = ANY($2::text[]) AND task_type <> ALL($7::text[])
          AND task_type <> ALL(ARRAY(
            SELECT task_type FROM ${s}.circuit_breakers WHERE scope = '' AND state = 'open' AND reopens_at > $1::timestamptz
            UNION ALL SELECT task_type FROM ${s}.task_type_pauses
            UNION ALL SELECT task_type FROM lim WHERE free <= 0))
          AND ${OPEN_SCOPES_EXCLUDED}
          AND (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL
        ORDER BY priority_rank, run_at, id
        LIMIT $3::int
        FOR UPDATE SKIP LOCKED),
      ranked AS (
        SELECT c.row_at, c.id, row_number() OVER (ORDER BY c.priority_rank, c.run_at, c.id) AS n FROM (
          SELECT row_at, id, task_type, priority_rank, run_at, row_number() OVER (PARTITION BY task_type ORDER BY priority_rank, run_at, id) AS k FROM candidates) c
        LEFT JOIN lim ON lim.task_type = c.task_type
        WHERE lim.free IS NULL OR c.k <= lim.free)
      UPDATE ${s}.tasks t
      SET status = 'running', current_attempt = t.current_attempt + 1, worker_id = $4::text, started_at = $1::timestamptz,
          lease_expires_at = $5::timestamptz, updated_at = $1::timestamptz, progress = NULL,
          ${ATTEMPT_STARTED_AT_CLAIM}
      FROM ranked WHERE ${LOCKED_ROW('ranked')}
      RETURNING ${CLAIM_RETURNING}`),
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
    // The handlers of these attempts started: a lost lease counts from now on. started_at becomes the
    // real start. $1 ids, $2 attempts, $3 worker, $4 start times (epoch ms).
    taskStartRecord: statement('task_start_record', `
      WITH r AS MATERIALIZED (SELECT * FROM unnest($1::uuid[], $2::int[], $4::bigint[]) AS r(id, attempt, started_ms))
      UPDATE ${s}.tasks t SET attempt_started = true, started_at = 'epoch'::timestamptz + r.started_ms * interval '1 millisecond'
      FROM r
      WHERE t.id = r.id AND t.current_attempt = r.attempt AND ${RUNNING_BY_ID('t.')} AND t.worker_id = $3::text AND NOT t.attempt_started
      RETURNING t.id`),
    // $1/$2 the leases to extend to $4, $5/$6 leases only to look at; both fenced by worker $3.
    // The leases are MATERIALIZED CTEs, as the batched completion's are (finish.ts says why).
    taskHeartbeat: statement('task_heartbeat', `
      WITH l AS MATERIALIZED (SELECT * FROM unnest($1::uuid[], $2::int[]) AS l(id, attempt)),
      c AS MATERIALIZED (SELECT * FROM unnest($5::uuid[], $6::int[]) AS c(id, attempt)),
      renewed AS (
        UPDATE ${s}.tasks t SET lease_expires_at = $4::timestamptz
        FROM l
        WHERE t.id = l.id AND t.current_attempt = l.attempt AND ${RUNNING_BY_ID('t.')} AND t.worker_id = $3::text
        RETURNING t.id, t.cancel_requested_at IS NOT NULL AS cancel_requested)
      SELECT id, cancel_requested, true AS renewed FROM renewed
      UNION ALL
      SELECT t.id, t.cancel_requested_at IS NOT NULL, false FROM ${s}.tasks t
      JOIN c ON t.id = c.id AND t.current_attempt = c.attempt
      WHERE ${RUNNING_BY_ID('t.')} AND t.worker_id = $3::text`),
    // Tasks claimed but never started (a worker's prefetch), as decideUnclaim decided per row: the
    // attempt number is given back, no attempt is recorded, run_at is kept (their place in line).
    // $1 ids, $2 attempts, $3 decided statuses, $4 whether each wakes idle workers, $5 worker, $6 now,
    // $7 whether cancellation was requested (the decision's assumption, part of the fence).
    taskUnclaim: statement('task_unclaim', `
      WITH l AS MATERIALIZED (SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::boolean[]) AS l(id, attempt, status, wake)),
      handed AS (
        UPDATE ${s}.tasks t
        SET status = l.status, completed_at = CASE WHEN l.status = 'cancelled' THEN $6::timestamptz END,
            current_attempt = t.current_attempt - 1, updated_at = $6::timestamptz,
            worker_id = NULL, lease_expires_at = NULL, started_at = NULL
        FROM l
        WHERE t.id = l.id AND t.current_attempt = l.attempt AND ${RUNNING_BY_ID('t.')} AND t.worker_id = $5::text
          AND (t.cancel_requested_at IS NOT NULL) = $7::boolean
        RETURNING t.id, t.task_type, t.status, l.wake)
      SELECT id, status FROM handed WHERE ${notifyIf('wake', channel)}`),
  };
}

import BetterSqlite3 from 'better-sqlite3';
import { decideUnclaim, wakesWorkers } from '../../core/lifecycle.ts';
import type { ClaimedTask, TaskLease } from '../../core/task.ts';
import type { Engine, HeartbeatResult } from '../engine.ts';
import { decodeClaimBatch } from '../shared/claim-decoding.ts';
import { LIMIT_RECHECK_MS } from '../type-limit-cache.ts';
import { FairClaim } from './fair-claim.ts';
import type { InsertSignal } from './insert-signal.ts';
import { ATTEMPT_STARTED_AT_CLAIM_SQL, CLAIM_COLUMNS, fence, FENCE, READY_SOURCES, readyInClaimOrder, type ReadySources } from './sql-parts.ts';
import type { SqliteConnection } from './sqlite-connection.ts';
import { type ClaimRow, compareClaimOrder, decodeClaimedRow, toDate } from './task-row.ts';

/** Workers taking tasks: claims (with concurrency limits), when to look again, lease renewal, hand-backs of claimed tasks never started. */
export class ClaimStore {
  readonly #c: SqliteConnection;
  readonly #signal: InsertSignal;
  /** Fails a claimed row whose stored data cannot be decoded (decodeClaimBatch). */
  readonly #taskFail: Engine['taskFail'];

  constructor(c: SqliteConnection, signal: InsertSignal, taskFail: Engine['taskFail']) {
    this.#c = c;
    this.#signal = signal;
    this.#taskFail = taskFail;
    this.#fair = new FairClaim(c);
  }

  /** Fair shares between owners, when more than one waits (fair-claim.ts). */
  readonly #fair: FairClaim;

  /** Claim statements by form: limited or not, the ready sources, the number of types. */
  readonly #claimSql = new Map<string, string>();

  readonly #nextDueSql = new Map<number, string>();

  async taskClaim(p: { workerId: string; taskTypes: readonly string[]; limit: number; now: Date; leaseMs: number; startNow?: number; fairShare?: number }): Promise<ClaimedTask[]> {
    this.#c.assertOpen();
    if (p.taskTypes.length === 0 || p.limit <= 0) return [];
    const now = p.now.getTime();
    const startNow = Math.max(0, Math.floor(p.startNow ?? p.limit));
    const params: Record<string, string | number> = { workerId: p.workerId, now, leaseExpiresAt: now + p.leaseMs, limit: p.limit, startNow };
    p.taskTypes.forEach((type, i) => (params[`t${i}`] = type));
    const limited = await this.#c.limits.limitedAmong(p.taskTypes, p.now);
    // Fair shares (fair-claim.ts) only when another owner waits: one owner's drain keeps the claims below.
    const fairShare = p.fairShare !== undefined && p.fairShare < 1 ? p.fairShare : null;
    const typeCount = p.taskTypes.length;
    const rows = await this.#c.write('taskClaim', () => {
      const groups = this.#fair.readyGroups();
      if (groups === null) return [];
      if (fairShare !== null && this.#fair.contended(typeCount, params, groups.last)) return this.#fair.claim(typeCount, params, fairShare);
      const [form, build] = limited.length > 0 ? ['limited', taskClaimLimitedSql] as const : ['plain', taskClaimSql] as const;
      return this.#c.rows<ClaimRow>(this.#cached(this.#claimSql, `${form}:${groups.sources}:${typeCount}`, () => build(typeCount, groups.sources)), params);
    });
    const tasks = await decodeClaimBatch(rows.sort(compareClaimOrder), decodeClaimedRow, { workerId: p.workerId, now: p.now, taskFail: this.#taskFail });
    if (limited.length > 0) for (const task of tasks) if (limited.includes(task.taskType)) task.limited = true;
    return tasks;
  }

  /** A statement's text, built once per key. */
  #cached<K>(cache: Map<K, string>, key: K, build: () => string): string {
    let text = cache.get(key);
    if (text === undefined) {
      text = build();
      cache.set(key, text);
    }
    return text;
  }

  async taskNextDueAt(p: { taskTypes: readonly string[]; now: Date }): Promise<Date | null> {
    this.#c.assertOpen();
    if (p.taskTypes.length === 0) return null;
    const params: Record<string, string | number> = { now: p.now.getTime() };
    p.taskTypes.forEach((type, i) => (params[`t${i}`] = type));
    const text = this.#cached(this.#nextDueSql, p.taskTypes.length, () => taskNextDueSql(p.taskTypes.length));
    const next = toDate((await this.#c.run('taskNextDueAt', () => this.#c.prepare(text).get(params) as { next: number | null })).next);
    // Tasks held back by a limit are due already: look again soon, a slot may free in another process.
    const limited = await this.#c.limits.limitedAmong(p.taskTypes, p.now);
    if (limited.length === 0) return next;
    const limitedParams: Record<string, string | number> = { now: p.now.getTime() };
    limited.forEach((type, i) => (limitedParams[`t${i}`] = type));
    const waiting = await this.#c.run('taskNextDueAt', () => (this.#c.prepare(typeLimitWaitingSql(limited.length)).get(limitedParams) as { waiting: number }).waiting === 1);
    if (!waiting) return next;
    const recheck = new Date(p.now.getTime() + LIMIT_RECHECK_MS);
    return next === null || recheck < next ? recheck : next;
  }

  /** Each lease decided as if no cancellation was requested (decideUnclaim), fenced on that; if the fence refuses, once more as cancel-requested. */
  async taskUnclaim(p: { workerId: string; leases: readonly TaskLease[]; now: Date }): Promise<{ released: string[]; cancelled: string[] }> {
    this.#c.assertOpen();
    const held = p.leases.filter((lease) => lease.workerId === p.workerId);
    if (held.length === 0) return { released: [], cancelled: [] };
    const { released, cancelled, wake } = await this.#c.write('taskUnclaim', () => {
      const answer = { released: [] as string[], cancelled: [] as string[], wake: new Set<string>() };
      const unclaim = this.#c.prepare(TASK_UNCLAIM);
      for (const lease of held) {
        for (const cancelRequested of [false, true]) {
          const status = decideUnclaim({ attempt: lease.attempt, cancelRequested });
          const row = unclaim.get({ ...fence(lease), now: p.now.getTime(), status, completedAt: status === 'cancelled' ? p.now.getTime() : null, cancelRequested: cancelRequested ? 1 : 0 }) as
            | { task_type: string }
            | undefined;
          if (row === undefined) continue;
          (status === 'cancelled' ? answer.cancelled : answer.released).push(lease.id);
          if (wakesWorkers('unclaim', status)) answer.wake.add(row.task_type);
          break;
        }
      }
      return answer;
    });
    this.#signal.wake(wake);
    return { released, cancelled };
  }

  async taskStartRecord(p: { workerId: string; starts: readonly { lease: TaskLease; startedAt: Date }[] }): Promise<string[]> {
    this.#c.assertOpen();
    const starts = p.starts.filter((start) => start.lease.workerId === p.workerId);
    if (starts.length === 0) return [];
    return this.#c.write('taskStartRecord', () => {
      const record = this.#c.prepare(TASK_START_RECORD);
      return starts.filter((start) => record.run({ ...fence(start.lease), startedAt: start.startedAt.getTime() }).changes > 0).map((start) => start.lease.id);
    });
  }

  async taskHeartbeat(p: { workerId: string; leases: readonly TaskLease[]; now: Date; leaseMs: number; check?: readonly TaskLease[] }): Promise<HeartbeatResult> {
    this.#c.assertOpen();
    const result: HeartbeatResult = { renewed: [], lost: [], cancelRequested: [] };
    const check = p.check ?? [];
    if (p.leases.length + check.length === 0) return result;
    const now = p.now.getTime();
    const look = (lease: TaskLease, statement: BetterSqlite3.Statement, params: Record<string, unknown>, renews: boolean) => {
      const row = lease.workerId === p.workerId ? (statement.get(params) as { cancel_requested_at: number | null } | undefined) : undefined;
      if (row === undefined) {
        result.lost.push(lease.id);
        return;
      }
      if (renews) result.renewed.push(lease.id);
      if (row.cancel_requested_at !== null) result.cancelRequested.push(lease.id);
    };
    const work = () => {
      result.renewed = [];
      result.lost = [];
      result.cancelRequested = [];
      const renew = this.#c.prepare(TASK_HEARTBEAT);
      for (const lease of p.leases) look(lease, renew, { ...fence(lease), now, leaseExpiresAt: now + p.leaseMs }, true);
      const read = this.#c.prepare(TASK_HELD);
      for (const lease of check) look(lease, read, fence(lease), false);
      return result;
    };
    // Only looking takes no write lock.
    return p.leases.length > 0 ? this.#c.write('taskHeartbeat', work) : this.#c.run('taskHeartbeat', work);
  }
}

/**
 * Tasks whose scope's breaker is open (a webhook's host) wait; a task without a scope, nearly every
 * task, is decided by its first test. The open scopes are one uncorrelated list, read once per claim,
 * of 'type @ scope' keys (a task type has no space, so the key is unambiguous).
 */
const OPEN_SCOPES_EXCLUDED = `(breaker_scope IS NULL OR (task_type || ' @ ' || breaker_scope) NOT IN (
            SELECT task_type || ' @ ' || scope FROM circuit_breakers WHERE scope <> '' AND state = 'open' AND reopens_at > @now))`;

/**
 * A claimed row counts as started (attempt_started) when it fills a free slot (the first @startNow in
 * claim order) and core/lifecycle.ts decideStart would not record its start first (never rescued nor
 * lost unstarted); the others wait in the worker's queue until it records their start (taskStartRecord).
 */
const ATTEMPT_STARTED_AT_CLAIM = ATTEMPT_STARTED_AT_CLAIM_SQL;

function taskClaimSql(typeCount: number, sources: ReadySources): string {
  const types = Array.from({ length: typeCount }, (_, i) => `@t${i}`).join(', ');
  const claimable = `run_at <= @now AND task_type IN (${types})
           AND task_type NOT IN (SELECT task_type FROM circuit_breakers WHERE scope = '' AND state = 'open' AND reopens_at > @now
                                 UNION ALL SELECT task_type FROM task_type_pauses)
           AND ${OPEN_SCOPES_EXCLUDED}`;
  return `
    WITH ranked AS (
      SELECT id, row_number() OVER (ORDER BY priority_rank, run_at, id) AS n FROM (${readyInClaimOrder('id, priority_rank, run_at', claimable, sources)}))
    ${TAKE_RANKED}`;
}

/** Both claims end alike: the rows `ranked` picked become running, with this worker's lease. */
const TAKE_RANKED = `UPDATE tasks
       SET status = 'running', current_attempt = current_attempt + 1, worker_id = @workerId, started_at = @now,
           lease_expires_at = @leaseExpiresAt, updated_at = @now, progress = NULL,
           ${ATTEMPT_STARTED_AT_CLAIM}
      FROM ranked WHERE tasks.id = ranked.id
    RETURNING ${CLAIM_COLUMNS.split(', ').map((column) => `tasks.${column}`).join(', ')}`;

function taskClaimLimitedSql(typeCount: number, sources: ReadySources): string {
  const types = Array.from({ length: typeCount }, (_, i) => `@t${i}`).join(', ');
  const free = `(SELECT l.task_type, l.max_running - (SELECT COUNT(*) FROM tasks r WHERE r.status = 'running' AND r.task_type = l.task_type) AS free
                  FROM task_type_limits l WHERE l.task_type IN (${types}))`;
  const claimable = `run_at <= @now AND task_type IN (${types})
              AND task_type NOT IN (SELECT task_type FROM circuit_breakers WHERE scope = '' AND state = 'open' AND reopens_at > @now
                                    UNION ALL SELECT task_type FROM task_type_pauses
                                    UNION ALL SELECT task_type FROM ${free} WHERE free <= 0)
              AND ${OPEN_SCOPES_EXCLUDED}`;
  return `
    WITH ranked AS (
       SELECT limited.id, row_number() OVER (ORDER BY limited.priority_rank, limited.run_at, limited.id) AS n FROM (
         SELECT id, task_type, priority_rank, run_at, row_number() OVER (PARTITION BY task_type ORDER BY priority_rank, run_at, id) AS k FROM (
           ${readyInClaimOrder('id, task_type, priority_rank, run_at', claimable, sources)})) AS limited
       LEFT JOIN ${free} AS lim ON lim.task_type = limited.task_type
       WHERE lim.free IS NULL OR limited.k <= lim.free)
    ${TAKE_RANKED}`;
}

function typeLimitWaitingSql(typeCount: number): string {
  const types = Array.from({ length: typeCount }, (_, i) => `@t${i}`).join(', ');
  const waiting = (ready: string) => `EXISTS (SELECT 1 FROM ${ready} AND run_at <= @now AND task_type IN (${types}))`;
  return `SELECT (${READY_SOURCES.map(waiting).join(' OR ')}) AS waiting`;
}

const TASK_HEARTBEAT = `
  UPDATE tasks SET lease_expires_at = @leaseExpiresAt
   WHERE ${FENCE}
  RETURNING cancel_requested_at`;

const TASK_START_RECORD = `
  UPDATE tasks SET attempt_started = 1, started_at = @startedAt
   WHERE ${FENCE} AND attempt_started = 0`;

const TASK_HELD = `SELECT cancel_requested_at FROM tasks WHERE ${FENCE}`;

const TASK_UNCLAIM = `
  UPDATE tasks
     SET status = @status, completed_at = @completedAt, current_attempt = current_attempt - 1, updated_at = @now,
         worker_id = NULL, lease_expires_at = NULL, started_at = NULL
   WHERE ${FENCE} AND (cancel_requested_at IS NOT NULL) = @cancelRequested
  RETURNING task_type`;

function taskNextDueSql(typeCount: number): string {
  const types = Array.from({ length: typeCount }, (_, i) => `@t${i}`).join(', ');
  const probe = (ready: string, rank: number) =>
    `SELECT (SELECT run_at FROM ${ready} AND priority_rank = ${rank} AND run_at > @now AND task_type IN (${types}) ORDER BY priority_rank, run_at, id LIMIT 1) AS next`;
  return `SELECT MIN(next) AS next FROM (${READY_SOURCES.flatMap((ready) => [0, 1, 2, 3].map((rank) => probe(ready, rank))).join(' UNION ALL ')})`;
}

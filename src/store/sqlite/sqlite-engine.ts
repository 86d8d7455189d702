import { statSync } from 'node:fs';
import type BetterSqlite3 from 'better-sqlite3';
import { breakerRecord, closedBreaker, type BreakerConfig, type BreakerState } from '../../core/circuit-breaker.ts';
import { ConveyorError, ERROR_CODES } from '../../core/errors.ts';
import { silentLogger, type Logger } from '../../core/logger.ts';
import type { NewTask } from '../../core/new-task.ts';
import type { NewSchedule, ScheduleChanges, ScheduleRecord } from '../../core/schedule.ts';
import type { RetryStrategy } from '../../core/retry-strategy.ts';
import { decideFail, decideRelease, decideRescue, decideUnclaim, wakesWorkers } from '../../core/lifecycle.ts';
import { rescueFacts, rescueList, type ExpiredRow } from '../shared/rescue.ts';
import { priorityFromRank, TASK_PRIORITIES, TASK_STATUSES, type ClaimedTask, type JsonValue, type TaskLease, type TaskPriority, type TaskRecord, type TaskStatus } from '../../core/task.ts';
import { dispatchEngine } from '../dispatch/dispatch-engine.ts';
import type {
  Engine,
  EngineDriver,
  EngineCapabilities,
  HeartbeatResult,
  MigrationReport,
  MigrationStatus,
  NewUser,
  RescueResult,
  SessionRecord,
  StorageStats,
  TaskFailResult,
  TaskInsertResult,
  TaskListParams,
  TaskListResult,
  TaskStats,
  TaskTypeInfo,
  TaskTypeRecord,
  TypeLimit,
  TypePause,
  UserRecord,
  UserRole,
  WorkerInfo,
  WorkerRecord,
} from '../engine.ts';
import { InsertSignal } from './insert-signal.ts';
import { SqliteConnection } from './sqlite-connection.ts';
import { isUniqueViolation, translateSqliteError } from './sqlite-errors.ts';
import { migrateSqlite, sqliteMigrationStatus } from './sqlite-migrator.ts';
import { splitDue } from '../schedule-due.ts';
import { LIMIT_RECHECK_MS, TypeLimitCache } from '../type-limit-cache.ts';
import {
  breakerParams,
  rowToBreaker,
  rowToSchedule,
  rowToSession,
  rowToTaskType,
  rowToTypeLimit,
  rowToTypePause,
  rowToUser,
  rowToWorker,
  type BreakerRow,
  type ScheduleRow,
  type SessionRow,
  type TaskTypeRow,
  type TypeLimitRow,
  type TypePauseRow,
  type UserRow,
  type WorkerRow,
} from './sqlite-rows.ts';
import * as other from './other-sql.ts';
import { buildListQuery, encodeCursor } from './task-list-query.ts';
import { claimedTaskFromRow, compareClaimOrder, type ClaimRow, rowToTask, taskInsertParams, toDate, type TaskRow } from './task-row.ts';
import { insertedTask } from '../shared/inserted-task.ts';
import * as sql from './task-sql.ts';

export interface SqliteEngineOptions {
  /** A file path (created with its folder if missing) or `:memory:` (one process only). */
  filename: string;
  logger?: Logger;
  /** How long a writer waits for another process's lock before failing; default 10 s. */
  busyTimeoutMs?: number;
  /** Ignored: SQLite uses one connection per process. Accepted so both engines take the same options. */
  poolSize?: number;
}

export function openSqliteEngine(options: SqliteEngineOptions): Engine {
  return dispatchEngine(new SqliteEngine(options), { logger: options.logger });
}

type Prepare = (text: string) => BetterSqlite3.Statement;

/** Statements prepared on an application's own connection (transactional insert), per connection. */
const applicationStatements = new WeakMap<BetterSqlite3.Database, Map<string, BetterSqlite3.Statement>>();

class SqliteEngine implements EngineDriver {
  readonly kind = 'sqlite' as const;
  readonly capabilities: EngineCapabilities = Object.freeze({ skipLocked: false, listenNotify: false, transactionalInsert: true });
  readonly #c: SqliteConnection;
  readonly #logger: Logger;
  readonly #signal: InsertSignal;
  /** Completions waiting to be written together (see taskComplete). */
  #completions: { params: Record<string, unknown>; resolve: (applied: boolean) => void; reject: (error: unknown) => void }[] = [];
  /** Completion batches being written, which close() waits for. */
  readonly #completionWrites = new Set<Promise<void>>();
  readonly #claimSql = new Map<number, string>();
  readonly #claimLimitedSql = new Map<number, string>();
  readonly #limits = new TypeLimitCache(async () => (await this.typeLimitList()).map((limit) => limit.taskType));
  readonly #nextDueSql = new Map<number, string>();

  constructor(options: SqliteEngineOptions) {
    this.#logger = (options.logger ?? silentLogger).child({ engine: 'sqlite' });
    this.#c = new SqliteConnection(options.filename, this.#logger, options.busyTimeoutMs);
    this.#signal = new InsertSignal(this.#c.inMemory ? null : `${this.#c.filename}-signal`, this.#logger);
  }

  migrate(): Promise<MigrationReport> {
    return this.#c.run('migrate', () => migrateSqlite(this.#c.db, this.#logger));
  }

  migrationStatus(): Promise<MigrationStatus> {
    return this.#c.run('migrationStatus', () => sqliteMigrationStatus(this.#c.db));
  }

  async close(): Promise<void> {
    if (this.#c.closed) return;
    // Completions waiting for the end of this turn are written first, and the writes under way
    // (one may be waiting for another process's lock) are let finish.
    this.#writeCompletions();
    await Promise.all(this.#completionWrites);
    await this.#signal.closeAll();
    this.#c.close();
  }

  async ping(): Promise<void> {
    await this.#c.run('ping', () => this.#c.prepare('SELECT 1').get());
  }

  // --- tasks: producers ------------------------------------------------------------------------

  taskInsert(p: { task: NewTask; tx?: unknown }): Promise<TaskInsertResult> {
    if (p.tx !== undefined && p.tx !== null) return this.#insertOnApplicationConnection([p.task], p.tx).then((results) => results[0]!);
    return this.#insertOwn([p.task], 'taskInsert').then((results) => results[0]!);
  }

  taskInsertMany(p: { tasks: NewTask[]; tx?: unknown }): Promise<TaskInsertResult[]> {
    if (p.tx !== undefined && p.tx !== null) return this.#insertOnApplicationConnection(p.tasks, p.tx);
    if (p.tasks.length === 0) return Promise.resolve([]);
    return this.#insertOwn(p.tasks, 'taskInsertMany');
  }

  async #insertOwn(tasks: NewTask[], operation: string): Promise<TaskInsertResult[]> {
    const results = await this.#c.write(operation, () => insertTasks(tasks, (text) => this.#c.prepare(text)));
    this.#signalInserted(results);
    return results;
  }

  /**
   * Inserts on the application's better-sqlite3 connection, inside its transaction when it has one
   * open, so the task exists if and only if that transaction commits. The driver is synchronous and so
   * is this path: call it inside `db.transaction(() => ...)` and the rows are written before the
   * returned promise is even looked at. Errors are thrown synchronously, so they roll back the
   * application's transaction as any other statement's error would.
   */
  #insertOnApplicationConnection(tasks: NewTask[], tx: unknown): Promise<TaskInsertResult[]> {
    this.#c.assertOpen();
    const db = asDatabase(tx);
    let cache = applicationStatements.get(db);
    if (cache === undefined) {
      cache = new Map();
      applicationStatements.set(db, cache);
    }
    const statements = cache;
    const prepare: Prepare = (text) => {
      let statement = statements.get(text);
      if (statement === undefined) {
        statement = db.prepare(text);
        statements.set(text, statement);
      }
      return statement;
    };
    let results: TaskInsertResult[];
    try {
      const work = () => insertTasks(tasks, prepare);
      results = db.inTransaction ? work() : db.transaction(work).immediate();
    } catch (error) {
      throw translateSqliteError(error, 'taskInsert (application transaction)');
    }
    this.#signalAfterCommit(db, results);
    return Promise.resolve(results);
  }

  /**
   * The application's transaction has not committed yet, and a worker woken before it does finds
   * nothing (and then waits for its fallback poll). `db.transaction(fn)` commits when fn returns, so
   * the end of this tick is usually late enough; a transaction the application keeps open across
   * awaits is waited for.
   */
  #signalAfterCommit(db: BetterSqlite3.Database, results: TaskInsertResult[]): void {
    const signal = () => {
      if (this.#c.closed) return;
      if (db.open && db.inTransaction) {
        setTimeout(signal, 5).unref();
        return;
      }
      // Committed, rolled back (a wake-up for nothing is harmless) or closed after either.
      this.#signalInserted(results);
    };
    setImmediate(signal);
  }

  #signalInserted(results: TaskInsertResult[]): void {
    let type: string | null | undefined;
    for (const { task, created } of results) {
      if (!created) continue;
      type = type === undefined || type === task.taskType ? task.taskType : null;
    }
    if (type !== undefined) this.#signal.notify(type);
  }

  // --- tasks: workers --------------------------------------------------------------------------

  async taskClaim(p: { workerId: string; taskTypes: readonly string[]; limit: number; now: Date; leaseMs: number }): Promise<ClaimedTask[]> {
    this.#c.assertOpen();
    if (p.taskTypes.length === 0 || p.limit <= 0) return [];
    const now = p.now.getTime();
    const params: Record<string, string | number> = { workerId: p.workerId, now, leaseExpiresAt: now + p.leaseMs, limit: p.limit };
    p.taskTypes.forEach((type, i) => (params[`t${i}`] = type));
    const limited = await this.#limits.limitedAmong(p.taskTypes, p.now);
    const text = limited.length === 0 ? this.#sqlFor(this.#claimSql, p.taskTypes.length, sql.taskClaimSql) : this.#sqlFor(this.#claimLimitedSql, p.taskTypes.length, sql.taskClaimLimitedSql);
    const rows = await this.#c.write('taskClaim', () => this.#c.prepare(text).all(params) as ClaimRow[]);
    const tasks = rows.sort(compareClaimOrder).map(claimedTaskFromRow);
    if (limited.length > 0) for (const task of tasks) if (limited.includes(task.taskType)) task.limited = true;
    return tasks;
  }

  /** The statement text for `typeCount` task types, built once per count. */
  #sqlFor(cache: Map<number, string>, typeCount: number, build: (typeCount: number) => string): string {
    let text = cache.get(typeCount);
    if (text === undefined) {
      text = build(typeCount);
      cache.set(typeCount, text);
    }
    return text;
  }

  async taskNextDueAt(p: { taskTypes: readonly string[]; now: Date }): Promise<Date | null> {
    this.#c.assertOpen();
    if (p.taskTypes.length === 0) return null;
    const params: Record<string, string | number> = { now: p.now.getTime() };
    p.taskTypes.forEach((type, i) => (params[`t${i}`] = type));
    const text = this.#sqlFor(this.#nextDueSql, p.taskTypes.length, sql.taskNextDueSql);
    const next = toDate((await this.#c.run('taskNextDueAt', () => this.#c.prepare(text).get(params) as { next: number | null })).next);
    // Tasks held back by a limit are due already: look again soon, a slot may free in another process.
    const limited = await this.#limits.limitedAmong(p.taskTypes, p.now);
    if (limited.length === 0) return next;
    const limitedParams: Record<string, string | number> = { now: p.now.getTime() };
    limited.forEach((type, i) => (limitedParams[`t${i}`] = type));
    const waiting = await this.#c.run('taskNextDueAt', () => (this.#c.prepare(sql.typeLimitWaitingSql(limited.length)).get(limitedParams) as { waiting: number }).waiting === 1);
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
      const unclaim = this.#c.prepare(sql.TASK_UNCLAIM);
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
    this.#wake(wake);
    return { released, cancelled };
  }

  /** Tells idle workers in every process that tasks of these types wait (one type, or all when several). */
  #wake(types: ReadonlySet<string>): void {
    if (types.size > 0) this.#signal.notify(types.size === 1 ? [...types][0]! : null);
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
      const renew = this.#c.prepare(sql.TASK_HEARTBEAT);
      for (const lease of p.leases) look(lease, renew, { ...fence(lease), now, leaseExpiresAt: now + p.leaseMs }, true);
      const read = this.#c.prepare(sql.TASK_HELD);
      for (const lease of check) look(lease, read, fence(lease), false);
      return result;
    };
    // Only looking takes no write lock.
    return p.leases.length > 0 ? this.#c.write('taskHeartbeat', work) : this.#c.run('taskHeartbeat', work);
  }

  /**
   * Completions made in the same turn of the event loop are written in one transaction, at the end of
   * it: SQLite writes each changed page once per commit, so a worker finishing hundreds of tasks a
   * second commits a few times, not hundreds. Each keeps its own fence and its own answer.
   */
  taskComplete(p: { lease: TaskLease; output: JsonValue | null; now: Date }): Promise<boolean> {
    const output = p.output === null || p.output === undefined ? null : (JSON.stringify(p.output) ?? null);
    return new Promise<boolean>((resolve, reject) => {
      this.#completions.push({ params: { ...fence(p.lease), now: p.now.getTime(), output }, resolve, reject });
      if (this.#completions.length === 1) setImmediate(this.#writeCompletions);
    });
  }

  readonly #writeCompletions = (): void => {
    const batch = this.#completions;
    if (batch.length === 0) return;
    this.#completions = [];
    const writing = this.#c
      .write('taskComplete', () => {
        const complete = this.#c.prepare(sql.TASK_COMPLETE);
        return batch.map(({ params }) => complete.run(params).changes > 0);
      })
      .then(
        (applied) => batch.forEach((completion, index) => completion.resolve(applied[index]!)),
        (error: unknown) => batch.forEach((completion) => completion.reject(error)),
      )
      .finally(() => this.#completionWrites.delete(writing));
    this.#completionWrites.add(writing);
  };

  /** Reads the facts under the lease's fence, decides with the lifecycle's rules (decideFail) and writes the outcome, in one transaction. */
  taskFail(p: Parameters<Engine['taskFail']>[0]): Promise<TaskFailResult> {
    const params = { ...fence(p.lease), ...stamp(p.now), error: p.error };
    return this.#c.write('taskFail', (): TaskFailResult => {
      const facts = this.#c.prepare(sql.TASK_FENCED_READ).get(params) as { retry_strategy: string; max_attempts: number; cancel_requested: number } | undefined;
      if (facts === undefined) return { applied: false };
      const outcome = decideFail({
        attempt: p.lease.attempt, maxAttempts: facts.max_attempts, strategy: JSON.parse(facts.retry_strategy) as RetryStrategy, cancelRequested: facts.cancel_requested === 1,
        permanent: p.permanent === true, now: p.now, random: p.random, minDelayMs: p.minDelayMs,
      });
      const written =
        outcome.status === 'retrying'
          ? this.#c.prepare(sql.TASK_FAIL_RETRY).run({ ...params, runAt: outcome.runAt.getTime() })
          : this.#c.prepare(sql.TASK_FAIL_FINAL).run({ ...params, status: outcome.status, cancelRequested: facts.cancel_requested });
      return written.changes === 1 ? { applied: true, ...outcome } : { applied: false };
    });
  }

  taskCancelRunning(p: { lease: TaskLease; now: Date; reason?: string }): Promise<boolean> {
    return this.#fenced('taskCancelRunning', sql.TASK_CANCEL_RUNNING, { ...fence(p.lease), ...stamp(p.now), reason: p.reason ?? null });
  }

  /** Decided as if no cancellation was requested (decideRelease), fenced on that; if the fence refuses, once more as cancel-requested. */
  async taskRelease(p: { lease: TaskLease; now: Date; until?: Date }): Promise<boolean> {
    const released = await this.#c.write('taskRelease', () => {
      for (const cancelRequested of [false, true]) {
        const outcome = decideRelease({ now: p.now, until: p.until ?? null, cancelRequested });
        const row = this.#c.prepare(sql.TASK_RELEASE).get({
          ...fence(p.lease), ...stamp(p.now), status: outcome.status, runAt: outcome.runAt.getTime(), completedAt: outcome.status === 'cancelled' ? p.now.getTime() : null,
          attemptOutcome: outcome.attemptOutcome, cancelRequested: cancelRequested ? 1 : 0,
        }) as { task_type: string } | undefined;
        if (row !== undefined) return { taskType: row.task_type, status: outcome.status };
      }
      return undefined;
    });
    if (released !== undefined && wakesWorkers('release', released.status)) this.#signal.notify(released.taskType);
    return released !== undefined;
  }

  taskProgress(p: { lease: TaskLease; progress: JsonValue; now: Date }): Promise<boolean> {
    const progress = p.progress === null || p.progress === undefined ? null : (JSON.stringify(p.progress) ?? null);
    return this.#fenced('taskProgress', sql.TASK_PROGRESS, { ...fence(p.lease), ...stamp(p.now), progress });
  }

  /** One fenced UPDATE; true when the caller still held the lease and the change applied. */
  #fenced(operation: string, text: string, params: Record<string, unknown>): Promise<boolean> {
    return this.#c.write(operation, () => this.#c.prepare(text).run(params).changes > 0);
  }

  // --- tasks: operators ------------------------------------------------------------------------

  taskGet(p: { id: string }): Promise<TaskRecord | null> {
    return this.#c.run('taskGet', () => {
      const row = this.#c.prepare(sql.TASK_BY_ID).get(p.id) as TaskRow | undefined;
      return row === undefined ? null : rowToTask(row);
    });
  }

  async taskList(p: TaskListParams): Promise<TaskListResult> {
    this.#c.assertOpen();
    const query = buildListQuery(p);
    return this.#c.run('taskList', () => {
      const rows = this.#c.prepare(query.pageSql).all(query.params) as TaskRow[];
      const more = rows.length > p.limit;
      const page = more ? rows.slice(0, p.limit) : rows;
      const total = p.withTotal === true ? (this.#c.prepare(query.countSql).get(query.countParams) as { n: number }).n : null;
      return { tasks: page.map(rowToTask), nextCursor: more ? encodeCursor(page[page.length - 1]!.id) : null, total };
    });
  }

  taskCancel(p: { id: string; now: Date }): Promise<{ outcome: 'cancelled' | 'cancel_requested' | 'not_cancellable' | 'not_found'; task: TaskRecord | null }> {
    const params = { id: p.id, now: p.now.getTime() };
    return this.#c.write('taskCancel', () => {
      const cancelled = this.#c.prepare(sql.TASK_CANCEL_READY).get(params) as TaskRow | undefined;
      if (cancelled !== undefined) return { outcome: 'cancelled' as const, task: rowToTask(cancelled) };
      const requested = this.#c.prepare(sql.TASK_REQUEST_CANCEL).get(params) as TaskRow | undefined;
      if (requested !== undefined) return { outcome: 'cancel_requested' as const, task: rowToTask(requested) };
      const row = this.#c.prepare(sql.TASK_BY_ID).get(p.id) as TaskRow | undefined;
      return row === undefined ? { outcome: 'not_found' as const, task: null } : { outcome: 'not_cancellable' as const, task: rowToTask(row) };
    });
  }

  async taskRetry(p: { id: string; now: Date }): Promise<{ outcome: 'retried' | 'not_retryable' | 'not_found'; task: TaskRecord | null }> {
    const result = await this.#retry(p);
    if (result.outcome === 'retried' && wakesWorkers('retry', result.task!.status)) this.#signal.notify(result.task!.taskType);
    return result;
  }

  #retry(p: { id: string; now: Date }): Promise<{ outcome: 'retried' | 'not_retryable' | 'not_found'; task: TaskRecord | null }> {
    return this.#c.write('taskRetry', () => {
      const retried = this.#c.prepare(sql.TASK_RETRY).get({ id: p.id, now: p.now.getTime() }) as TaskRow | undefined;
      if (retried !== undefined) return { outcome: 'retried' as const, task: rowToTask(retried) };
      const row = this.#c.prepare(sql.TASK_BY_ID).get(p.id) as TaskRow | undefined;
      return row === undefined ? { outcome: 'not_found' as const, task: null } : { outcome: 'not_retryable' as const, task: rowToTask(row) };
    });
  }

  taskDelete(p: { id: string }): Promise<'deleted' | 'not_finished' | 'not_found'> {
    return this.#c.write('taskDelete', () => {
      if (this.#c.prepare(sql.TASK_DELETE).run(p.id).changes > 0) return 'deleted' as const;
      return this.#c.prepare(sql.TASK_STATUS_BY_ID).get(p.id) === undefined ? ('not_found' as const) : ('not_finished' as const);
    });
  }

  taskStats(p: { now: Date; createdBy?: string }): Promise<TaskStats> {
    const now = p.now.getTime();
    const params = { now, createdBy: p.createdBy ?? null, minuteAgo: now - 60_000, hourAgo: now - 3_600_000 };
    // One read transaction so the three queries see the same snapshot.
    return this.#c.run('taskStats', () =>
      this.#c.db.transaction(() => {
        const byStatus = Object.fromEntries(TASK_STATUSES.map((status) => [status, 0])) as Record<TaskStatus, number>;
        const byType: TaskStats['byType'] = {};
        const byPriority = Object.fromEntries(TASK_PRIORITIES.map((priority) => [priority, {}])) as TaskStats['byPriority'];
        let total = 0;
        const counts = this.#c.prepare(sql.STATS_COUNTS).all(params) as { task_type: string; priority_rank: number; status: TaskStatus; n: number }[];
        for (const { task_type, priority_rank, status, n } of counts) {
          total += n;
          byStatus[status] += n;
          const type = (byType[task_type] ??= {});
          type[status] = (type[status] ?? 0) + n;
          const priority = byPriority[priorityFromRank(priority_rank) as TaskPriority];
          priority[status] = (priority[status] ?? 0) + n;
        }
        const oldest = (this.#c.prepare(sql.STATS_OLDEST_READY).get(params) as { oldest: number | null }).oldest;
        const recent = this.#c.prepare(sql.STATS_RECENT).get(params) as { completed_minute: number; completed_hour: number; failed_minute: number; failed_hour: number };
        return {
          total,
          byStatus,
          byType,
          byPriority,
          oldestReadyAgeMs: oldest === null ? null : Math.max(0, now - oldest),
          completedLastMinute: recent.completed_minute,
          completedLastHour: recent.completed_hour,
          failedLastMinute: recent.failed_minute,
          failedLastHour: recent.failed_hour,
        };
      })(),
    );
  }

  // --- maintenance -----------------------------------------------------------------------------

  /** Reads the expired leases, decides each with the lifecycle's rules (decideRescue) and writes each decision fenced by what was read, in one transaction. */
  async taskRescueExpired(p: { now: Date; maxRescues: number; limit: number }): Promise<RescueResult> {
    const base = stamp(p.now);
    const { result, wake } = await this.#c.write('taskRescueExpired', () => {
      const answer = { result: { retried: [], deadLettered: [], cancelled: [] } as RescueResult, wake: new Set<string>() };
      const expired = this.#c.prepare(sql.TASK_EXPIRED).all({ now: base.now, limit: p.limit }) as ExpiredRow[];
      const rescue = this.#c.prepare(sql.TASK_RESCUE);
      for (const row of expired) {
        const outcome = decideRescue(rescueFacts(row, p.maxRescues));
        const written = rescue.get({ ...base, id: row.id, status: outcome.status, error: outcome.message, rescueCount: row.rescue_count, cancelRequested: row.cancel_requested }) as
          | { task_type: string }
          | undefined;
        if (written === undefined) continue;
        rescueList(answer.result, outcome.status).push(row.id);
        if (wakesWorkers('rescue', outcome.status)) answer.wake.add(written.task_type);
      }
      return answer;
    });
    this.#wake(wake);
    return result;
  }

  taskPrune(p: { finishedBefore: Date; limit: number }): Promise<number> {
    return this.#c.write('taskPrune', () => this.#c.prepare(sql.TASK_PRUNE).run({ before: p.finishedBefore.getTime(), limit: p.limit }).changes);
  }

  leaderAttemptElect(p: { name: string; leaderId: string; now: Date; ttlMs: number }): Promise<boolean> {
    const now = p.now.getTime();
    return this.#c.write('leaderAttemptElect', () => {
      this.#c.prepare(other.LEADER_ELECT).run({ name: p.name, leaderId: p.leaderId, now, expiresAt: now + p.ttlMs });
      const row = this.#c.prepare(other.LEADER_GET).get(p.name) as { leader_id: string } | undefined;
      return row?.leader_id === p.leaderId;
    });
  }

  async leaderResign(p: { name: string; leaderId: string }): Promise<void> {
    await this.#c.write('leaderResign', () => this.#c.prepare(other.LEADER_RESIGN).run(p));
  }

  // --- circuit breakers ------------------------------------------------------------------------

  breakerGet(p: { taskType: string }): Promise<BreakerState | null> {
    return this.#c.run('breakerGet', () => {
      const row = this.#c.prepare(other.BREAKER_GET).get(p.taskType) as BreakerRow | undefined;
      return row === undefined ? null : rowToBreaker(row);
    });
  }

  breakerList(): Promise<BreakerState[]> {
    return this.#c.run('breakerList', () => (this.#c.prepare(other.BREAKER_LIST).all() as BreakerRow[]).map(rowToBreaker));
  }

  breakerRecord(p: { taskType: string; outcome: 'success' | 'failure'; now: Date; config: BreakerConfig }): Promise<BreakerState> {
    return this.#c.write('breakerRecord', () => {
      const row = this.#c.prepare(other.BREAKER_GET).get(p.taskType) as BreakerRow | undefined;
      const current = row === undefined ? closedBreaker(p.taskType, p.now) : rowToBreaker(row);
      const next = breakerRecord(current, p.outcome, p.now, p.config);
      this.#c.prepare(other.BREAKER_UPSERT).run(breakerParams(next));
      return next;
    });
  }

  breakerReset(p: { taskType: string; now: Date }): Promise<BreakerState> {
    return this.#c.write('breakerReset', () =>
      rowToBreaker(this.#c.prepare(other.BREAKER_RESET).get({ taskType: p.taskType, now: p.now.getTime() }) as BreakerRow),
    );
  }

  async storageStats(_p: { now: Date }): Promise<StorageStats> {
    this.#c.assertOpen();
    let walBytes: number | null = null;
    if (!this.#c.inMemory) {
      try {
        walBytes = statSync(`${this.#c.filename}-wal`).size;
      } catch {
        walBytes = 0; // no WAL file: nothing written since the last checkpoint removed it
      }
    }
    return { tables: [], oldestTransaction: null, walBytes };
  }

  // --- concurrency limits -----------------------------------------------------------------------

  async typeLimitSet(p: { taskType: string; maxRunning: number | null; now: Date; by: string | null }): Promise<TypeLimit | null> {
    this.#limits.invalidate();
    if (p.maxRunning === null) {
      await this.#c.write('typeLimitSet', () => this.#c.prepare(other.TYPE_LIMIT_DELETE).run(p.taskType));
      return null;
    }
    const params = { taskType: p.taskType, maxRunning: p.maxRunning, now: p.now.getTime(), by: p.by };
    return this.#c.write('typeLimitSet', () => rowToTypeLimit(this.#c.prepare(other.TYPE_LIMIT_SET).get(params) as TypeLimitRow));
  }

  typeRunningCounts(): Promise<Record<string, number>> {
    return this.#c.run('typeRunningCounts', () =>
      Object.fromEntries((this.#c.prepare(other.TYPE_RUNNING_COUNTS).all() as { task_type: string; running: number }[]).map((row) => [row.task_type, row.running])),
    );
  }

  typeLimitList(): Promise<TypeLimit[]> {
    return this.#c.run('typeLimitList', () => (this.#c.prepare(other.TYPE_LIMIT_LIST).all() as TypeLimitRow[]).map(rowToTypeLimit));
  }

  // --- paused task types ------------------------------------------------------------------------

  async typePause(p: { taskType: string; now: Date; pausedBy: string | null; reason: string | null }): Promise<TypePause> {
    return this.#c.write('typePause', () =>
      rowToTypePause(this.#c.prepare(other.TYPE_PAUSE).get({ taskType: p.taskType, now: p.now.getTime(), pausedBy: p.pausedBy, reason: p.reason }) as TypePauseRow),
    );
  }

  async typeResume(p: { taskType: string }): Promise<boolean> {
    const resumed = await this.#c.write('typeResume', () => this.#c.prepare(other.TYPE_RESUME).run(p.taskType).changes === 1);
    // Its waiting tasks are due: wake idle workers, as an insert does.
    if (resumed) this.#signal.notify(p.taskType);
    return resumed;
  }

  typePauseList(): Promise<TypePause[]> {
    return this.#c.run('typePauseList', () => (this.#c.prepare(other.TYPE_PAUSE_LIST).all() as TypePauseRow[]).map(rowToTypePause));
  }

  // --- recurring schedules ----------------------------------------------------------------------

  scheduleInsert(p: { schedule: NewSchedule }): Promise<ScheduleRecord> {
    const x = p.schedule;
    return this.#c.write('scheduleInsert', () => {
      try {
        const row = this.#c.prepare(other.SCHEDULE_INSERT).get({
          id: x.id, name: x.name, cron: x.cron, timezone: x.timezone, taskType: x.taskType, template: JSON.stringify(x.template),
          enabled: x.enabled ? 1 : 0, nextRunAt: x.nextRunAt?.getTime() ?? null, createdBy: x.createdBy, createdAt: x.createdAt.getTime(),
        }) as ScheduleRow;
        return rowToSchedule(row);
      } catch (error) {
        if (isUniqueViolation(error)) throw scheduleNameConflict(x.name, error);
        throw error;
      }
    });
  }

  scheduleGet(p: { id: string }): Promise<ScheduleRecord | null> {
    return this.#c.run('scheduleGet', () => {
      const row = this.#c.prepare(other.SCHEDULE_GET).get(p.id) as ScheduleRow | undefined;
      return row === undefined ? null : rowToSchedule(row);
    });
  }

  scheduleList(p: { createdBy?: string }): Promise<ScheduleRecord[]> {
    return this.#c.run('scheduleList', () => (this.#c.prepare(other.SCHEDULE_LIST).all({ createdBy: p.createdBy ?? null }) as ScheduleRow[]).map(rowToSchedule));
  }

  scheduleUpdate(p: { id: string; changes: ScheduleChanges; now: Date }): Promise<ScheduleRecord | null> {
    const c = p.changes;
    return this.#c.write('scheduleUpdate', () => {
      try {
        const row = this.#c.prepare(other.SCHEDULE_UPDATE).get({
          id: p.id, name: c.name ?? null, cron: c.cron ?? null, timezone: c.timezone ?? null, taskType: c.taskType ?? null,
          template: c.template === undefined ? null : JSON.stringify(c.template), enabled: c.enabled === undefined ? null : c.enabled ? 1 : 0,
          setNextRunAt: c.nextRunAt === undefined ? 0 : 1, nextRunAt: c.nextRunAt?.getTime() ?? null, now: p.now.getTime(),
        }) as ScheduleRow | undefined;
        return row === undefined ? null : rowToSchedule(row);
      } catch (error) {
        if (isUniqueViolation(error)) throw scheduleNameConflict(c.name ?? '', error);
        throw error;
      }
    });
  }

  scheduleDelete(p: { id: string }): Promise<boolean> {
    return this.#c.write('scheduleDelete', () => this.#c.prepare(other.SCHEDULE_DELETE).run(p.id).changes === 1);
  }

  scheduleDue(p: { now: Date; limit: number }): Promise<{ due: ScheduleRecord[]; nextRunAt: Date | null }> {
    const limit = Math.max(1, Math.floor(p.limit));
    return this.#c.run('scheduleDue', () => splitDue((this.#c.prepare(other.SCHEDULE_DUE).all(limit + 1) as ScheduleRow[]).map(rowToSchedule), p.now, limit));
  }

  async scheduleFire(p: { id: string; dueAt: Date; nextRunAt: Date | null; task: NewTask; now: Date }): Promise<TaskRecord | null> {
    const results = await this.#c.write('scheduleFire', () => {
      const fenced = this.#c.prepare(other.SCHEDULE_FIRE).run({ id: p.id, dueAt: p.dueAt.getTime(), nextRunAt: p.nextRunAt?.getTime() ?? null, taskId: p.task.id, now: p.now.getTime() });
      return fenced.changes === 1 ? insertTasks([p.task], (text) => this.#c.prepare(text)) : null;
    });
    if (results === null) return null;
    this.#signalInserted(results);
    return results[0]!.task;
  }

  // --- task types and workers ------------------------------------------------------------------

  async typeRegister(p: { type: TaskTypeInfo; now: Date }): Promise<void> {
    const params = {
      name: p.type.name,
      description: p.type.description,
      payloadSchema: p.type.payloadSchema === null ? null : JSON.stringify(p.type.payloadSchema),
      examples: JSON.stringify(p.type.examples),
      timeoutMs: p.type.timeoutMs,
      now: p.now.getTime(),
    };
    await this.#c.write('typeRegister', () => this.#c.prepare(other.TYPE_UPSERT).run(params));
  }

  typeList(): Promise<TaskTypeRecord[]> {
    return this.#c.run('typeList', () => (this.#c.prepare(other.TYPE_LIST).all() as TaskTypeRow[]).map(rowToTaskType));
  }

  async workerHeartbeat(p: { worker: WorkerInfo; now: Date }): Promise<void> {
    const w = p.worker;
    const params = {
      id: w.id,
      host: w.host,
      pid: w.pid,
      concurrency: w.concurrency,
      running: w.running,
      taskTypes: JSON.stringify(w.taskTypes),
      startedAt: w.startedAt.getTime(),
      now: p.now.getTime(),
    };
    await this.#c.write('workerHeartbeat', () => this.#c.prepare(other.WORKER_UPSERT).run(params));
  }

  workerList(): Promise<WorkerRecord[]> {
    return this.#c.run('workerList', () => (this.#c.prepare(other.WORKER_LIST).all() as WorkerRow[]).map(rowToWorker));
  }

  async workerRemove(p: { id: string }): Promise<void> {
    await this.#c.write('workerRemove', () => this.#c.prepare(other.WORKER_DELETE).run(p.id));
  }

  // --- users and sessions ----------------------------------------------------------------------

  async userInsert(p: { user: NewUser }): Promise<UserRecord> {
    const u = p.user;
    const createdAt = u.createdAt.getTime();
    return this.#c.write('userInsert', () => {
      try {
        this.#c.prepare(other.USER_INSERT).run({ id: u.id, username: u.username, email: u.email, passwordHash: u.passwordHash, role: u.role, createdAt });
      } catch (error) {
        if (isUniqueViolation(error)) throw userConflict(error);
        throw error;
      }
      return { ...u, createdAt: new Date(createdAt), isActive: true, updatedAt: new Date(createdAt), lastLoginAt: null };
    });
  }

  userGet(p: { id: string }): Promise<UserRecord | null> {
    return this.#c.run('userGet', () => {
      const row = this.#c.prepare(other.USER_GET).get(p.id) as UserRow | undefined;
      return row === undefined ? null : rowToUser(row);
    });
  }

  userFind(p: { login: string }): Promise<UserRecord | null> {
    return this.#c.run('userFind', () => {
      const row = this.#c.prepare(other.USER_FIND).get({ login: p.login }) as UserRow | undefined;
      return row === undefined ? null : rowToUser(row);
    });
  }

  userList(p: { limit: number; offset: number }): Promise<UserRecord[]> {
    return this.#c.run('userList', () => (this.#c.prepare(other.USER_LIST).all(p.limit, p.offset) as UserRow[]).map(rowToUser));
  }

  userUpdate(p: { id: string; changes: Partial<Pick<UserRecord, 'role' | 'isActive' | 'passwordHash' | 'lastLoginAt'>>; now: Date }): Promise<UserRecord | null> {
    const sets = ['updated_at = @now'];
    const params: Record<string, string | number | null> = { id: p.id, now: p.now.getTime() };
    const { role, isActive, passwordHash, lastLoginAt } = p.changes;
    if (role !== undefined) {
      sets.push('role = @role');
      params.role = role;
    }
    if (isActive !== undefined) {
      sets.push('is_active = @isActive');
      params.isActive = isActive ? 1 : 0;
    }
    if (passwordHash !== undefined) {
      sets.push('password_hash = @passwordHash');
      params.passwordHash = passwordHash;
    }
    if (lastLoginAt !== undefined) {
      sets.push('last_login_at = @lastLoginAt');
      params.lastLoginAt = lastLoginAt === null ? null : lastLoginAt.getTime();
    }
    const text = `UPDATE users SET ${sets.join(', ')} WHERE id = @id RETURNING *`;
    return this.#c.write('userUpdate', () => {
      const row = this.#c.prepare(text).get(params) as UserRow | undefined;
      return row === undefined ? null : rowToUser(row);
    });
  }

  userCount(p: { role?: UserRole }): Promise<number> {
    return this.#c.run('userCount', () => (this.#c.prepare(other.USER_COUNT).get({ role: p.role ?? null }) as { n: number }).n);
  }

  async sessionInsert(p: { session: SessionRecord }): Promise<void> {
    const s = p.session;
    const params = {
      tokenHash: s.tokenHash,
      userId: s.userId,
      createdAt: s.createdAt.getTime(),
      expiresAt: s.expiresAt.getTime(),
      lastRefreshedAt: s.lastRefreshedAt === null ? null : s.lastRefreshedAt.getTime(),
      userAgent: s.userAgent,
    };
    await this.#c.write('sessionInsert', () => {
      try {
        this.#c.prepare(other.SESSION_INSERT).run(params);
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConveyorError(ERROR_CODES.CONFLICT, 'a session with this token already exists', { field: 'tokenHash', cause: error });
        throw error;
      }
    });
  }

  sessionGet(p: { tokenHash: string; now: Date }): Promise<{ session: SessionRecord; user: UserRecord } | null> {
    return this.#c.run('sessionGet', () => {
      const row = this.#c.prepare(other.SESSION_GET).get({ tokenHash: p.tokenHash, now: p.now.getTime() }) as SessionRow | undefined;
      if (row === undefined) return null;
      const user = this.#c.prepare(other.USER_GET).get(row.user_id) as UserRow | undefined;
      return user === undefined ? null : { session: rowToSession(row), user: rowToUser(user) };
    });
  }

  sessionUpdate(p: { tokenHash: string; expiresAt: Date; now: Date }): Promise<boolean> {
    const params = { tokenHash: p.tokenHash, expiresAt: p.expiresAt.getTime(), now: p.now.getTime() };
    return this.#c.write('sessionUpdate', () => this.#c.prepare(other.SESSION_UPDATE).run(params).changes > 0);
  }

  sessionDelete(p: { tokenHash: string }): Promise<boolean> {
    return this.#c.write('sessionDelete', () => this.#c.prepare(other.SESSION_DELETE).run(p.tokenHash).changes > 0);
  }

  sessionDeleteForUser(p: { userId: string }): Promise<number> {
    return this.#c.write('sessionDeleteForUser', () => this.#c.prepare(other.SESSION_DELETE_FOR_USER).run(p.userId).changes);
  }

  sessionPruneExpired(p: { now: Date }): Promise<number> {
    return this.#c.write('sessionPruneExpired', () => this.#c.prepare(other.SESSION_PRUNE).run(p.now.getTime()).changes);
  }

  // --- notifications ---------------------------------------------------------------------------

  async listen(p: { onInsert: (taskType: string | null) => void }): Promise<{ close(): Promise<void> }> {
    this.#c.assertOpen();
    try {
      return this.#signal.listen(p.onInsert);
    } catch (error) {
      throw new ConveyorError(ERROR_CODES.DATABASE_UNAVAILABLE, `cannot watch the SQLite insert signal file: ${(error as Error).message}`, { cause: error });
    }
  }
}

/** Writes tasks with the given statements; an idempotency key already used returns the existing task. */
function insertTasks(tasks: readonly NewTask[], prepare: Prepare): TaskInsertResult[] {
  const insert = prepare(sql.TASK_INSERT);
  const results: TaskInsertResult[] = new Array(tasks.length);
  for (let i = 0; i < tasks.length; i += 1) {
    const task = tasks[i]!;
    if (insert.run(taskInsertParams(task)).changes > 0) {
      results[i] = { task: insertedTask(task), created: true };
      continue;
    }
    const existing = prepare(sql.TASK_BY_IDEMPOTENCY_KEY).get(task.idempotencyKey) as TaskRow | undefined;
    if (existing === undefined) throw new ConveyorError(ERROR_CODES.DATABASE, `task ${task.id} was neither inserted nor found by its idempotency key`);
    results[i] = { task: rowToTask(existing), created: false };
  }
  return results;
}

function asDatabase(tx: unknown): BetterSqlite3.Database {
  const candidate = tx as Partial<BetterSqlite3.Database> | null;
  if (candidate === null || typeof candidate !== 'object' || typeof candidate.prepare !== 'function' || typeof candidate.transaction !== 'function') {
    throw new ConveyorError(ERROR_CODES.VALIDATION, 'tx: on SQLite must be a better-sqlite3 Database of the application', { field: 'tx' });
  }
  if (candidate.open === false) throw new ConveyorError(ERROR_CODES.VALIDATION, 'tx: the better-sqlite3 Database is closed', { field: 'tx' });
  return candidate as BetterSqlite3.Database;
}

function fence(lease: TaskLease): { id: string; attempt: number; workerId: string } {
  return { id: lease.id, attempt: lease.attempt, workerId: lease.workerId };
}

/** `now` as epoch ms for columns, and as ISO text for the attempt history. */
function stamp(now: Date): { now: number; nowIso: string } {
  return { now: now.getTime(), nowIso: now.toISOString() };
}

function scheduleNameConflict(name: string, error: unknown): ConveyorError {
  return new ConveyorError(ERROR_CODES.CONFLICT, `a schedule named ${JSON.stringify(name)} already exists`, { field: 'name', cause: error });
}

function userConflict(error: unknown): ConveyorError {
  const message = error instanceof Error ? error.message : '';
  const field = /email/i.test(message) ? 'email' : /username/i.test(message) ? 'username' : 'id';
  return new ConveyorError(ERROR_CODES.CONFLICT, `a user with this ${field} already exists`, { field, cause: error });
}

import pg from 'pg';
import { breakerRecord as recordBreakerOutcome, type BreakerConfig, type BreakerState } from '../../core/circuit-breaker.ts';
import { ConveyorError, ERROR_CODES, validationError } from '../../core/errors.ts';
import { isUuid } from '../../core/id.ts';
import { silentLogger, type Logger } from '../../core/logger.ts';
import type { NewTask } from '../../core/new-task.ts';
import type { NewSchedule, ScheduleChanges, ScheduleRecord } from '../../core/schedule.ts';
import { DEFAULT_RETRY_STRATEGY, type RetryStrategy } from '../../core/retry-strategy.ts';
import { decideFail, decideRelease, decideRescue, decideUnclaim, wakesWorkers } from '../../core/lifecycle.ts';
import { rescueFacts, rescueList, type ExpiredRow } from '../shared/rescue.ts';
import type { ClaimedTask, JsonValue, TaskLease, TaskRecord, TaskStatus } from '../../core/task.ts';
import { dispatchEngine } from '../dispatch/dispatch-engine.ts';
import type {
  Engine,
  EngineDriver,
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
import { toConveyorError } from './postgres-errors.ts';
import { GroupCommit } from './group-commit.ts';
import { PostgresListener } from './postgres-listener.ts';
import { migratePostgres, postgresMigrationStatus } from './postgres-migrator.ts';
import { insertChannel, postgresSql, type PostgresSql, type Statement } from './postgres-sql.ts';
import { PG_TYPES } from './postgres-types.ts';
import {
  breakerFromRow,
  scheduleFromRow,
  sessionFromRow,
  taskTypeFromRow,
  typeLimitFromRow,
  typePauseFromRow,
  userFromPrefixedRow,
  userFromRow,
  workerFromRow,
  type BreakerRow,
  type PrefixedUserRow,
  type ScheduleRow,
  type SessionRow,
  type TaskTypeRow,
  type TypeLimitRow,
  type TypePauseRow,
  type UserRow,
  type WorkerRow,
} from './record-rows.ts';
import { encodeCursor, taskListQuery } from './task-list-query.ts';
import { claimedTaskFromRow, compareClaimOrder, taskFromRow, type ClaimRow, type TaskRow } from './task-row.ts';
import { insertedTask } from '../shared/inserted-task.ts';
import { splitDue } from '../schedule-due.ts';
import { LIMIT_RECHECK_MS, TypeLimitCache } from '../type-limit-cache.ts';
import { taskStatsFromRows, type StatsCountRow, type StatsTimesRow } from '../shared/task-stats.ts';

export interface PostgresEngineOptions {
  connectionString: string;
  /** The schema that holds Conveyor's tables; created by migrate(). */
  schema: string;
  logger?: Logger;
  /**
   * Connections in the general pool (default 10). A worker's own statements use a second pool of at
   * most 5 (WORKER_POOL_SIZE), opened only when used; LISTEN takes one more.
   */
  poolSize?: number;
}

const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;
const DEFAULT_POOL_SIZE = 10;
/**
 * Connections of the worker pool: its statements are few at a time (two claims, one batch of
 * completions, one heartbeat, one for the rest: upkeep, hand-backs), so a claim never waits for a
 * connection; a failure, a release or a progress report goes through the general pool like any
 * single-row change.
 */
const WORKER_POOL_SIZE = 5;
/** Rows per statement of a large insert batch (see #insertChunks). */
const INSERT_CHUNK_ROWS = 2000;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
/**
 * Completion statements in flight at once; completions arriving meanwhile wait and go together in
 * the next. Measured on 2 cores (bench/tools/drain-profile.ts, 20,000 no-op tasks, concurrency 10):
 * one at a time drained ~45,000/s, two ~50,000/s (the database writes one batch while the next
 * fills), three no better; batches of hundreds beat more concurrent small statements.
 */
const COMPLETE_IN_FLIGHT = 2;
const COMPLETE_MAX_BATCH = 500;
/**
 * Planner settings of the connections that run a worker's statements (claims, heartbeats,
 * completions, upkeep). Those are all index walks: the claim reads tasks_ready_idx in order and
 * stops after LIMIT rows, the others find rows by primary key or walk a partial index. Left to itself
 * the planner picks them only when its statistics are right, and a queue's rarely are: right after a
 * bulk insert, before autovacuum's ANALYZE, it expected one ready row and chose a bitmap scan of every
 * ready row plus a sort (21 ms per claim with 20,000 waiting, against 0.2 ms). With sequential and
 * bitmap scans ruled out, the index walk is the plan whatever the statistics say. Hash and merge
 * joins are ruled out for the same reason: a batch of completions found by primary key is a nested
 * loop, not a hash of every running task. Plans are generic (planned once per connection, without
 * looking at the values): with the values in hand and stale statistics, the planner drove a batch of
 * 450 completions from the lease index (it expected one running task; there were 20,000) and
 * compared every pair, 1.2 s for what the generic plan does in 5 ms. JIT is off: the cost a
 * ruled-out scan is given (the few tiny tables read whole, such as circuit_breakers) would otherwise
 * pass jit_above_cost and compile every claim, 100 ms each. Set once per connection, on its first use
 * (rather than as startup options, which PgBouncer refuses).
 */
const WORKER_PLANNER_SETTINGS =
  'SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_hashjoin = off; SET enable_mergejoin = off; SET plan_cache_mode = force_generic_plan; SET jit = off';

type Queryable = pg.Pool | pg.ClientBase;

interface Completion {
  lease: TaskLease;
  /** Already serialised for `$n::jsonb`. */
  output: string | null;
  now: Date;
}

export function openPostgresEngine(options: PostgresEngineOptions): Engine {
  return dispatchEngine(new PostgresEngine(options), { logger: options.logger });
}

/**
 * The PostgreSQL engine. Hot paths (insert, claim, heartbeat, complete) are one prepared statement
 * each, one round trip; claims never wait on each other (FOR UPDATE SKIP LOCKED). Every "now" comes
 * from the caller. Nothing reads search_path: all SQL names the schema.
 */
class PostgresEngine implements EngineDriver {
  readonly kind = 'postgres' as const;
  readonly capabilities = { skipLocked: true, listenNotify: true, transactionalInsert: true } as const;

  readonly #options: PostgresEngineOptions;
  readonly #pool: pg.Pool;
  /**
   * A worker's statements (hot path, start-up and periodic upkeep), with WORKER_PLANNER_SETTINGS;
   * connects only when used. Kept apart from the general pool so that an idle worker holds one
   * connection open rather than reopening one (itself a transaction) every few seconds.
   */
  readonly #workerPool: pg.Pool;
  /** Worker-pool connections that have WORKER_PLANNER_SETTINGS applied. */
  readonly #tunedClients = new WeakSet<pg.PoolClient>();
  readonly #sql: PostgresSql;
  readonly #logger: Logger;
  readonly #listeners = new Set<PostgresListener>();
  readonly #completions: GroupCommit<Completion, boolean>;
  readonly #limits = new TypeLimitCache(async () => (await this.typeLimitList()).map((limit) => limit.taskType));
  #closing: Promise<void> | null = null;
  /** Set once close() has let the work in flight finish; from then on every call fails CLOSED. */
  #closed = false;

  constructor(options: PostgresEngineOptions) {
    if (!SCHEMA_PATTERN.test(options.schema)) {
      throw new ConveyorError(ERROR_CODES.CONFIG, `PostgreSQL schema ${JSON.stringify(options.schema)} is not a plain lower-case identifier`, { field: 'database.url' });
    }
    this.#options = options;
    this.#logger = (options.logger ?? silentLogger).child({ engine: 'postgres', schema: options.schema });
    this.#sql = postgresSql(options.schema);
    this.#pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? DEFAULT_POOL_SIZE,
      types: PG_TYPES,
      // Without a timeout a call would hang for as long as the server is unreachable.
      connectionTimeoutMillis: 10_000,
      keepAlive: true,
      application_name: 'conveyor',
    });
    // An idle connection that dies (server restart, network) emits 'error' on the pool; unheard, that
    // would crash the process. The pool drops the connection and opens a new one when next needed.
    this.#pool.on('error', (error) => this.#logger.warn({ err: error }, 'idle PostgreSQL connection lost; the pool will replace it'));
    this.#workerPool = new pg.Pool({
      connectionString: options.connectionString,
      max: Math.min(options.poolSize ?? DEFAULT_POOL_SIZE, WORKER_POOL_SIZE),
      types: PG_TYPES,
      connectionTimeoutMillis: 10_000,
      // A worker's periodic statements keep one connection open while it idles (the pool reuses the
      // last released first): reconnecting would cost a start-up transaction each time, and delay
      // the first claim after a quiet spell. Connections a burst needed close after five minutes.
      idleTimeoutMillis: 300_000,
      keepAlive: true,
      application_name: 'conveyor-worker',
    });
    this.#workerPool.on('error', (error) => this.#logger.warn({ err: error }, 'idle PostgreSQL connection lost; the pool will replace it'));
    this.#completions = new GroupCommit({
      send: (batch) => this.#completeBatch(batch),
      keyOf: (completion) => completion.lease.id,
      maxInFlight: COMPLETE_IN_FLIGHT,
      maxBatch: COMPLETE_MAX_BATCH,
    });
  }

  // --- plumbing ---------------------------------------------------------------------------------

  #assertOpen(): void {
    if (this.#closed) throw new ConveyorError(ERROR_CODES.CLOSED, 'the PostgreSQL engine is closed');
  }

  /** Runs one prepared statement on the pool (or on `client`), mapping driver errors. */
  async #run<R extends pg.QueryResultRow = pg.QueryResultRow>(operation: string, statement: Statement, values: unknown[], client: Queryable = this.#pool): Promise<pg.QueryResult<R>> {
    this.#assertOpen();
    if (client === this.#workerPool) return this.#runOnWorkerPool<R>(operation, statement, values);
    try {
      return await client.query<R>({ name: statement.name, text: statement.text, values, types: PG_TYPES });
    } catch (error) {
      throw toConveyorError(error, operation);
    }
  }

  /**
   * Like pool.query on the worker pool, and a connection's first use applies WORKER_PLANNER_SETTINGS
   * (one round trip per connection, not per statement). As with pool.query, a connection on which a
   * statement failed is not reused.
   */
  async #runOnWorkerPool<R extends pg.QueryResultRow>(operation: string, statement: Statement, values: unknown[]): Promise<pg.QueryResult<R>> {
    const { client, release } = await this.#workerConnection(operation);
    try {
      const result = await client.query<R>({ name: statement.name, text: statement.text, values, types: PG_TYPES });
      release();
      return result;
    } catch (error) {
      release(true);
      throw toConveyorError(error, operation);
    }
  }

  /** A transaction on a worker-pool connection, as #transaction on the general pool. */
  async #workerTransaction<T>(operation: string, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    this.#assertOpen();
    return this.#inTransaction(operation, await this.#workerConnection(operation), body);
  }

  /**
   * A worker-pool connection with WORKER_PLANNER_SETTINGS applied, and how to give it back (`destroy`
   * after an error). Checked out, a connection has no 'error' listener of the pool's: unheard, a drop
   * would crash the process, so one is added for the time it is out.
   */
  async #workerConnection(operation: string): Promise<{ client: pg.PoolClient; release(destroy?: boolean): void }> {
    let client: pg.PoolClient;
    try {
      client = await this.#workerPool.connect();
    } catch (error) {
      throw toConveyorError(error, operation);
    }
    const onError = (error: Error) => this.#logger.warn({ err: error, operation }, 'PostgreSQL connection lost while in use');
    client.on('error', onError);
    const release = (destroy = false) => {
      client.removeListener('error', onError);
      client.release(destroy);
    };
    if (!this.#tunedClients.has(client)) {
      try {
        await client.query(WORKER_PLANNER_SETTINGS);
      } catch (error) {
        release(true);
        throw toConveyorError(error, operation);
      }
      this.#tunedClients.add(client);
    }
    return { client, release };
  }

  /** Runs unprepared SQL (text that varies with its filters, such as taskList's). */
  async #runText<R extends pg.QueryResultRow = pg.QueryResultRow>(operation: string, text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    this.#assertOpen();
    try {
      return await this.#pool.query<R>({ text, values, types: PG_TYPES });
    } catch (error) {
      throw toConveyorError(error, operation);
    }
  }

  /**
   * A pooled connection for several statements, and how to give it back (`destroy` after an error:
   * a connection that failed mid-way is not trusted again). While checked out, pg-pool no longer
   * listens for the connection's 'error' event, so we do: unheard, a server restart would crash the
   * process.
   */
  async #connect(operation: string): Promise<{ client: pg.PoolClient; release(destroy?: boolean): void }> {
    this.#assertOpen();
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw toConveyorError(error, operation);
    }
    const onError = (error: Error) => this.#logger.warn({ err: error, operation }, 'PostgreSQL connection lost while in use');
    client.on('error', onError);
    return {
      client,
      release: (destroy = false) => {
        client.removeListener('error', onError);
        client.release(destroy);
      },
    };
  }

  async #transaction<T>(operation: string, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.#inTransaction(operation, await this.#connect(operation), body);
  }

  /** `body` between BEGIN and COMMIT on a checked-out connection; a failure rolls back and drops the connection. */
  async #inTransaction<T>(operation: string, connection: { client: pg.PoolClient; release(destroy?: boolean): void }, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const { client, release } = connection;
    try {
      await client.query('BEGIN');
      const result = await body(client);
      await client.query('COMMIT');
      release();
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      release(true);
      throw toConveyorError(error, operation);
    }
  }

  // --- lifecycle ---------------------------------------------------------------------------------

  async migrate(): Promise<MigrationReport> {
    const { client, release } = await this.#connect('migrate');
    try {
      const report = await migratePostgres(client, this.#options.schema, this.#logger);
      release();
      return report;
    } catch (error) {
      release(true);
      throw toConveyorError(error, 'migrate');
    }
  }

  async migrationStatus(): Promise<MigrationStatus> {
    this.#assertOpen();
    try {
      return await postgresMigrationStatus(this.#pool, this.#options.schema);
    } catch (error) {
      throw toConveyorError(error, 'migrationStatus');
    }
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all([...this.#listeners].map((listener) => listener.close()));
      this.#listeners.clear();
      await this.#completions.drain();
      this.#closed = true;
      await Promise.all([this.#pool.end(), this.#workerPool.end()]);
    })();
    return this.#closing;
  }

  async ping(): Promise<void> {
    await this.#runText('ping', 'SELECT 1', []);
  }

  // --- producers ---------------------------------------------------------------------------------

  async taskInsert(p: { task: NewTask; tx?: unknown }): Promise<TaskInsertResult> {
    const [result] = await this.#insert('taskInsert', [p.task], p.tx);
    return result!;
  }

  async taskInsertMany(p: { tasks: NewTask[]; tx?: unknown }): Promise<TaskInsertResult[]> {
    return this.#insert('taskInsertMany', p.tasks, p.tx);
  }

  /**
   * One INSERT for the batch (a batch of more than INSERT_CHUNK_ROWS without idempotency keys goes in
   * chunks, in one transaction), with ON CONFLICT DO NOTHING when keys are given, then, only for keys
   * that were already taken, one SELECT of the tasks holding them. The records of new tasks are built
   * from what was written, so a batch costs no full-row read back.
   */
  async #insert(operation: string, tasks: NewTask[], tx: unknown): Promise<TaskInsertResult[]> {
    this.#assertOpen();
    if (tasks.length === 0) return [];
    const client = tx === undefined || tx === null ? this.#pool : asClient(tx);
    // The first task of the batch with a key is the one written; later ones with that key get it back.
    const firstWithKey = new Map<string, NewTask>();
    let toWrite: NewTask[] = [];
    tasks.forEach((task) => {
      if (task.idempotencyKey !== null) {
        if (firstWithKey.has(task.idempotencyKey)) return;
        firstWithKey.set(task.idempotencyKey, task);
      }
      toWrite.push(task);
    });

    const created = new Set<string>();
    const holders = new Map<string, TaskRecord>();
    // A key's holder is normally found at once; it can vanish between the two statements only if it
    // was deleted meanwhile, and then the key is free again: write once more.
    for (let round = 0; toWrite.length > 0; round++) {
      if (round === 3) throw new ConveyorError(ERROR_CODES.DATABASE, `${operation}: idempotency keys kept changing hands; try again`);
      if (firstWithKey.size === 0) {
        // No keys: every row is written or the statement fails, so nothing needs reading back.
        if (toWrite.length > INSERT_CHUNK_ROWS) {
          const rows = toWrite;
          await (client === this.#pool ? this.#transaction(operation, (own) => this.#insertChunks(operation, rows, own)) : this.#insertChunks(operation, rows, client));
        } else {
          const statement = toWrite.length === 1 ? this.#sql.taskInsertOnePlain : this.#sql.taskInsertManyPlain;
          await this.#run(operation, statement, toWrite.length === 1 ? insertOneValues(toWrite[0]!) : insertBatch(toWrite), client);
        }
        for (const task of toWrite) created.add(task.id);
        break;
      }
      const statement = toWrite.length === 1 ? this.#sql.taskInsertOne : this.#sql.taskInsertMany;
      const result = await this.#run<{ id: string }>(operation, statement, toWrite.length === 1 ? insertOneValues(toWrite[0]!) : insertBatch(toWrite), client);
      for (const row of result.rows) created.add(row.id);
      const taken = toWrite.filter((task) => !created.has(task.id));
      if (taken.length === 0) break;
      const keys = taken.map((task) => task.idempotencyKey!);
      const { rows } = await this.#run<TaskRow>(operation, this.#sql.taskGetByKeys, [keys], client);
      for (const row of rows) holders.set(row.idempotency_key!, taskFromRow(row));
      toWrite = taken.filter((task) => !holders.has(task.idempotencyKey!));
    }

    return tasks.map((task) => {
      if (created.has(task.id)) return { task: insertedTask(task), created: true };
      const first = firstWithKey.get(task.idempotencyKey!)!;
      if (created.has(first.id)) return { task: insertedTask(first), created: false };
      return { task: holders.get(task.idempotencyKey!)!, created: false };
    });
  }

  /**
   * A large batch as several statements in one transaction, each chunk's parameters built while the
   * database writes the one before: the worker's CPU and the database's overlap instead of taking
   * turns, which is most of what a bulk insert of many thousands costs.
   */
  async #insertChunks(operation: string, tasks: NewTask[], client: Queryable): Promise<void> {
    let writing: Promise<unknown> | null = null;
    for (let start = 0; start < tasks.length; start += INSERT_CHUNK_ROWS) {
      const values = insertBatch(tasks.slice(start, start + INSERT_CHUNK_ROWS));
      await writing;
      writing = this.#run(operation, this.#sql.taskInsertManyPlain, values, client);
    }
    await writing;
  }

  // --- workers -----------------------------------------------------------------------------------

  async taskClaim(p: { workerId: string; taskTypes: readonly string[]; limit: number; now: Date; leaseMs: number }): Promise<ClaimedTask[]> {
    this.#assertOpen();
    if (p.taskTypes.length === 0 || p.limit <= 0) return [];
    const leaseExpiresAt = new Date(p.now.getTime() + p.leaseMs);
    const values = [p.now, p.taskTypes, Math.floor(p.limit), p.workerId, leaseExpiresAt];
    const limited = await this.#limits.limitedAmong(p.taskTypes, p.now);
    if (limited.length > 0) return this.#claimLimited(values, limited);
    const { rows } = await this.#run<ClaimRow>('taskClaim', this.#sql.taskClaim, values, this.#workerPool);
    // UPDATE ... RETURNING does not keep the CTE's order.
    return rows.sort(compareClaimOrder).map(claimedTaskFromRow);
  }

  /**
   * A claim that involves limited types, in one transaction: try each limited type's advisory lock,
   * then claim, counting what runs, and leaving out the limited types another claimer is counting at
   * that moment (it takes their free slots; this claim takes the other types). Nobody waits, so a
   * limit on one type never slows the claims of the others.
   */
  async #claimLimited(values: unknown[], limited: readonly string[]): Promise<ClaimedTask[]> {
    const rows = await this.#workerTransaction('taskClaim', async (client) => {
      const locked = await this.#run<{ busy: string[] | null }>('taskClaim', this.#sql.typeLimitLock, [limited], client);
      return (await this.#run<ClaimRow>('taskClaim', this.#sql.taskClaimLimited, [...values, locked.rows[0]?.busy ?? []], client)).rows;
    });
    const isLimited = new Set(limited);
    return rows.sort(compareClaimOrder).map((row) => {
      const task = claimedTaskFromRow(row);
      if (isLimited.has(task.taskType)) task.limited = true;
      return task;
    });
  }

  async taskNextDueAt(p: { taskTypes: readonly string[]; now: Date }): Promise<Date | null> {
    this.#assertOpen();
    if (p.taskTypes.length === 0) return null;
    const { rows } = await this.#run<{ next_due_at: Date | null }>('taskNextDueAt', this.#sql.taskNextDueAt, [p.now, p.taskTypes], this.#workerPool);
    const next = rows[0]?.next_due_at ?? null;
    // Tasks held back by a limit are due already: look again soon, a slot may free on another worker.
    const limited = await this.#limits.limitedAmong(p.taskTypes, p.now);
    if (limited.length === 0) return next;
    const waiting = await this.#run<{ waiting: boolean }>('taskNextDueAt', this.#sql.typeLimitWaiting, [p.now, limited], this.#workerPool);
    if (!waiting.rows[0]?.waiting) return next;
    const recheck = new Date(p.now.getTime() + LIMIT_RECHECK_MS);
    return next === null || recheck < next ? recheck : next;
  }

  /**
   * Decided as if no cancellation was requested (decideUnclaim), fenced on that; the leases the fence
   * refused for it are tried once more as cancel-requested. One statement unless a cancel came in.
   */
  async taskUnclaim(p: { workerId: string; leases: readonly TaskLease[]; now: Date }): Promise<{ released: string[]; cancelled: string[] }> {
    this.#assertOpen();
    const released: string[] = [];
    const cancelled: string[] = [];
    let pending = p.leases.filter((lease) => lease.workerId === p.workerId && isUuid(lease.id)).sort(byId);
    for (const cancelRequested of [false, true]) {
      if (pending.length === 0) break;
      const statuses = pending.map((lease) => decideUnclaim({ attempt: lease.attempt, cancelRequested }));
      const { rows } = await this.#run<{ id: string; status: TaskStatus }>(
        'taskUnclaim',
        this.#sql.taskUnclaim,
        [pending.map((lease) => lease.id), pending.map((lease) => lease.attempt), statuses, statuses.map((status) => wakesWorkers('unclaim', status)), p.workerId, p.now, cancelRequested],
        this.#workerPool,
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

  async taskHeartbeat(p: { workerId: string; leases: readonly TaskLease[]; now: Date; leaseMs: number; check?: readonly TaskLease[] }): Promise<HeartbeatResult> {
    this.#assertOpen();
    const mine = (lease: TaskLease) => lease.workerId === p.workerId && isUuid(lease.id);
    // In id order, as completions lock them: two statements locking the same rows in different
    // orders could deadlock.
    const renew = p.leases.filter(mine).sort(byId);
    const check = (p.check ?? []).filter(mine);
    const renewed: string[] = [];
    const held = new Set<string>();
    const cancelRequested: string[] = [];
    if (renew.length + check.length > 0) {
      const { rows } = await this.#run<{ id: string; cancel_requested: boolean; renewed: boolean }>(
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
        this.#workerPool,
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

  async taskComplete(p: { lease: TaskLease; output: JsonValue | null; now: Date }): Promise<boolean> {
    this.#assertOpen();
    return this.#completions.submit({ lease: p.lease, output: jsonParam(p.output), now: p.now });
  }

  async #completeBatch(given: Completion[]): Promise<boolean[]> {
    if (given.length === 1) {
      const { lease, output, now } = given[0]!;
      const result = await this.#run('taskComplete', this.#sql.taskComplete, [...fence(lease), output, now], this.#workerPool);
      return [result.rowCount === 1];
    }
    // Rows are locked in id order, as the heartbeat locks them (see taskHeartbeat).
    const batch = [...given].sort((a, b) => byId(a.lease, b.lease));
    const workerId = batch[0]!.lease.workerId;
    const oneWorker = batch.every((c) => c.lease.workerId === workerId);
    const noOutput = batch.every((c) => c.output === null);
    const { rows } = await this.#run<{ id: string }>(
      'taskComplete',
      this.#sql.taskCompleteMany,
      [
        batch.map((c) => c.lease.id),
        batch.map((c) => c.lease.attempt),
        oneWorker ? [workerId] : batch.map((c) => c.lease.workerId),
        noOutput ? [] : batch.map((c) => c.output),
        batch.map((c) => c.now.getTime()),
      ],
      this.#workerPool,
    );
    const applied = new Set(rows.map((row) => row.id));
    return given.map((c) => applied.has(c.lease.id));
  }

  /**
   * Reads the facts under the lease's fence, decides with the lifecycle's rules (decideFail), and writes
   * the decided outcome fenced by the lease and by the cancel request as read. No transaction: while the
   * lease holds nothing else may change the strategy or the attempt counts; a cancel request that comes
   * in between fails the fence, and the engine reads and decides again.
   */
  async taskFail(p: Parameters<Engine['taskFail']>[0]): Promise<TaskFailResult> {
    for (let round = 0; round < 3; round++) {
      const read = await this.#run<{ retry_strategy: RetryStrategy; max_attempts: number; cancel_requested: boolean }>('taskFail', this.#sql.taskFailRead, fence(p.lease));
      const facts = read.rows[0];
      if (!facts) return { applied: false };
      const outcome = decideFail({
        attempt: p.lease.attempt, maxAttempts: facts.max_attempts, strategy: facts.retry_strategy, cancelRequested: facts.cancel_requested,
        permanent: p.permanent === true, now: p.now, random: p.random, minDelayMs: p.minDelayMs,
      });
      const written =
        outcome.status === 'retrying'
          ? await this.#run('taskFail', this.#sql.taskFailRetry, [...fence(p.lease), p.now, outcome.runAt, p.error])
          : await this.#run('taskFail', this.#sql.taskFailFinal, [...fence(p.lease), p.now, outcome.status, p.error, facts.cancel_requested]);
      if (written.rowCount === 1) return { applied: true, ...outcome };
    }
    throw new ConveyorError(ERROR_CODES.DATABASE, 'taskFail: the task kept changing under the lease; try again');
  }

  async taskCancelRunning(p: { lease: TaskLease; now: Date; reason?: string }): Promise<boolean> {
    const result = await this.#run('taskCancelRunning', this.#sql.taskCancelRunning, [...fence(p.lease), p.now, p.reason ?? null]);
    return result.rowCount === 1;
  }

  /** Decided as if no cancellation was requested (decideRelease), fenced on that; if the fence refuses, once more as cancel-requested. */
  async taskRelease(p: { lease: TaskLease; now: Date; until?: Date }): Promise<boolean> {
    for (const cancelRequested of [false, true]) {
      const outcome = decideRelease({ now: p.now, until: p.until ?? null, cancelRequested });
      const { rows } = await this.#run('taskRelease', this.#sql.taskRelease, [
        ...fence(p.lease), p.now, outcome.status, outcome.runAt, outcome.status === 'cancelled' ? p.now : null, outcome.attemptOutcome, cancelRequested,
        wakesWorkers('release', outcome.status),
      ]);
      if (rows.length === 1) return true;
    }
    return false;
  }

  async taskProgress(p: { lease: TaskLease; progress: JsonValue; now: Date }): Promise<boolean> {
    const progress = jsonParam(p.progress);
    const result = await this.#run('taskProgress', this.#sql.taskProgress, [...fence(p.lease), progress, p.now]);
    return result.rowCount === 1;
  }

  // --- operators ---------------------------------------------------------------------------------

  async taskGet(p: { id: string }): Promise<TaskRecord | null> {
    this.#assertOpen();
    const { rows } = await this.#run<TaskRow>('taskGet', this.#sql.taskGet, [p.id]);
    return rows[0] ? taskFromRow(rows[0]) : null;
  }

  async taskList(p: TaskListParams): Promise<TaskListResult> {
    this.#assertOpen();
    const query = taskListQuery(p, this.#sql.schema, this.#sql.taskColumns);
    if (query === null) return { tasks: [], nextCursor: null, total: p.withTotal ? 0 : null };
    const [page, count] = await Promise.all([
      this.#runText<TaskRow>('taskList', query.page.text, query.page.values),
      query.count ? this.#runText<{ count: number }>('taskList', query.count.text, query.count.values) : null,
    ]);
    const rows = page.rows.slice(0, query.limit);
    const more = page.rows.length > query.limit;
    return {
      tasks: rows.map(taskFromRow),
      nextCursor: more ? encodeCursor(rows.at(-1)!.id) : null,
      total: count ? count.rows[0]!.count : null,
    };
  }

  async taskCancel(p: { id: string; now: Date }): Promise<{ outcome: 'cancelled' | 'cancel_requested' | 'not_cancellable' | 'not_found'; task: TaskRecord | null }> {
    this.#assertOpen();
    const { rows } = await this.#run<TaskRow>('taskCancel', this.#sql.taskCancel, [p.id, p.now]);
    const row = rows[0];
    if (row) return { outcome: row.status === 'cancelled' ? 'cancelled' : 'cancel_requested', task: taskFromRow(row) };
    const task = await this.taskGet({ id: p.id });
    return { outcome: task ? 'not_cancellable' : 'not_found', task };
  }

  async taskRetry(p: { id: string; now: Date }): Promise<{ outcome: 'retried' | 'not_retryable' | 'not_found'; task: TaskRecord | null }> {
    this.#assertOpen();
    const { rows } = await this.#run<TaskRow>('taskRetry', this.#sql.taskRetry, [p.id, p.now, wakesWorkers('retry', 'pending')]);
    if (rows[0]) return { outcome: 'retried', task: taskFromRow(rows[0]) };
    const task = await this.taskGet({ id: p.id });
    return { outcome: task ? 'not_retryable' : 'not_found', task };
  }

  async taskDelete(p: { id: string }): Promise<'deleted' | 'not_finished' | 'not_found'> {
    this.#assertOpen();
    const deleted = await this.#run('taskDelete', this.#sql.taskDelete, [p.id]);
    if (deleted.rowCount === 1) return 'deleted';
    const { rows } = await this.#run('taskDelete', this.#sql.taskStatus, [p.id]);
    return rows.length ? 'not_finished' : 'not_found';
  }

  async taskStats(p: { now: Date; createdBy?: string }): Promise<TaskStats> {
    this.#assertOpen();
    const owner = p.createdBy !== undefined;
    const ownerValue = owner ? [p.createdBy] : [];
    const now = p.now.getTime();
    // Two statements at once, on two connections: the GROUP BY, and the timings (each off a partial index).
    const [counts, times] = await Promise.all([
      this.#run<StatsCountRow>('taskStats', this.#sql.taskStatsCounts(owner), ownerValue),
      this.#run<StatsTimesRow>('taskStats', this.#sql.taskStatsTimes(owner), [p.now, new Date(now - MINUTE_MS), new Date(now - HOUR_MS), ...ownerValue]),
    ]);
    return taskStatsFromRows(counts.rows, times.rows[0]!, p.now);
  }

  // --- maintenance -------------------------------------------------------------------------------

  /**
   * Reads the expired leases, decides each with the lifecycle's rules (decideRescue), and writes the
   * decisions in one statement, each fenced by what was read: a row that changed meanwhile is left
   * for the next round.
   */
  async taskRescueExpired(p: { now: Date; maxRescues: number; limit: number }): Promise<RescueResult> {
    this.#assertOpen();
    const result: RescueResult = { retried: [], deadLettered: [], cancelled: [] };
    if (p.limit <= 0) return result;
    const expired = await this.#run<ExpiredRow>('taskRescueExpired', this.#sql.taskExpired, [p.now, Math.floor(p.limit)], this.#workerPool);
    if (expired.rows.length === 0) return result;
    const decided = expired.rows.map((row) => ({ row, outcome: decideRescue(rescueFacts(row, p.maxRescues)) }));
    const { rows } = await this.#run<{ id: string; status: TaskStatus }>(
      'taskRescueExpired',
      this.#sql.taskRescue,
      [
        p.now,
        decided.map((d) => d.row.id),
        decided.map((d) => d.row.rescue_count),
        decided.map((d) => d.row.cancel_requested),
        decided.map((d) => d.outcome.status),
        decided.map((d) => d.outcome.message),
        decided.map((d) => wakesWorkers('rescue', d.outcome.status)),
      ],
      this.#workerPool,
    );
    const rescued = new Set(rows.map((row) => row.id));
    for (const { row, outcome } of decided) if (rescued.has(row.id)) rescueList(result, outcome.status).push(row.id);
    return result;
  }

  async taskPrune(p: { finishedBefore: Date; limit: number }): Promise<number> {
    this.#assertOpen();
    if (p.limit <= 0) return 0;
    const result = await this.#run('taskPrune', this.#sql.taskPrune, [p.finishedBefore, Math.floor(p.limit)], this.#workerPool);
    return result.rowCount ?? 0;
  }

  async leaderAttemptElect(p: { name: string; leaderId: string; now: Date; ttlMs: number }): Promise<boolean> {
    const expiresAt = new Date(p.now.getTime() + p.ttlMs);
    const result = await this.#run('leaderAttemptElect', this.#sql.leaderAttemptElect, [p.name, p.leaderId, expiresAt, p.now], this.#workerPool);
    return result.rowCount === 1;
  }

  async leaderResign(p: { name: string; leaderId: string }): Promise<void> {
    await this.#run('leaderResign', this.#sql.leaderResign, [p.name, p.leaderId], this.#workerPool);
  }

  // --- circuit breakers --------------------------------------------------------------------------

  async breakerGet(p: { taskType: string }): Promise<BreakerState | null> {
    const { rows } = await this.#run<BreakerRow>('breakerGet', this.#sql.breakerGet, [p.taskType], this.#workerPool);
    return rows[0] ? breakerFromRow(rows[0]) : null;
  }

  async breakerList(): Promise<BreakerState[]> {
    const { rows } = await this.#run<BreakerRow>('breakerList', this.#sql.breakerList, [], this.#workerPool);
    return rows.map(breakerFromRow);
  }

  /**
   * Workers record every outcome, so the common case, a success while the breaker is closed with no
   * failures counted, changes nothing and is only read: all workers of a type completing tasks would
   * otherwise queue on this one row's lock. Everything else locks the row, computes with the core's
   * rules and writes, in one transaction, so concurrent failures are all counted.
   */
  async breakerRecord(p: { taskType: string; outcome: 'success' | 'failure'; now: Date; config: BreakerConfig }): Promise<BreakerState> {
    if (p.outcome === 'success') {
      const current = await this.breakerGet({ taskType: p.taskType });
      if (current && current.state === 'closed' && current.consecutiveFailures === 0 && current.consecutiveSuccesses === 0) return current;
    }
    return this.#transaction('breakerRecord', async (client) => {
      let row = (await client.query<BreakerRow>({ ...this.#sql.breakerLock, values: [p.taskType], types: PG_TYPES })).rows[0];
      if (!row) {
        // Create the closed row first so that there is a row to lock; a racing creator is harmless.
        await client.query({ ...this.#sql.breakerCreate, values: [p.taskType, p.now], types: PG_TYPES });
        row = (await client.query<BreakerRow>({ ...this.#sql.breakerLock, values: [p.taskType], types: PG_TYPES })).rows[0]!;
      }
      const next = recordBreakerOutcome(breakerFromRow(row), p.outcome, p.now, p.config);
      await client.query({
        ...this.#sql.breakerSave,
        values: [next.taskType, next.state, next.consecutiveFailures, next.consecutiveSuccesses, next.openedAt, next.reopensAt, next.updatedAt],
        types: PG_TYPES,
      });
      return next;
    });
  }

  async breakerReset(p: { taskType: string; now: Date }): Promise<BreakerState> {
    const { rows } = await this.#run<BreakerRow>('breakerReset', this.#sql.breakerReset, [p.taskType, p.now]);
    return breakerFromRow(rows[0]!);
  }

  async storageStats(p: { now: Date }): Promise<StorageStats> {
    const [tables, oldest] = await Promise.all([
      this.#run<{ name: string; live_rows: string; dead_rows: string; last_vacuum_at: Date | null }>('storageStats', this.#sql.storageTables, [], this.#workerPool),
      this.#run<{ pid: number; application_name: string; state: string | null; age_ms: string }>('storageStats', this.#sql.storageOldestTransaction, [p.now], this.#workerPool),
    ]);
    const row = oldest.rows[0];
    return {
      tables: tables.rows.map((t) => ({ name: t.name, liveRows: Number(t.live_rows), deadRows: Number(t.dead_rows), lastVacuumAt: t.last_vacuum_at })),
      oldestTransaction: row ? { ageMs: Math.max(0, Math.round(Number(row.age_ms))), pid: row.pid, application: row.application_name, state: row.state ?? 'unknown' } : null,
      walBytes: null,
    };
  }

  // --- concurrency limits ------------------------------------------------------------------------

  async typeLimitSet(p: { taskType: string; maxRunning: number | null; now: Date; by: string | null }): Promise<TypeLimit | null> {
    this.#assertOpen();
    this.#limits.invalidate();
    if (p.maxRunning === null) {
      await this.#run('typeLimitSet', this.#sql.typeLimitDelete, [p.taskType]);
      return null;
    }
    const { rows } = await this.#run<TypeLimitRow>('typeLimitSet', this.#sql.typeLimitSet, [p.taskType, p.maxRunning, p.now, p.by]);
    return typeLimitFromRow(rows[0]!);
  }

  async typeRunningCounts(): Promise<Record<string, number>> {
    const { rows } = await this.#run<{ task_type: string; running: number }>('typeRunningCounts', this.#sql.typeRunningCounts, []);
    return Object.fromEntries(rows.map((row) => [row.task_type, row.running]));
  }

  async typeLimitList(): Promise<TypeLimit[]> {
    const { rows } = await this.#run<TypeLimitRow>('typeLimitList', this.#sql.typeLimitList, [], this.#workerPool);
    return rows.map(typeLimitFromRow);
  }

  // --- paused task types -------------------------------------------------------------------------

  async typePause(p: { taskType: string; now: Date; pausedBy: string | null; reason: string | null }): Promise<TypePause> {
    const { rows } = await this.#run<TypePauseRow>('typePause', this.#sql.typePause, [p.taskType, p.now, p.pausedBy, p.reason]);
    return typePauseFromRow(rows[0]!);
  }

  async typeResume(p: { taskType: string }): Promise<boolean> {
    const { rows } = await this.#run('typeResume', this.#sql.typeResume, [p.taskType]);
    return rows.length === 1;
  }

  async typePauseList(): Promise<TypePause[]> {
    const { rows } = await this.#run<TypePauseRow>('typePauseList', this.#sql.typePauseList, [], this.#workerPool);
    return rows.map(typePauseFromRow);
  }

  // --- recurring schedules -----------------------------------------------------------------------

  async scheduleInsert(p: { schedule: NewSchedule }): Promise<ScheduleRecord> {
    const { schedule: x } = p;
    const { rows } = await this.#run<ScheduleRow>('scheduleInsert', this.#sql.scheduleInsert, [
      x.id, x.name, x.cron, x.timezone, x.taskType, JSON.stringify(x.template), x.enabled, x.nextRunAt, x.createdBy, x.createdAt,
    ]);
    return scheduleFromRow(rows[0]!);
  }

  async scheduleGet(p: { id: string }): Promise<ScheduleRecord | null> {
    this.#assertOpen();
    const { rows } = await this.#run<ScheduleRow>('scheduleGet', this.#sql.scheduleGet, [p.id]);
    return rows[0] ? scheduleFromRow(rows[0]) : null;
  }

  async scheduleList(p: { createdBy?: string }): Promise<ScheduleRecord[]> {
    this.#assertOpen();
    const { rows } = await this.#run<ScheduleRow>('scheduleList', this.#sql.scheduleList, [p.createdBy ?? null]);
    return rows.map(scheduleFromRow);
  }

  async scheduleUpdate(p: { id: string; changes: ScheduleChanges; now: Date }): Promise<ScheduleRecord | null> {
    this.#assertOpen();
    const { changes: c } = p;
    const { rows } = await this.#run<ScheduleRow>('scheduleUpdate', this.#sql.scheduleUpdate, [
      p.id, c.name ?? null, c.cron ?? null, c.timezone ?? null, c.taskType ?? null, c.template === undefined ? null : JSON.stringify(c.template),
      c.enabled ?? null, c.nextRunAt !== undefined, c.nextRunAt ?? null, p.now,
    ]);
    return rows[0] ? scheduleFromRow(rows[0]) : null;
  }

  async scheduleDelete(p: { id: string }): Promise<boolean> {
    this.#assertOpen();
    const result = await this.#run('scheduleDelete', this.#sql.scheduleDelete, [p.id]);
    return result.rowCount === 1;
  }

  async scheduleDue(p: { now: Date; limit: number }): Promise<{ due: ScheduleRecord[]; nextRunAt: Date | null }> {
    const limit = Math.max(1, Math.floor(p.limit));
    const { rows } = await this.#run<ScheduleRow>('scheduleDue', this.#sql.scheduleDue, [limit + 1], this.#workerPool);
    return splitDue(rows.map(scheduleFromRow), p.now, limit);
  }

  async scheduleFire(p: { id: string; dueAt: Date; nextRunAt: Date | null; task: NewTask; now: Date }): Promise<TaskRecord | null> {
    return this.#transaction('scheduleFire', async (client) => {
      const fenced = await this.#run('scheduleFire', this.#sql.scheduleFire, [p.id, p.dueAt, p.nextRunAt, p.task.id, p.now], client);
      if (fenced.rowCount !== 1) return null;
      const [result] = await this.#insert('scheduleFire', [p.task], client);
      return result!.task;
    });
  }

  // --- task types and workers --------------------------------------------------------------------

  async typeRegister(p: { type: TaskTypeInfo; now: Date }): Promise<void> {
    const { type } = p;
    await this.#run(
      'typeRegister',
      this.#sql.typeRegister,
      [type.name, type.description, type.payloadSchema === null ? null : JSON.stringify(type.payloadSchema), JSON.stringify(type.examples), type.timeoutMs, p.now],
      this.#workerPool,
    );
  }

  async typeList(): Promise<TaskTypeRecord[]> {
    const { rows } = await this.#run<TaskTypeRow>('typeList', this.#sql.typeList, []);
    return rows.map(taskTypeFromRow);
  }

  async workerHeartbeat(p: { worker: WorkerInfo; now: Date }): Promise<void> {
    const { worker } = p;
    await this.#run(
      'workerHeartbeat',
      this.#sql.workerHeartbeat,
      [worker.id, worker.host, worker.pid, worker.concurrency, worker.running, JSON.stringify(worker.taskTypes), worker.startedAt, p.now],
      this.#workerPool,
    );
  }

  async workerList(): Promise<WorkerRecord[]> {
    const { rows } = await this.#run<WorkerRow>('workerList', this.#sql.workerList, [], this.#workerPool);
    return rows.map(workerFromRow);
  }

  async workerRemove(p: { id: string }): Promise<void> {
    await this.#run('workerRemove', this.#sql.workerRemove, [p.id], this.#workerPool);
  }

  // --- users and sessions ------------------------------------------------------------------------

  async userInsert(p: { user: NewUser }): Promise<UserRecord> {
    const { user } = p;
    const { rows } = await this.#run<UserRow>('userInsert', this.#sql.userInsert, [user.id, user.username, user.email, user.passwordHash, user.role, user.createdAt]);
    return userFromRow(rows[0]!);
  }

  async userGet(p: { id: string }): Promise<UserRecord | null> {
    this.#assertOpen();
    const { rows } = await this.#run<UserRow>('userGet', this.#sql.userGet, [p.id]);
    return rows[0] ? userFromRow(rows[0]) : null;
  }

  async userFind(p: { login: string }): Promise<UserRecord | null> {
    const { rows } = await this.#run<UserRow>('userFind', this.#sql.userFind, [p.login]);
    return rows[0] ? userFromRow(rows[0]) : null;
  }

  async userList(p: { limit: number; offset: number }): Promise<UserRecord[]> {
    const { rows } = await this.#run<UserRow>('userList', this.#sql.userList, [Math.max(0, Math.floor(p.limit)), Math.max(0, Math.floor(p.offset))]);
    return rows.map(userFromRow);
  }

  async userUpdate(p: { id: string; changes: Partial<Pick<UserRecord, 'role' | 'isActive' | 'passwordHash' | 'lastLoginAt'>>; now: Date }): Promise<UserRecord | null> {
    this.#assertOpen();
    const { changes } = p;
    const { rows } = await this.#run<UserRow>('userUpdate', this.#sql.userUpdate, [
      p.id,
      changes.role ?? null,
      changes.isActive ?? null,
      changes.passwordHash ?? null,
      changes.lastLoginAt !== undefined,
      changes.lastLoginAt ?? null,
      p.now,
    ]);
    return rows[0] ? userFromRow(rows[0]) : null;
  }

  async userCount(p: { role?: UserRole }): Promise<number> {
    const { rows } = await this.#run<{ count: number }>('userCount', this.#sql.userCount, [p.role ?? null]);
    return rows[0]!.count;
  }

  async sessionInsert(p: { session: SessionRecord }): Promise<void> {
    const { session } = p;
    await this.#run('sessionInsert', this.#sql.sessionInsert, [session.tokenHash, session.userId, session.createdAt, session.expiresAt, session.lastRefreshedAt, session.userAgent]);
  }

  async sessionGet(p: { tokenHash: string; now: Date }): Promise<{ session: SessionRecord; user: UserRecord } | null> {
    const { rows } = await this.#run<SessionRow & PrefixedUserRow>('sessionGet', this.#sql.sessionGet, [p.tokenHash, p.now]);
    const row = rows[0];
    return row ? { session: sessionFromRow(row), user: userFromPrefixedRow(row) } : null;
  }

  async sessionUpdate(p: { tokenHash: string; expiresAt: Date; now: Date }): Promise<boolean> {
    const result = await this.#run('sessionUpdate', this.#sql.sessionUpdate, [p.tokenHash, p.expiresAt, p.now]);
    return result.rowCount === 1;
  }

  async sessionDelete(p: { tokenHash: string }): Promise<boolean> {
    const result = await this.#run('sessionDelete', this.#sql.sessionDelete, [p.tokenHash]);
    return result.rowCount === 1;
  }

  async sessionDeleteForUser(p: { userId: string }): Promise<number> {
    this.#assertOpen();
    const result = await this.#run('sessionDeleteForUser', this.#sql.sessionDeleteForUser, [p.userId]);
    return result.rowCount ?? 0;
  }

  async sessionPruneExpired(p: { now: Date }): Promise<number> {
    const result = await this.#run('sessionPruneExpired', this.#sql.sessionPruneExpired, [p.now]);
    return result.rowCount ?? 0;
  }

  // --- notifications -----------------------------------------------------------------------------

  async listen(p: { onInsert: (taskType: string | null) => void }): Promise<{ close(): Promise<void> }> {
    if (this.#closing) throw new ConveyorError(ERROR_CODES.CLOSED, 'the PostgreSQL engine is closed');
    const listener = new PostgresListener({
      clientConfig: { connectionString: this.#options.connectionString, keepAlive: true, connectionTimeoutMillis: 10_000, application_name: 'conveyor-listener' },
      channel: insertChannel(this.#options.schema),
      logger: this.#logger,
      onInsert: p.onInsert,
    });
    try {
      await listener.start();
    } catch (error) {
      throw toConveyorError(error, 'listen');
    }
    if (this.#closing) {
      await listener.close();
      throw new ConveyorError(ERROR_CODES.CLOSED, 'the PostgreSQL engine is closed');
    }
    this.#listeners.add(listener);
    return {
      close: async () => {
        this.#listeners.delete(listener);
        await listener.close();
      },
    };
  }
}

// --- helpers ---------------------------------------------------------------------------------------

/** The application's own client for a transactional insert: anything with pg's `query`. */
function asClient(tx: unknown): pg.ClientBase {
  if (typeof tx === 'object' && typeof (tx as { query?: unknown }).query === 'function') return tx as pg.ClientBase;
  throw validationError('tx', 'must be a pg client (pg.Client or a pooled client) with a transaction open');
}

function byId(a: TaskLease, b: TaskLease): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The first three parameters of every fenced statement. */
function fence(lease: TaskLease): [string, number, string] {
  return [lease.id, lease.attempt, lease.workerId];
}

/** A JSON value (checked by the dispatch layer) as a `$n::jsonb` parameter; null (or undefined from a handler) is SQL NULL. */
function jsonParam(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

/** The parameters of taskInsertOne / taskInsertOnePlain. */
function insertOneValues(t: NewTask): unknown[] {
  return [t.id, t.taskType, t.payloadJson, t.status, t.priorityRank, t.retryStrategyJson, t.maxAttempts, t.metadataJson, t.idempotencyKey, t.createdBy, t.createdAt, t.scheduledAt, t.runAt];
}

/** The default strategy as taskInsertMany's $3: rows that use it send null. */
const DEFAULT_STRATEGY_JSON = JSON.stringify(DEFAULT_RETRY_STRATEGY);

/**
 * A batch as the parameters of taskInsertMany: one compact JSON array of arrays (the positions are
 * listed with the SQL), the batch's creation time, and the default strategy. The JSON of payload,
 * strategy and metadata was made once by newTask and is spliced in as it is; what most rows share
 * is left out of them (null), so 5,000 tasks are a fifth of the bytes to send and parse.
 */
function insertBatch(tasks: NewTask[]): unknown[] {
  const createdAt = tasks[0]!.createdAt;
  const createdMs = createdAt.getTime();
  const parts = new Array<string>(tasks.length);
  for (let i = 0; i < tasks.length; i++) {
    const t = tasks[i]!;
    const ownCreated = t.createdAt.getTime() !== createdMs;
    const strategy = t.retryStrategyJson === DEFAULT_STRATEGY_JSON ? 'null' : t.retryStrategyJson;
    const metadata = t.metadataJson === '{}' ? 'null' : t.metadataJson;
    const scheduled = t.scheduledAt === null ? 'null' : `"${t.scheduledAt.toISOString()}"`;
    // run_at is the schedule, or else the creation time: sent only when it is neither.
    const runAtMs = t.runAt.getTime();
    const runAt = runAtMs === (t.scheduledAt === null ? t.createdAt.getTime() : t.scheduledAt.getTime()) ? 'null' : `"${t.runAt.toISOString()}"`;
    parts[i] =
      `["${t.id}",${JSON.stringify(t.taskType)},${t.payloadJson},"${t.status}",${t.priorityRank},${strategy},${t.maxAttempts},${metadata},` +
      `${t.idempotencyKey === null ? 'null' : JSON.stringify(t.idempotencyKey)},${t.createdBy === null ? 'null' : JSON.stringify(t.createdBy)},` +
      `${ownCreated ? `"${t.createdAt.toISOString()}"` : 'null'},${scheduled},${runAt}]`;
  }
  return [`[${parts.join(',')}]`, createdAt, DEFAULT_STRATEGY_JSON];
}


import pg from 'pg';
import { ConveyorError, ERROR_CODES } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { TypeLimitCache } from '../type-limit-cache.ts';
import { toConveyorError } from './postgres-errors.ts';
import { PG_TYPES } from './postgres-types.ts';
import { sqlContext, type SqlContext, type Statement } from './sql-parts.ts';

export interface PostgresConnectionOptions {
  connectionString: string;
  /** The schema that holds Conveyor's tables; created by migrate(). */
  schema: string;
  logger: Logger;
  /**
   * Connections in the general pool (default 10). A worker's own statements use a second pool of at
   * most 5 (WORKER_POOL_SIZE), opened only when used; LISTEN takes one more.
   */
  poolSize?: number | undefined;
}

/** Runs a statement on the worker pool (see PostgresConnection.run). */
export const WORKER = Symbol('worker pool');

export type Queryable = pg.Pool | pg.ClientBase;

const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;
const DEFAULT_POOL_SIZE = 10;
/**
 * Connections of the worker pool: its statements are few at a time (two claims, one batch of
 * completions, one heartbeat, one for the rest: upkeep, hand-backs), so a claim never waits for a
 * connection; a failure, a release or a progress report goes through the general pool like any
 * single-row change.
 */
const WORKER_POOL_SIZE = 5;
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
 * pass jit_above_cost and compile every claim, 100 ms each. No parallel workers either: a generic
 * plan guesses a third of the table for a range whose bound it cannot see (the stats' finished tasks
 * since rolled_through), and starting two workers for each of those index walks of a few hundred
 * entries cost the stats 41 ms at 2.8 million tasks. Sorts are ruled out too (where one is the only
 * way, it still happens): an ORDER BY ... LIMIT that an index can serve is then walked in that
 * index's order instead of read whole from another index and sorted, which stale statistics chose for
 * the fair-share probe (20 ms per claim with 20,000 waiting). Set once per connection, on its first use
 * (rather than as startup options, which PgBouncer refuses).
 */
export const WORKER_PLANNER_SETTINGS =
  'SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_hashjoin = off; SET enable_mergejoin = off; SET plan_cache_mode = force_generic_plan; SET jit = off; SET max_parallel_workers_per_gather = 0; SET enable_sort = off';

/**
 * The plumbing every PostgreSQL operation shares: two pools (general, and the worker's with planner
 * settings of its own), prepared statements run with driver errors mapped to ConveyorError,
 * transactions, the closed state, and the schema's SQL context. Operations live in the files named
 * after their concern (insert.ts, claim.ts, ...), each with its SQL.
 */
export class PostgresConnection {
  readonly options: PostgresConnectionOptions;
  readonly sql: SqlContext;
  readonly logger: Logger;
  /** Which task types have a concurrency limit; its loader is set by the engine (type-controls). */
  limits!: TypeLimitCache;
  readonly #pool: pg.Pool;
  /**
   * A worker's statements (hot path, start-up and periodic upkeep), with WORKER_PLANNER_SETTINGS;
   * connects only when used. Kept apart from the general pool so that an idle worker holds one
   * connection open rather than reopening one (itself a transaction) every few seconds.
   */
  readonly #workerPool: pg.Pool;
  /** Worker-pool connections that have WORKER_PLANNER_SETTINGS applied. */
  readonly #tunedClients = new WeakSet<pg.PoolClient>();
  /** Set once close() has let the work in flight finish; from then on every call fails CLOSED. */
  #closed = false;

  constructor(options: PostgresConnectionOptions) {
    if (!SCHEMA_PATTERN.test(options.schema)) {
      throw new ConveyorError(ERROR_CODES.CONFIG, `PostgreSQL schema ${JSON.stringify(options.schema)} is not a plain lower-case identifier`, { field: 'database.url' });
    }
    this.options = options;
    this.logger = options.logger;
    this.sql = sqlContext(options.schema);
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
    this.#pool.on('error', (error) => this.logger.warn({ err: connectionError(error) }, 'idle PostgreSQL connection lost; the pool will replace it'));
    this.#pool.on('connect', (client) => this.#hearLostConnection(client));
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
    this.#workerPool.on('error', (error) => this.logger.warn({ err: connectionError(error) }, 'idle PostgreSQL connection lost; the pool will replace it'));
    this.#workerPool.on('connect', (client) => this.#hearLostConnection(client));
  }

  /**
   * pg-pool listens for a connection's 'error' only while it idles, and ours below only while it is
   * checked out; a 57P01 (server shutting down) can land between the two, and an 'error' nobody hears
   * crashes the process. This listener lives as long as the connection; the pool replaces it.
   */
  #hearLostConnection(client: pg.PoolClient): void {
    client.on('error', (error) => this.logger.debug({ err: connectionError(error) }, 'PostgreSQL connection error'));
  }

  /** The general pool, for an operation's own transaction-less statements. */
  get pool(): pg.Pool {
    return this.#pool;
  }

  /** Ends both pools; calls from then on fail CLOSED. A long statement of runCancellable's is cancelled first. */
  async end(): Promise<void> {
    this.#closed = true;
    if (this.#cancellable.size > 0) {
      await this.#pool.query('SELECT pg_cancel_backend(pid) FROM unnest($1::int[]) AS pid', [[...this.#cancellable]]).catch(() => undefined);
    }
    await Promise.all([this.#pool.end(), this.#workerPool.end()]);
  }

  /** Backend pids running a statement of runCancellable's. */
  readonly #cancellable = new Set<number>();

  /**
   * Runs one long, parameterless statement outside any transaction (VACUUM) on a pooled connection of
   * its own; end() cancels it rather than waiting for it.
   */
  async runCancellable(operation: string, text: string): Promise<void> {
    const { client, release } = await this.connect(operation);
    const pid = (client as pg.PoolClient & { processID?: number }).processID;
    if (pid !== undefined) this.#cancellable.add(pid);
    try {
      await client.query(text);
      release();
    } catch (error) {
      release(true);
      throw toConveyorError(error, operation);
    } finally {
      if (pid !== undefined) this.#cancellable.delete(pid);
    }
  }

  assertOpen(): void {
    if (this.#closed) throw new ConveyorError(ERROR_CODES.CLOSED, 'the PostgreSQL engine is closed');
  }

  /** Runs one prepared statement on the pool (or on `client`), mapping driver errors. */
  async run<R extends pg.QueryResultRow = pg.QueryResultRow>(operation: string, statement: Statement, values: unknown[], client: Queryable | typeof WORKER = this.#pool): Promise<pg.QueryResult<R>> {
    this.assertOpen();
    if (client === WORKER) return this.#runOnWorkerPool<R>(operation, statement, values);
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
  async workerTransaction<T>(operation: string, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    this.assertOpen();
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
    const onError = (error: Error) => this.logger.warn({ err: connectionError(error), operation }, 'PostgreSQL connection lost while in use');
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
  async runText<R extends pg.QueryResultRow = pg.QueryResultRow>(operation: string, text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    this.assertOpen();
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
  async connect(operation: string): Promise<{ client: pg.PoolClient; release(destroy?: boolean): void }> {
    this.assertOpen();
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw toConveyorError(error, operation);
    }
    const onError = (error: Error) => this.logger.warn({ err: connectionError(error), operation }, 'PostgreSQL connection lost while in use');
    client.on('error', onError);
    return {
      client,
      release: (destroy = false) => {
        client.removeListener('error', onError);
        client.release(destroy);
      },
    };
  }

  async transaction<T>(operation: string, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.#inTransaction(operation, await this.connect(operation), body);
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
}

/** What a log line needs of a driver error: pg attaches the whole client (with its cancel key) to it. */
function connectionError(error: Error): { type: string; message: string; code?: string } {
  const code = (error as { code?: unknown }).code;
  return { type: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
}

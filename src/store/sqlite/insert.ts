import type BetterSqlite3 from 'better-sqlite3';
import { ConveyorError, ERROR_CODES } from '../../core/errors.ts';
import type { NewTask } from '../../core/new-task.ts';
import type { EngineTransaction, TaskInsertResult } from '../engine.ts';
import { insertedTask } from '../shared/inserted-task.ts';
import type { InsertSignal } from './insert-signal.ts';
import type { Prepare } from './sql-parts.ts';
import type { SqliteConnection } from './sqlite-connection.ts';
import { translateSqliteError } from './sqlite-errors.ts';
import { rowToTask, taskInsertParams, type TaskRow } from './task-row.ts';

/** Producers: one task or a batch, in the engine's own transaction or the application's. */
export class InsertStore {
  readonly #c: SqliteConnection;
  readonly #signal: InsertSignal;

  constructor(c: SqliteConnection, signal: InsertSignal) {
    this.#c = c;
    this.#signal = signal;
  }

  taskInsert(p: { task: NewTask; tx?: EngineTransaction | null }): Promise<TaskInsertResult> {
    if (p.tx !== undefined && p.tx !== null) return this.#insertOnApplicationConnection([p.task], p.tx).then((results) => results[0]!);
    return this.#insertOwn([p.task], 'taskInsert').then((results) => results[0]!);
  }

  taskInsertMany(p: { tasks: NewTask[]; tx?: EngineTransaction | null }): Promise<TaskInsertResult[]> {
    if (p.tx !== undefined && p.tx !== null) return this.#insertOnApplicationConnection(p.tasks, p.tx);
    if (p.tasks.length === 0) return Promise.resolve([]);
    return this.#insertOwn(p.tasks, 'taskInsertMany');
  }

  async #insertOwn(tasks: NewTask[], operation: string): Promise<TaskInsertResult[]> {
    const results = await this.#c.write(operation, () => insertTasks(tasks, (text) => this.#c.prepare(text)));
    this.signalInserted(results);
    return results;
  }

  /**
   * Inserts on the application's better-sqlite3 connection, inside its transaction when it has one
   * open, so the task exists if and only if that transaction commits. The driver is synchronous and so
   * is this path: call it inside `db.transaction(() => ...)` and the rows are written before the
   * returned promise is even looked at. Errors are thrown synchronously, so they roll back the
   * application's transaction as any other statement's error would.
   */
  #insertOnApplicationConnection(tasks: NewTask[], tx: EngineTransaction | null | undefined): Promise<TaskInsertResult[]> {
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
      this.signalInserted(results);
    };
    setImmediate(signal);
  }

  /** Wakes idle workers for the tasks just created (by type when they share one). */
  signalInserted(results: TaskInsertResult[]): void {
    let type: string | null | undefined;
    for (const { task, created } of results) {
      if (!created) continue;
      type = type === undefined || type === task.taskType ? task.taskType : null;
    }
    if (type !== undefined) this.#signal.notify(type);
  }
}
/** Statements prepared on an application's own connection (transactional insert), per connection. */
const applicationStatements = new WeakMap<BetterSqlite3.Database, Map<string, BetterSqlite3.Statement>>();

const TASK_INSERT = `
  INSERT INTO tasks (id, task_type, payload, status, priority_rank, retry_strategy, max_attempts, metadata, idempotency_key,
                     created_by, breaker_scope, created_at, updated_at, scheduled_at, run_at)
  VALUES (@id, @task_type, @payload, @status, @priority_rank, @retry_strategy, @max_attempts, @metadata, @idempotency_key,
          @created_by, @breaker_scope, @created_at, @created_at, @scheduled_at, @run_at)
  ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`;

const TASK_BY_IDEMPOTENCY_KEY = `SELECT * FROM tasks WHERE idempotency_key = ?`;

/** Writes tasks with the given statements; an idempotency key already used returns the existing task. */
export function insertTasks(tasks: readonly NewTask[], prepare: Prepare): TaskInsertResult[] {
  const insert = prepare(TASK_INSERT);
  const results: TaskInsertResult[] = new Array(tasks.length);
  for (let i = 0; i < tasks.length; i += 1) {
    const task = tasks[i]!;
    if (insert.run(taskInsertParams(task)).changes > 0) {
      results[i] = { task: insertedTask(task), created: true };
      continue;
    }
    const existing = prepare(TASK_BY_IDEMPOTENCY_KEY).get(task.idempotencyKey) as TaskRow | undefined;
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

import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ConveyorError, ERROR_CODES } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { TypeLimitCache } from '../type-limit-cache.ts';
import { closedError, retryWhenBusy, retryWhenBusySync, translateSqliteError } from './sqlite-errors.ts';

export const DEFAULT_BUSY_TIMEOUT_MS = 10_000;
/** Dynamic SQL (list filters, user updates) has few shapes; the cap only guards against a leak. */
const STATEMENT_CACHE_LIMIT = 500;

/**
 * One better-sqlite3 connection with the settings several processes need to share a file safely:
 * WAL (readers never block the writer), busy_timeout (a writer waits for the lock instead of failing),
 * synchronous=NORMAL (durable at each WAL checkpoint, fast commits), foreign keys on; and temporary
 * files in memory.
 *
 * The driver is synchronous, so each operation runs to its end without interleaving with other
 * JavaScript; `write` adds BEGIN IMMEDIATE so the write lock is taken before anything is read.
 */
export class SqliteConnection {
  readonly db: Database.Database;
  readonly filename: string;
  readonly inMemory: boolean;
  readonly #logger: Logger;
  /** Which task types have a concurrency limit; its loader is set by the engine (type-controls). */
  limits!: TypeLimitCache;
  readonly #statements = new Map<string, Database.Statement>();
  /** The same, in raw mode (rows as arrays), with their column names: see rows(). */
  readonly #rawStatements = new Map<string, { statement: Database.Statement; columns: string[] }>();
  readonly #transaction: Database.Transaction<(work: () => unknown) => unknown>;
  #closed = false;

  constructor(filename: string, logger: Logger, busyTimeoutMs: number = DEFAULT_BUSY_TIMEOUT_MS) {
    this.#logger = logger;
    this.inMemory = filename === ':memory:' || filename === '';
    this.filename = this.inMemory ? ':memory:' : resolve(filename);
    if (!this.inMemory) {
      try {
        mkdirSync(dirname(this.filename), { recursive: true });
      } catch (error) {
        throw new ConveyorError(ERROR_CODES.DATABASE_UNAVAILABLE, `cannot create the folder of SQLite database ${this.filename}: ${(error as Error).message}`, { cause: error });
      }
    }
    try {
      this.db = new Database(this.filename, { timeout: busyTimeoutMs });
    } catch (error) {
      throw translateSqliteError(error, `open ${this.filename}`);
    }
    const db = this.db;
    try {
      retryWhenBusySync(() => {
        db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
        const mode = db.pragma('journal_mode = WAL', { simple: true });
        if (mode !== 'wal' && !this.inMemory) logger.warn({ filename: this.filename, mode }, 'SQLite refused WAL mode; concurrent processes will be slower');
        db.pragma('synchronous = NORMAL');
        db.pragma('foreign_keys = ON');
        // Temporary files (the statement journal that a multi-row UPDATE in a transaction keeps, so
        // that it can be undone alone) stay in memory: every claim and completion batch writes one,
        // and spilling it to a file cost ~5 % of the claim's time in write calls.
        db.pragma('temp_store = MEMORY');
      }, `open ${this.filename}`);
    } catch (error) {
      db.close();
      throw error;
    }
    this.#transaction = db.transaction((work: () => unknown) => work());
  }

  get closed(): boolean {
    return this.#closed;
  }

  assertOpen(): void {
    if (this.#closed) throw closedError();
  }

  /** A statement prepared once on this connection and reused. */
  prepare(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      if (this.#statements.size >= STATEMENT_CACHE_LIMIT) this.#statements.clear();
      statement = this.db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * Every row of a statement, as objects keyed by column name, built here from better-sqlite3's raw
   * arrays: about a third of the CPU of its own row objects (250 claimed rows of 15 columns: 4-5 µs a
   * row against 13). For the statements that return many rows: claims, lists.
   */
  rows<T>(sql: string, params?: unknown): T[] {
    let entry = this.#rawStatements.get(sql);
    if (entry === undefined) {
      if (this.#rawStatements.size >= STATEMENT_CACHE_LIMIT) this.#rawStatements.clear();
      const statement = this.db.prepare(sql).raw(true);
      entry = { statement, columns: statement.columns().map((column) => column.name) };
      this.#rawStatements.set(sql, entry);
    }
    const { statement, columns } = entry;
    const values = (params === undefined ? statement.all() : statement.all(params)) as unknown[][];
    const rows = new Array<T>(values.length);
    for (let r = 0; r < values.length; r++) {
      const row: Record<string, unknown> = {};
      const value = values[r]!;
      for (let c = 0; c < columns.length; c++) row[columns[c]!] = value[c];
      rows[r] = row as T;
    }
    return rows;
  }

  /** Runs reads (or work that manages its own transactions), retried if SQLite reports a lock. */
  run<T>(operation: string, work: () => T): Promise<T> {
    return retryWhenBusy(work, operation, this.#logger, () => this.#closed);
  }

  /** Runs `work` in one BEGIN IMMEDIATE transaction: all of it commits, or none of it. */
  write<T>(operation: string, work: () => T): Promise<T> {
    return retryWhenBusy(() => this.#transaction.immediate(work) as T, operation, this.#logger, () => this.#closed);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#statements.clear();
    this.#rawStatements.clear();
    this.db.close();
  }
}

import { ConveyorError, ERROR_CODES } from '../../core/errors.ts';
import { silentLogger, type Logger } from '../../core/logger.ts';
import { dispatchEngine } from '../dispatch/dispatch-engine.ts';
import type { Engine, EngineDriver, MigrationReport, MigrationStatus } from '../engine.ts';
import { methodsOf } from '../shared/methods-of.ts';
import { TypeLimitCache } from '../type-limit-cache.ts';
import { AccountStore } from './accounts.ts';
import { AdminStore } from './admin.ts';
import { BreakerStore } from './breakers.ts';
import { ClaimStore } from './claim.ts';
import { FinishStore } from './finish.ts';
import { InsertSignal } from './insert-signal.ts';
import { InsertStore } from './insert.ts';
import { MaintenanceStore } from './maintenance.ts';
import { ScheduleStore } from './schedules.ts';
import { SqliteConnection } from './sqlite-connection.ts';
import { migrateSqlite, sqliteMigrationStatus } from './sqlite-migrator.ts';
import { RollupStore } from './rollups.ts';
import { StatsStore } from './stats.ts';
import { TypeControlStore } from './type-controls.ts';
import { WorkerStore } from './workers.ts';
import { QuotaStore } from './quotas.ts';

export interface SqliteEngineOptions {
  /** A file path (created with its folder if missing) or `:memory:` (one process only). */
  filename: string;
  logger?: Logger;
  /** How long a writer waits for another process's lock before failing; default 10 s. */
  busyTimeoutMs?: number;
  /** Ignored: SQLite uses one connection per process. Accepted so both engines take the same options. */
  poolSize?: number;
}

/** The SQLite engine, behind the dispatch layer: one connection per process, BEGIN IMMEDIATE for every write. */
export function openSqliteEngine(options: SqliteEngineOptions): Engine {
  return dispatchEngine(sqliteDriver(options), { logger: options.logger });
}

/** The engine's stores, one per concern (the same files as store/postgres/), over one connection. */
function sqliteDriver(options: SqliteEngineOptions): EngineDriver {
  const logger = (options.logger ?? silentLogger).child({ engine: 'sqlite' });
  const c = new SqliteConnection(options.filename, logger, options.busyTimeoutMs);
  const signal = new InsertSignal(c.inMemory ? null : `${c.filename}-signal`, logger);
  // Dashboard change hints have their own file, so that they never wake workers.
  const changes = new InsertSignal(c.inMemory ? null : `${c.filename}-changes`, logger);
  const controls = new TypeControlStore(c, signal);
  c.limits = new TypeLimitCache(async () => (await controls.typeLimitList()).map((limit) => limit.taskType));
  const insert = new InsertStore(c, signal);
  const finish = new FinishStore(c, signal);
  return {
    kind: 'sqlite',
    capabilities: Object.freeze({ skipLocked: false, listenNotify: false, transactionalInsert: true }),
    ...methodsOf(new SqliteLifecycle(c, signal, changes, finish, logger)),
    ...methodsOf(insert),
    ...methodsOf(new ClaimStore(c, signal, (p) => finish.taskFail(p))),
    ...methodsOf(finish),
    ...methodsOf(new AdminStore(c, signal)),
    ...methodsOf(new StatsStore(c)),
    ...methodsOf(new RollupStore(c)),
    ...methodsOf(new MaintenanceStore(c, signal)),
    ...methodsOf(new BreakerStore(c)),
    ...methodsOf(controls),
    ...methodsOf(new ScheduleStore(c, insert)),
    ...methodsOf(new AccountStore(c)),
    ...methodsOf(new WorkerStore(c)),
    ...methodsOf(new QuotaStore(c)),
  };
}

/** Migrations, health, notifications and closing. */
class SqliteLifecycle {
  readonly #c: SqliteConnection;
  readonly #signal: InsertSignal;
  readonly #changes: InsertSignal;
  readonly #finish: FinishStore;
  readonly #logger: Logger;

  constructor(c: SqliteConnection, signal: InsertSignal, changes: InsertSignal, finish: FinishStore, logger: Logger) {
    this.#c = c;
    this.#signal = signal;
    this.#changes = changes;
    this.#finish = finish;
    this.#logger = logger;
  }

  async migrate(): Promise<MigrationReport> {
    this.#c.assertOpen();
    return migrateSqlite(this.#c, this.#logger);
  }

  async migrationStatus(): Promise<MigrationStatus> {
    this.#c.assertOpen();
    return sqliteMigrationStatus(this.#c);
  }

  /** Lets the completions waiting or being written finish, stops the signal watchers, closes the file. */
  async close(): Promise<void> {
    if (this.#c.closed) return;
    await this.#finish.drain();
    await this.#signal.closeAll();
    await this.#changes.closeAll();
    this.#c.close();
  }

  async ping(): Promise<void> {
    await this.#c.run('ping', () => this.#c.prepare('SELECT 1').get());
  }

  async listen(p: { onInsert: (taskType: string | null) => void }): Promise<{ close(): Promise<void> }> {
    this.#c.assertOpen();
    try {
      return this.#signal.listen(p.onInsert);
    } catch (error) {
      throw new ConveyorError(ERROR_CODES.DATABASE_UNAVAILABLE, `cannot watch the SQLite insert signal file: ${(error as Error).message}`, { cause: error });
    }
  }

  async changeListen(p: { onChange: () => void }): Promise<{ close(): Promise<void> }> {
    this.#c.assertOpen();
    try {
      return this.#changes.listen(() => p.onChange());
    } catch (error) {
      throw new ConveyorError(ERROR_CODES.DATABASE_UNAVAILABLE, `cannot watch the SQLite change signal file: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Rewrites the change signal file (a burst in one tick writes it once); no database statement. */
  async changeNotify(): Promise<void> {
    this.#c.assertOpen();
    this.#changes.notify(null);
    await this.#changes.flush();
  }
}

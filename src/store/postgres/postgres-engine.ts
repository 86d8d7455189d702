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
import { InsertStore } from './insert.ts';
import { MaintenanceStore } from './maintenance.ts';
import { PostgresConnection } from './postgres-connection.ts';
import { toConveyorError } from './postgres-errors.ts';
import { PostgresListener } from './postgres-listener.ts';
import { migratePostgres, postgresMigrationStatus } from './postgres-migrator.ts';
import { ScheduleStore } from './schedules.ts';
import { changeChannel, insertChannel } from './sql-parts.ts';
import { RollupStore } from './rollups.ts';
import { StatsStore } from './stats.ts';
import { TypeControlStore } from './type-controls.ts';
import { WorkerStore } from './workers.ts';
import { QuotaStore } from './quotas.ts';

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

/**
 * The PostgreSQL engine, behind the dispatch layer. Hot paths (insert, claim, heartbeat, complete) are
 * one prepared statement each, one round trip; claims never wait on each other (FOR UPDATE SKIP
 * LOCKED). Every "now" comes from the caller. Nothing reads search_path: all SQL names the schema.
 */
export function openPostgresEngine(options: PostgresEngineOptions): Engine {
  return dispatchEngine(postgresDriver(options), { logger: options.logger });
}

/** The engine's stores, one per concern (the same files as store/sqlite/), over one connection. */
function postgresDriver(options: PostgresEngineOptions): EngineDriver {
  const logger = (options.logger ?? silentLogger).child({ engine: 'postgres', schema: options.schema });
  const c = new PostgresConnection({ connectionString: options.connectionString, schema: options.schema, poolSize: options.poolSize, logger });
  const controls = new TypeControlStore(c);
  c.limits = new TypeLimitCache(async () => (await controls.typeLimitList()).map((limit) => limit.taskType));
  const insert = new InsertStore(c);
  const finish = new FinishStore(c);
  return {
    kind: 'postgres',
    capabilities: { skipLocked: true, listenNotify: true, transactionalInsert: true },
    ...methodsOf(new PostgresLifecycle(c, finish)),
    ...methodsOf(insert),
    ...methodsOf(new ClaimStore(c, (p) => finish.taskFail(p))),
    ...methodsOf(finish),
    ...methodsOf(new AdminStore(c)),
    ...methodsOf(new StatsStore(c)),
    ...methodsOf(new RollupStore(c)),
    ...methodsOf(new MaintenanceStore(c)),
    ...methodsOf(new BreakerStore(c)),
    ...methodsOf(controls),
    ...methodsOf(new ScheduleStore(c, insert)),
    ...methodsOf(new AccountStore(c)),
    ...methodsOf(new WorkerStore(c)),
    ...methodsOf(new QuotaStore(c)),
  };
}

/** Migrations, health, notifications and closing. */
class PostgresLifecycle {
  readonly #c: PostgresConnection;
  readonly #finish: FinishStore;
  readonly #listeners = new Set<PostgresListener>();
  #closing: Promise<void> | null = null;

  constructor(c: PostgresConnection, finish: FinishStore) {
    this.#c = c;
    this.#finish = finish;
  }

  async migrate(): Promise<MigrationReport> {
    const { client, release } = await this.#c.connect('migrate');
    try {
      const report = await migratePostgres(client, this.#c.options.schema, this.#c.logger);
      release();
      return report;
    } catch (error) {
      release(true);
      throw toConveyorError(error, 'migrate');
    }
  }

  async migrationStatus(): Promise<MigrationStatus> {
    this.#c.assertOpen();
    try {
      return await postgresMigrationStatus(this.#c.pool, this.#c.options.schema);
    } catch (error) {
      throw toConveyorError(error, 'migrationStatus');
    }
  }

  /** Stops the listeners, lets the completions in flight be written, then ends the pools. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all([...this.#listeners].map((listener) => listener.close()));
      this.#listeners.clear();
      await this.#finish.drain();
      await this.#c.end();
    })();
    return this.#closing;
  }

  async ping(): Promise<void> {
    await this.#c.runText('ping', 'SELECT 1', []);
  }

  listen(p: { onInsert: (taskType: string | null) => void }): Promise<{ close(): Promise<void> }> {
    return this.#listenOn(insertChannel(this.#c.options.schema), p.onInsert);
  }

  changeListen(p: { onChange: () => void }): Promise<{ close(): Promise<void> }> {
    return this.#listenOn(changeChannel(this.#c.options.schema), () => p.onChange());
  }

  /** One NOTIFY in its own tiny statement; with nobody listening PostgreSQL drops it at once. */
  async changeNotify(): Promise<void> {
    await this.#c.runText('changeNotify', 'SELECT pg_notify($1, \'\')', [changeChannel(this.#c.options.schema)]);
  }

  async #listenOn(channel: string, onNotify: (payload: string | null) => void): Promise<{ close(): Promise<void> }> {
    if (this.#closing) throw new ConveyorError(ERROR_CODES.CLOSED, 'the PostgreSQL engine is closed');
    const listener = new PostgresListener({
      clientConfig: { connectionString: this.#c.options.connectionString, keepAlive: true, connectionTimeoutMillis: 10_000, application_name: 'conveyor-listener' },
      channel,
      logger: this.#c.logger,
      onInsert: onNotify,
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

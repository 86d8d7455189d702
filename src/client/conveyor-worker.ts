import { systemClock, type Clock } from '../core/clock.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import { openMigratedEngine } from '../store/create-engine.ts';
import { DEFAULT_DATABASE_URL } from '../store/database-url.ts';
import type { Engine } from '../store/engine.ts';
import type { TaskDefinition } from '../tasks/define-task.ts';
import { TaskRegistry } from '../tasks/task-registry.ts';
import type { BreakerSettings, WorkerSettings } from '../worker/worker-config.ts';
import { Worker } from '../worker/worker.ts';
import { engineOptions } from './conveyor-client.ts';

export interface ConveyorWorkerOptions {
  /** `sqlite:./data/conveyor.db` (default) or `postgres://...`: the database the client and the API use. */
  databaseUrl?: string;
  /** The task types this worker runs (defineTask() results). */
  tasks: readonly TaskDefinition<any>[];
  /** Worker settings (`concurrency`, `poll_interval_ms`, `lease_ms`, ...); the rest take the defaults of `conveyor work`. */
  worker?: Partial<WorkerSettings>;
  /** Circuit-breaker settings (`failure_threshold`, `success_threshold`, `open_ms`). */
  breaker?: Partial<BreakerSettings>;
  /** Apply pending migrations when starting (default true; safe with several processes). */
  migrate?: boolean;
  /** Where the worker logs (a pino logger fits); default: nowhere. */
  logger?: Logger;
  clock?: Clock;
  /** Defaults to host:pid:random. */
  id?: string;
}

/**
 * A worker inside the application's own process, from a database URL and task definitions: it claims
 * and runs tasks exactly as `conveyor work` does (leases, retries, breakers, maintenance).
 *
 *   const worker = await ConveyorWorker.start({ databaseUrl: 'sqlite:./data/conveyor.db', tasks: [greet] });
 *   ...
 *   await worker.stop(); // running handlers get the shutdown grace, then the database is closed
 */
export class ConveyorWorker {
  readonly #worker: Worker;
  readonly #engine: Engine;
  #stopped: Promise<void> | null = null;

  private constructor(worker: Worker, engine: Engine) {
    this.#worker = worker;
    this.#engine = engine;
  }

  /** Opens the database (migrating it unless `migrate: false`), registers the task types and starts claiming. */
  static async start(options: ConveyorWorkerOptions): Promise<ConveyorWorker> {
    const engine = await openMigratedEngine(options.databaseUrl ?? DEFAULT_DATABASE_URL, engineOptions(options));
    try {
      const worker = new Worker({
        engine,
        registry: new TaskRegistry().register(...options.tasks),
        clock: options.clock ?? systemClock,
        logger: options.logger ?? silentLogger,
        config: { ...(options.worker ? { worker: options.worker } : {}), ...(options.breaker ? { breaker: options.breaker } : {}) },
        ...(options.id === undefined ? {} : { id: options.id }),
      });
      await worker.start();
      return new ConveyorWorker(worker, engine);
    } catch (error) {
      await engine.close().catch(() => {});
      throw error;
    }
  }

  /** This worker's id, as the dashboard and `conveyor workers` show it. */
  get id(): string {
    return this.#worker.id;
  }

  /** The task types it runs. */
  get taskTypes(): readonly string[] {
    return this.#worker.taskTypes;
  }

  /** Attempts it holds now. */
  get runningCount(): number {
    return this.#worker.runningCount;
  }

  /**
   * Stops claiming, lets running handlers finish within `graceMs` (default: worker.shutdown_grace_ms),
   * hands the rest back without spending an attempt, then closes the database. Safe to call twice.
   */
  stop(options: { graceMs?: number } = {}): Promise<void> {
    this.#stopped ??= (async () => {
      try {
        await this.#worker.stop(options);
      } finally {
        await this.#engine.close().catch(() => {});
      }
    })();
    return this.#stopped;
  }
}

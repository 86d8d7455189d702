/**
 * graphile-worker, at its defaults and with the high-throughput configuration its performance page
 * documents (worker.graphile.org/docs/performance): a local queue of 500 jobs, completions and
 * failures batched with a 0 ms delay, and a pool one larger than the concurrency.
 */
import { Logger, makeWorkerUtils, run, runMigrations, type Runner, type WorkerUtils } from 'graphile-worker';
import pg from 'pg';
import { packageVersion } from './package-version.ts';
import { pollUntil } from './poll.ts';
import { queueOf, type BenchHandler, type BenchSystem, type BenchTask, type Lane, type Location, type SystemDefinition } from './system.ts';

const version = packageVersion('graphile-worker') ?? 'unknown';
const silent = new Logger(() => () => {});

export function graphileWorker(tuned: boolean): SystemDefinition {
  return {
    id: tuned ? 'graphile-worker-tuned' : 'graphile-worker',
    label: tuned ? 'graphile-worker (tuned)' : 'graphile-worker',
    product: 'graphile-worker',
    store: 'postgres',
    tuned,
    settings: tuned
      ? 'localQueue.size 500, completeJobBatchDelay 0, failJobBatchDelay 0, maxPoolSize concurrency + 1 (the performance page)'
      : 'defaults (pollInterval 2 s, pool 10, no local queue, no batching); concurrency as the workload asks',
    version,
    open: (location) => new GraphileSystem(location, tuned),
  };
}

class GraphileSystem implements BenchSystem {
  readonly #connectionString: string;
  readonly #schema: string;
  readonly #tuned: boolean;
  #utils: Promise<WorkerUtils> | null = null;
  #pool: pg.Pool | null = null;
  #runner: Runner | null = null;

  constructor(location: Location, tuned: boolean) {
    if (location.kind !== 'postgres') throw new Error('graphile-worker needs PostgreSQL');
    this.#connectionString = location.url;
    this.#schema = location.schema;
    this.#tuned = tuned;
  }

  async setup(): Promise<void> {
    await runMigrations({ pgPool: this.#db(), schema: this.#schema, logger: silent });
  }

  async enqueueBulk(tasks: readonly BenchTask[], lane?: Lane): Promise<void> {
    const utils = await this.#workerUtils();
    await utils.addJobs(tasks.map((payload) => ({ identifier: queueOf(lane), payload })));
  }

  async enqueueOne(task: BenchTask, lane?: Lane): Promise<void> {
    const utils = await this.#workerUtils();
    await utils.addJob(queueOf(lane), task);
  }

  async startWorkers(concurrency: number, handler: BenchHandler): Promise<void> {
    this.#runner = await run({
      connectionString: this.#connectionString,
      schema: this.#schema,
      concurrency,
      noHandleSignals: true,
      logger: silent,
      taskList: {
        [queueOf('work')]: async (payload) => handler(payload as BenchTask),
      },
      ...(this.#tuned
        ? {
            maxPoolSize: concurrency + 1,
            preset: { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
          }
        : {}),
    });
  }

  async stopWorkers(): Promise<void> {
    const runner = this.#runner;
    this.#runner = null;
    await runner?.stop();
  }

  async remaining(lane?: Lane): Promise<number> {
    // Completed jobs are deleted; every row left is queued, locked, or waiting for its batched completion.
    const { rows } = await this.#db().query<{ n: number }>(`SELECT count(*)::int AS n FROM "${this.#schema}"._private_jobs j JOIN "${this.#schema}"._private_tasks t ON t.id = j.task_id WHERE t.identifier = $1`, [
      queueOf(lane),
    ]);
    return rows[0]?.n ?? 0;
  }

  async purge(): Promise<void> {
    await this.#db().query(`DELETE FROM "${this.#schema}"._private_jobs WHERE locked_at IS NULL`);
    await pollUntil(async () => (await this.remaining()) === 0, 30_000);
  }

  async close(): Promise<void> {
    await this.stopWorkers();
    const utils = this.#utils;
    this.#utils = null;
    if (utils) await (await utils).release();
    await this.#pool?.end();
    this.#pool = null;
  }

  #workerUtils(): Promise<WorkerUtils> {
    this.#utils ??= makeWorkerUtils({ pgPool: this.#db(), schema: this.#schema, logger: silent });
    return this.#utils;
  }

  /**
   * The harness's side (migrations, enqueue, counting) shares one pool it owns, sized as
   * graphile-worker's own default, so that closing it is certain before the database is dropped.
   */
  #db(): pg.Pool {
    if (!this.#pool) {
      this.#pool = new pg.Pool({ connectionString: this.#connectionString, max: 10 });
      // An idle connection that dies would otherwise crash the process; the pool replaces it.
      this.#pool.on('error', () => {});
    }
    return this.#pool;
  }
}

/**
 * pg-boss, at its defaults (one job per fetch, a 2 s polling interval) and with its best documented
 * throughput settings: batches of 500 (`batchSize`), fetching again at once while batches come back
 * full (`burstWhenBatchFull`), and LISTEN/NOTIFY wake-ups (`useListenNotify` + the queue's `notify`).
 * The harness's instance only sends (supervise and schedule off); the worker process's instance keeps
 * pg-boss's maintenance defaults, as a deployed worker would.
 */
import { PgBoss, type WorkOptions } from 'pg-boss';
import { packageVersion } from './package-version.ts';
import { pollUntil } from './poll.ts';
import { ENQUEUE_QUEUE, queueOf, WORK_QUEUE, type BenchHandler, type BenchSystem, type BenchTask, type Lane, type Location, type SystemDefinition } from './system.ts';

const version = packageVersion('pg-boss') ?? 'unknown';

export function pgBoss(tuned: boolean): SystemDefinition {
  return {
    id: tuned ? 'pg-boss-tuned' : 'pg-boss',
    label: tuned ? 'pg-boss (batch 500)' : 'pg-boss',
    product: 'pg-boss',
    store: 'postgres',
    tuned,
    settings: tuned
      ? 'batchSize 500, burstWhenBatchFull, useListenNotify + queue notify, connection pool max = concurrency + 4; localConcurrency = concurrency'
      : 'defaults (batchSize 1, pollingIntervalSeconds 2, no LISTEN/NOTIFY); localConcurrency = concurrency',
    version,
    open: (location) => new PgBossSystem(location, tuned),
  };
}

class PgBossSystem implements BenchSystem {
  readonly #location: Extract<Location, { kind: 'postgres' }>;
  readonly #tuned: boolean;
  #producer: Promise<PgBoss> | null = null;
  #worker: PgBoss | null = null;

  constructor(location: Location, tuned: boolean) {
    if (location.kind !== 'postgres') throw new Error('pg-boss needs PostgreSQL');
    this.#location = location;
    this.#tuned = tuned;
  }

  async setup(): Promise<void> {
    const boss = await this.#boss();
    await boss.createQueue(WORK_QUEUE, this.#tuned ? { notify: true } : {});
    await boss.createQueue(ENQUEUE_QUEUE);
  }

  async enqueueBulk(tasks: readonly BenchTask[], lane?: Lane): Promise<void> {
    const boss = await this.#boss();
    await boss.insert(
      queueOf(lane),
      tasks.map((data) => ({ data })),
    );
  }

  async enqueueOne(task: BenchTask, lane?: Lane): Promise<void> {
    const boss = await this.#boss();
    await boss.send(queueOf(lane), task);
  }

  async startWorkers(concurrency: number, handler: BenchHandler): Promise<void> {
    const boss = new PgBoss({
      connectionString: this.#location.url,
      schema: this.#location.schema,
      migrate: false,
      // Tuned, each of the `concurrency` local workers fetches on its own: a pool smaller than that
      // makes fetches queue for a connection until pg's connect timeout fails them under load.
      ...(this.#tuned ? { useListenNotify: true, max: concurrency + 4 } : {}),
    });
    boss.on('error', () => {});
    await boss.start();
    this.#worker = boss;
    const options: WorkOptions = this.#tuned ? { localConcurrency: concurrency, batchSize: 500, burstWhenBatchFull: true } : { localConcurrency: concurrency };
    await boss.work<BenchTask>(WORK_QUEUE, options, async (jobs) => {
      for (const job of jobs) handler(job.data);
    });
  }

  async stopWorkers(): Promise<void> {
    const boss = this.#worker;
    this.#worker = null;
    await boss?.stop({ graceful: true, close: true, timeout: 30_000 });
  }

  async remaining(lane?: Lane): Promise<number> {
    const boss = await this.#boss();
    const { rows } = await boss
      .getDb()
      .executeSql(`SELECT count(*)::int AS n FROM ${this.#location.schema}.job WHERE name = $1 AND state < 'completed'`, [queueOf(lane)]);
    return (rows[0] as { n: number } | undefined)?.n ?? 0;
  }

  async purge(): Promise<void> {
    const boss = await this.#boss();
    await boss.deleteQueuedJobs(WORK_QUEUE);
    await pollUntil(async () => (await this.remaining()) === 0, 30_000);
  }

  async close(): Promise<void> {
    await this.stopWorkers();
    const producer = this.#producer;
    this.#producer = null;
    if (producer) await (await producer).stop({ graceful: false, close: true });
  }

  #boss(): Promise<PgBoss> {
    this.#producer ??= (async () => {
      const boss = new PgBoss({
        connectionString: this.#location.url,
        schema: this.#location.schema,
        supervise: false,
        schedule: false,
        // The harness offers 500 sends a second in the latency workload, each its own call: with
        // pg-boss's default pool of 10 they queued for a connection past its 10 s connect timeout.
        max: 32,
      });
      boss.on('error', () => {});
      await boss.start();
      return boss;
    })();
    return this.#producer;
  }
}

/**
 * BullMQ on the local Redis, at its defaults (completed jobs kept, blocking fetch). Its queues live
 * under a fresh key prefix per run, removed afterwards with `obliterate`.
 */
import { Queue, Worker } from 'bullmq';
import { packageVersion } from './package-version.ts';
import { pollUntil } from './poll.ts';
import { ENQUEUE_QUEUE, queueOf, WORK_QUEUE, type BenchHandler, type BenchSystem, type BenchTask, type Lane, type Location, type SystemDefinition } from './system.ts';

const version = packageVersion('bullmq') ?? 'unknown';

/** BullMQ talks to Redis through ioredis, its usual driver (a dev dependency). */
export const bullmqDriver = `ioredis ${packageVersion('ioredis') ?? 'unknown'}`;

const UNFINISHED = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'] as const;

export function bullmq(): SystemDefinition {
  return {
    id: 'bullmq',
    label: 'BullMQ (Redis)',
    product: 'bullmq',
    store: 'redis',
    tuned: false,
    settings: `defaults; Worker concurrency as the workload asks; Redis driver: ${bullmqDriver}`,
    version,
    open: (location) => new BullmqSystem(location),
  };
}

/** ioredis connection options for BullMQ (it makes its own connections from them). */
async function connectionFor(url: string): Promise<object> {
  const target = new URL(url);
  return { host: target.hostname, port: Number(target.port || 6379), maxRetriesPerRequest: null };
}

class BullmqSystem implements BenchSystem {
  readonly #location: Extract<Location, { kind: 'redis' }>;
  readonly #queues = new Map<string, Promise<Queue>>();
  #worker: Worker | null = null;

  constructor(location: Location) {
    if (location.kind !== 'redis') throw new Error('BullMQ needs Redis');
    this.#location = location;
  }

  async setup(): Promise<void> {
    await this.#queue(WORK_QUEUE);
    await this.#queue(ENQUEUE_QUEUE);
  }

  async enqueueBulk(tasks: readonly BenchTask[], lane?: Lane): Promise<void> {
    const queue = await this.#queue(queueOf(lane));
    await queue.addBulk(tasks.map((data) => ({ name: 'noop', data })));
  }

  async enqueueOne(task: BenchTask, lane?: Lane): Promise<void> {
    const queue = await this.#queue(queueOf(lane));
    await queue.add('noop', task);
  }

  async startWorkers(concurrency: number, handler: BenchHandler): Promise<void> {
    const connection = await this.#connection();
    const worker = new Worker(
      WORK_QUEUE,
      async (job) => {
        handler(job.data as BenchTask);
      },
      { connection, prefix: this.#location.prefix, concurrency },
    );
    worker.on('error', () => {});
    this.#worker = worker;
    await worker.waitUntilReady();
  }

  async stopWorkers(): Promise<void> {
    const worker = this.#worker;
    this.#worker = null;
    await worker?.close();
  }

  async remaining(lane?: Lane): Promise<number> {
    const queue = await this.#queue(queueOf(lane));
    const counts = await queue.getJobCounts(...UNFINISHED);
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  }

  async purge(): Promise<void> {
    const queue = await this.#queue(WORK_QUEUE);
    await queue.drain(true);
    await pollUntil(async () => (await this.remaining()) === 0, 30_000);
  }

  async close(): Promise<void> {
    await this.stopWorkers();
    for (const queue of this.#queues.values()) await (await queue).close();
    this.#queues.clear();
  }

  /** Deletes every key of this run's queues. */
  async destroy(): Promise<void> {
    for (const name of [WORK_QUEUE, ENQUEUE_QUEUE]) await (await this.#queue(name)).obliterate({ force: true });
  }

  async #connection(): Promise<object> {
    return connectionFor(this.#location.url);
  }

  #queue(name: string): Promise<Queue> {
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = (async () => {
        const created = new Queue(name, { connection: await this.#connection(), prefix: this.#location.prefix });
        created.on('error', () => {});
        await created.waitUntilReady();
        return created;
      })();
      this.#queues.set(name, queue);
    }
    return queue;
  }
}

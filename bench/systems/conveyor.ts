/**
 * Conveyor on PostgreSQL or SQLite, with its defaults and its full task history kept: tasks go in
 * through the library client (`ConveyorClient.enqueue` / `enqueueMany`, the path an application
 * takes) and are run by the same `Worker` class `conveyor work` runs.
 */
import { readFileSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import { ConveyorClient } from '../../src/client/conveyor-client.ts';
import type { JsonObject } from '../../src/core/task.ts';
import { createEngine } from '../../test/helpers/create-engine.ts';
import type { Engine } from '../../src/store/engine.ts';
import { defineTask } from '../../src/tasks/define-task.ts';
import { TaskRegistry } from '../../src/tasks/task-registry.ts';
import { Worker } from '../../src/worker/worker.ts';
import { DEFAULT_WORKER_SETTINGS } from '../../src/worker/worker-config.ts';
import { pollUntil } from './poll.ts';
import { ENQUEUE_QUEUE, queueOf, WORK_QUEUE, type BenchHandler, type BenchSystem, type BenchTask, type Lane, type Location, type SystemDefinition } from './system.ts';

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const UNFINISHED = ['pending', 'scheduled', 'running', 'retrying'] as const;

export function conveyor(store: 'postgres' | 'sqlite'): SystemDefinition {
  return {
    id: `conveyor-${store}`,
    label: `Conveyor (${store === 'postgres' ? 'PostgreSQL' : 'SQLite'})`,
    product: 'conveyor',
    store,
    tuned: false,
    settings: `defaults (poll ${DEFAULT_WORKER_SETTINGS.poll_interval_ms} ms, lease ${DEFAULT_WORKER_SETTINGS.lease_ms / 1000} s, heartbeat ${DEFAULT_WORKER_SETTINGS.heartbeat_ms} ms, maintenance every ${DEFAULT_WORKER_SETTINGS.maintenance_interval_ms / 1000} s); full task history kept (nothing is pruned during a run); worker.concurrency as the workload asks`,
    version,
    open: (location) => new ConveyorSystem(location),
  };
}

const BENCH_PAYLOAD = Type.Object({ w: Type.String(), i: Type.Integer(), t: Type.Number() });

/** The benchmark's one task type, a no-op that reports its start to `handler`. */
export function benchRegistry(handler: BenchHandler): TaskRegistry {
  return new TaskRegistry().register(
    defineTask({
      name: WORK_QUEUE,
      description: 'benchmark no-op',
      payload: BENCH_PAYLOAD,
      handler: async (payload) => {
        handler(payload);
      },
    }),
  );
}

export function conveyorDatabaseUrl(location: Location): string {
  if (location.kind === 'postgres') {
    const url = new URL(location.url);
    url.searchParams.set('schema', location.schema);
    return url.toString();
  }
  if (location.kind === 'sqlite') return `sqlite:${location.file}`;
  throw new Error('Conveyor runs on PostgreSQL or SQLite');
}

class ConveyorSystem implements BenchSystem {
  readonly #url: string;
  #client: Promise<ConveyorClient> | null = null;
  #worker: { worker: Worker; engine: Engine } | null = null;

  constructor(location: Location) {
    this.#url = conveyorDatabaseUrl(location);
  }

  async setup(): Promise<void> {
    await this.#conveyor();
  }

  async enqueueBulk(tasks: readonly BenchTask[], lane?: Lane): Promise<void> {
    const client = await this.#conveyor();
    const taskType = queueOf(lane);
    await client.enqueueMany(tasks.map((payload) => ({ taskType, payload })));
  }

  async enqueueOne(task: BenchTask, lane?: Lane): Promise<void> {
    const client = await this.#conveyor();
    await client.enqueue({ taskType: queueOf(lane), payload: task });
  }

  async startWorkers(concurrency: number, handler: BenchHandler): Promise<void> {
    const registry = benchRegistry(handler);
    const engine = createEngine(this.#url);
    const worker = new Worker({ engine, registry, config: { worker: { concurrency } } });
    this.#worker = { worker, engine };
    await worker.start();
  }

  async stopWorkers(): Promise<void> {
    const running = this.#worker;
    this.#worker = null;
    if (!running) return;
    await running.worker.stop();
    await running.engine.close();
  }

  async remaining(lane?: Lane): Promise<number> {
    const client = await this.#conveyor();
    const { total, totalIsExact } = await client.list({ status: UNFINISHED, taskType: [queueOf(lane)], limit: 1, withTotal: true });
    if (totalIsExact) return total ?? 0;
    // A list's total stops at LIST_TOTAL_CAP; the stats count unfinished tasks exactly.
    const counts = (await client.stats()).byType[queueOf(lane)] ?? {};
    return UNFINISHED.reduce((sum, status) => sum + (counts[status] ?? 0), 0);
  }

  async purge(): Promise<void> {
    const client = await this.#conveyor();
    for (;;) {
      const { tasks } = await client.list({ status: ['pending', 'scheduled', 'retrying'], taskType: [WORK_QUEUE], limit: 500 });
      if (tasks.length === 0) break;
      await Promise.all(tasks.map((task) => client.cancel(task.id)));
    }
    await pollUntil(async () => (await this.remaining()) === 0, 30_000);
  }

  async close(): Promise<void> {
    await this.stopWorkers();
    const client = this.#client;
    this.#client = null;
    if (client) await (await client).close();
  }

  #conveyor(): Promise<ConveyorClient> {
    this.#client ??= ConveyorClient.open({ databaseUrl: this.#url }).then(async (client) => {
      // The client checks each task against the registered types, as an application's would: both
      // lanes are registered up front (the enqueue-only lane has no worker), so that check is measured too.
      const payloadSchema = JSON.parse(JSON.stringify(BENCH_PAYLOAD)) as JsonObject;
      for (const name of [WORK_QUEUE, ENQUEUE_QUEUE]) {
        await client.engine.typeRegister({ type: { name, description: 'benchmark no-op', payloadSchema, examples: [], timeoutMs: 300_000 }, now: new Date() });
      }
      return client;
    });
    return this.#client;
  }
}

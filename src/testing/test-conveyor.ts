import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConveyorClient } from '../client/conveyor-client.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import type { TaskInput } from '../core/new-task.ts';
import { FINISHED_STATUSES, type TaskRecord, type TaskStatus } from '../core/task.ts';
import type { Engine } from '../store/engine.ts';
import type { TaskDefinition } from '../tasks/define-task.ts';
import { TaskRegistry } from '../tasks/task-registry.ts';
import { Worker } from '../worker/worker.ts';
import type { BreakerSettings, WorkerSettings } from '../worker/worker-config.ts';

export interface TestConveyorOptions {
  /** The task types the worker runs. */
  tasks: TaskDefinition<any>[];
  /** Worker settings; polling defaults to 50 ms so retries and schedules are picked up quickly. */
  worker?: Partial<WorkerSettings>;
  breaker?: Partial<BreakerSettings>;
  clock?: Clock;
  /** Where the worker logs (default: nowhere). */
  logger?: Logger;
  /** On close(), how long running handlers may finish before they are aborted (default 1 s). */
  shutdownGraceMs?: number;
}

export interface WaitForTaskOptions {
  /** The status (or any of the statuses) to wait for; default: any finished one (completed, failed, cancelled). */
  status?: TaskStatus | readonly TaskStatus[];
  /** Default 10 s. */
  timeoutMs?: number;
}

export type EnqueueOptions = Omit<TaskInput, 'taskType' | 'payload'>;

const POLL_MS = 20;

/**
 * A whole Conveyor in the test's process: a SQLite database in a temporary folder (migrated), a real
 * Worker running the given task types, and a client to enqueue. Everything goes through the same
 * engine, claims, leases and retries as in production.
 *
 *   const conveyor = await createTestConveyor({ tasks: [sendWelcome] });
 *   const { id } = await conveyor.enqueue('send_welcome', { to: 'ada@example.com' });
 *   const task = await conveyor.waitForTask(id, { status: 'completed' });
 *   await conveyor.close();
 */
export async function createTestConveyor(options: TestConveyorOptions): Promise<TestConveyor> {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-test-'));
  const databaseUrl = `sqlite:${join(dir, 'conveyor.db')}`;
  const clock = options.clock ?? systemClock;
  let client: ConveyorClient | null = null;
  try {
    client = await ConveyorClient.open({ databaseUrl, clock });
    const registry = new TaskRegistry().register(...options.tasks);
    const worker = new Worker({
      engine: client.engine,
      registry,
      clock,
      logger: options.logger ?? silentLogger,
      config: { worker: { poll_interval_ms: 50, ...options.worker }, ...(options.breaker ? { breaker: options.breaker } : {}) },
    });
    await worker.start();
    return new TestConveyor({ dir, databaseUrl, client, worker, shutdownGraceMs: options.shutdownGraceMs ?? 1000 });
  } catch (error) {
    await client?.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

export class TestConveyor {
  /** The temporary folder that holds the database; removed by close(). */
  readonly dir: string;
  readonly databaseUrl: string;
  readonly client: ConveyorClient;
  readonly worker: Worker;
  readonly #shutdownGraceMs: number;
  #closed: Promise<void> | null = null;

  constructor(p: { dir: string; databaseUrl: string; client: ConveyorClient; worker: Worker; shutdownGraceMs: number }) {
    this.dir = p.dir;
    this.databaseUrl = p.databaseUrl;
    this.client = p.client;
    this.worker = p.worker;
    this.#shutdownGraceMs = p.shutdownGraceMs;
  }

  get engine(): Engine {
    return this.client.engine;
  }

  /** Validates and inserts one task, as an application would; returns it (status pending or scheduled). */
  async enqueue(taskType: string, payload: unknown, options: EnqueueOptions = {}): Promise<TaskRecord> {
    return (await this.client.enqueue({ ...options, taskType, payload })).task;
  }

  /** Enqueues and waits until the task completes; rejects with its last error if it fails instead. */
  async enqueueAndWait(taskType: string, payload: unknown, options: EnqueueOptions & { timeoutMs?: number } = {}): Promise<TaskRecord> {
    const { timeoutMs, ...input } = options;
    const task = await this.enqueue(taskType, payload, input);
    return this.waitForTask(task.id, { status: 'completed', ...(timeoutMs === undefined ? {} : { timeoutMs }) });
  }

  /**
   * Polls the task until it reaches the status asked for (default: any finished one) and returns it.
   * Rejects at once when it finishes in another status (naming its last error), and after `timeoutMs`
   * with where the task stands, so a failing test says why.
   */
  async waitForTask(id: string, options: WaitForTaskOptions = {}): Promise<TaskRecord> {
    const wanted: readonly TaskStatus[] = options.status === undefined ? FINISHED_STATUSES : typeof options.status === 'string' ? [options.status] : options.status;
    const timeoutMs = options.timeoutMs ?? 10_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const task = await this.engine.taskGet({ id });
      if (!task) throw new Error(`waitForTask: no task ${id}`);
      if (wanted.includes(task.status)) return task;
      if ((FINISHED_STATUSES as readonly TaskStatus[]).includes(task.status)) {
        throw new Error(`waitForTask: task ${id} (${task.taskType}) ended ${task.status}, not ${wanted.join(' or ')}${task.lastError ? `: ${task.lastError}` : ''}`);
      }
      if (Date.now() >= deadline) throw new Error(`waitForTask: timed out after ${timeoutMs} ms waiting for task ${id} to be ${wanted.join(' or ')}; ${describe(task, this.worker)}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** Stops the worker (running handlers get the shutdown grace), closes the database and removes the folder. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      try {
        await this.worker.stop({ graceMs: this.#shutdownGraceMs });
      } finally {
        await this.client.close().catch(() => {});
        rmSync(this.dir, { recursive: true, force: true });
      }
    })();
    return this.#closed;
  }
}

function describe(task: TaskRecord, worker: Worker): string {
  const parts = [`it is ${task.status} (attempt ${task.currentAttempt} of ${task.maxAttempts})`];
  if (task.lastError) parts.push(`last error: ${task.lastError}`);
  if (!worker.taskTypes.includes(task.taskType)) parts.push(`the worker has no handler for ${task.taskType} (it runs ${worker.taskTypes.join(', ')})`);
  else if (task.status === 'retrying' || task.status === 'scheduled') parts.push(`due ${task.runAt.toISOString()}`);
  return parts.join('; ');
}

import { afterEach } from 'vitest';
import type { TaskRecord } from '../../src/core/task.ts';
import type { Engine } from '../../src/store/engine.ts';
import { Worker, type WorkerOptions } from '../../src/worker/worker.ts';
import type { TestDatabase } from './databases.ts';
import { openTestEngine } from './task-fixtures.ts';
import { waitFor } from './wait-for.ts';

/** What one in-process worker test holds: its database, engine and worker, all gone after the test. */
export interface WorkerTestBench {
  /** The test's database (after open()). */
  readonly db: TestDatabase;
  /** The test's migrated engine (after open()). */
  readonly engine: Engine;
  /** Creates the test's database and opens a migrated engine on it; the same engine on a second call. */
  open(): Promise<Engine>;
  /** Keeps `worker` to be stopped after the test (null: none to stop any more) and returns it. */
  track<W extends Worker | null>(worker: W): W;
  /** A worker on the test's engine (opened if need be; `engine` replaces it, a wrapper say), started and kept. */
  start(options: Omit<WorkerOptions, 'engine'> & { engine?: Engine }): Promise<Worker>;
  /** The task once it is completed, failed or cancelled. */
  finished(id: string): Promise<TaskRecord>;
}

/**
 * The set-up the in-process worker tests share (library, services, outcome writes, thread isolation):
 * call it inside a `describe.each(testDatabases)` block with that database's `create`. After each test
 * the worker is stopped without grace, the engine closed and the database dropped.
 */
export function workerTestBench(create: () => TestDatabase, options: { finishTimeoutMs?: number } = {}): WorkerTestBench {
  let db: TestDatabase | undefined;
  let engine: Engine | undefined;
  let worker: Worker | null = null;

  afterEach(async () => {
    await worker?.stop({ graceMs: 0 });
    worker = null;
    await engine?.close();
    engine = undefined;
    await db?.drop();
    db = undefined;
  });

  const bench: WorkerTestBench = {
    get db() {
      if (!db) throw new Error('workerTestBench: call open() first');
      return db;
    },
    get engine() {
      if (!engine) throw new Error('workerTestBench: call open() first');
      return engine;
    },
    async open() {
      if (!engine) {
        db ??= create();
        engine = await openTestEngine(db);
      }
      return engine;
    },
    track(next) {
      worker = next;
      return next;
    },
    async start(workerOptions) {
      const own = await bench.open();
      const started = bench.track(new Worker({ ...workerOptions, engine: workerOptions.engine ?? own }));
      await started.start();
      return started;
    },
    finished(id) {
      return waitFor(async () => {
        const task = await bench.engine.taskGet({ id });
        return task && ['completed', 'failed', 'cancelled'].includes(task.status) ? task : undefined;
      }, { timeoutMs: options.finishTimeoutMs ?? 20_000, message: `task ${id} to finish` });
    },
  };
  return bench;
}

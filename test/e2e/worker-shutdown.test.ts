import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/store/engine.ts';
import { testDatabases, type TestDatabase } from '../helpers/databases.ts';
import { insertTasks, listAllTasks, openTestEngine } from '../helpers/task-fixtures.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startWorker, type WorkerProcess } from '../helpers/worker-process.ts';

describe.each(testDatabases)('graceful shutdown on $kind', ({ create }) => {
  let db: TestDatabase;
  let engine: Engine;
  let worker: WorkerProcess | null = null;

  afterEach(async () => {
    await worker?.kill();
    worker = null;
    await engine?.close();
    await db?.drop();
  });

  const runningCount = async () => (await listAllTasks(engine, { status: ['running'] })).length;

  it('SIGTERM: running tasks that finish within the grace period complete, and the process exits 0', async () => {
    db = create();
    engine = await openTestEngine(db);
    worker = startWorker({ databaseUrl: db.url, env: { CONVEYOR__WORKER__CONCURRENCY: '2', CONVEYOR__WORKER__SHUTDOWN_GRACE_MS: '8000' }, entry: 'cli' });
    await worker.started();
    await insertTasks(engine, [0, 1].map(() => ({ taskType: 'delay_task', payload: { delay_ms: 1500 } })));
    await waitFor(async () => (await runningCount()) === 2, { message: 'both tasks running' });

    const signalledAt = Date.now();
    worker.signal('SIGTERM');
    const { code } = await worker.exited;
    const tookMs = worker.exitedAt! - signalledAt;
    expect(code).toBe(0);
    expect(tookMs).toBeLessThan(8000);
    const tasks = await listAllTasks(engine);
    expect(tasks.map((task) => task.status)).toEqual(['completed', 'completed']);
    // Nothing was claimed after the signal, and the worker took itself off the list.
    expect(await engine.workerList()).toEqual([]);
  });

  it('SIGTERM: tasks still running when the grace period ends are handed back unspent, even a handler that ignores its abort', async () => {
    db = create();
    engine = await openTestEngine(db);
    worker = startWorker({ databaseUrl: db.url, env: { CONVEYOR__WORKER__CONCURRENCY: '3', CONVEYOR__WORKER__SHUTDOWN_GRACE_MS: '2000' } });
    await worker.started();
    const inserted = await insertTasks(engine, [
      { taskType: 'delay_task', payload: { delay_ms: 60_000 } },
      { taskType: 'record_task', payload: { delay_ms: 60_000 } },
      { taskType: 'deaf_task', payload: { delay_ms: 60_000 } },
    ]);
    await waitFor(async () => (await runningCount()) === 3, { message: 'three tasks running' });

    const signalledAt = Date.now();
    worker.signal('SIGTERM');
    const { code } = await worker.exited;
    const tookMs = worker.exitedAt! - signalledAt;
    expect(code).toBe(0);
    // Within the grace (2 s), which includes the slice for aborting the deaf handler and handing
    // tasks back; the margin is for the process's own exit on a busy machine.
    expect(tookMs).toBeGreaterThanOrEqual(1400);
    expect(tookMs).toBeLessThan(2000 + 750);

    const tasks = await listAllTasks(engine);
    expect(tasks).toHaveLength(inserted.length);
    for (const task of tasks) {
      // Due again at once, with the attempt given back: the next worker starts it as attempt 1.
      expect(task).toMatchObject({ status: 'pending', currentAttempt: 0, workerId: null });
      expect(task.attempts.map((a) => a.outcome)).toEqual(['released']);
    }
    expect(worker.lines.some((line) => line.msg?.includes('grace period over'))).toBe(true);
    expect(worker.lines.some((line) => line.msg?.includes('ignored its abort signal'))).toBe(true);
  });

  it('SIGINT works the same, and a second signal cuts the wait short', async () => {
    db = create();
    engine = await openTestEngine(db);
    worker = startWorker({ databaseUrl: db.url, env: { CONVEYOR__WORKER__CONCURRENCY: '1', CONVEYOR__WORKER__SHUTDOWN_GRACE_MS: '30000' } });
    await worker.started();
    await insertTasks(engine, [{ taskType: 'delay_task', payload: { delay_ms: 60_000 } }]);
    await waitFor(async () => (await runningCount()) === 1, { message: 'the task running' });

    const signalledAt = Date.now();
    worker.signal('SIGINT');
    await worker.waitForMessage('waiting for running tasks');
    worker.signal('SIGINT');
    const { code } = await worker.exited;
    expect(code).toBe(0);
    expect(worker.exitedAt! - signalledAt).toBeLessThan(10_000);
    const [task] = await listAllTasks(engine);
    expect(task).toMatchObject({ status: 'pending', currentAttempt: 0 });
  });
});

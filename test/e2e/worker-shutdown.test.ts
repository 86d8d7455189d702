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

    worker.signal('SIGTERM');
    const { code } = await worker.exited;
    expect(code).toBe(0);
    const tasks = await listAllTasks(engine);
    expect(tasks.map((task) => task.status)).toEqual(['completed', 'completed']);
    // They finished within the grace: nothing had to be aborted.
    const said = worker.lines.map((line) => line.msg);
    expect(said).toContain('stopping: no new claims; waiting for running tasks');
    expect(said).not.toContain('grace period over: aborting the remaining tasks and handing them back');
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

    worker.signal('SIGTERM');
    const { code } = await worker.exited;
    expect(code).toBe(0);
    // In this order: the wait for the handlers, the end of the grace, the deaf handler let go, the exit.
    const said = worker.lines.map((line) => line.msg ?? '');
    const at = (text: string) => said.findIndex((msg) => msg.includes(text));
    const order = ['waiting for running tasks', 'grace period over', 'ignored its abort signal', 'worker stopped'].map(at);
    expect(order.every((index) => index >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);

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
    // A grace far longer than the test may take: only the second signal can end the wait in time.
    worker = startWorker({ databaseUrl: db.url, env: { CONVEYOR__WORKER__CONCURRENCY: '1', CONVEYOR__WORKER__SHUTDOWN_GRACE_MS: '3600000' } });
    await worker.started();
    await insertTasks(engine, [{ taskType: 'delay_task', payload: { delay_ms: 60_000 } }]);
    await waitFor(async () => (await runningCount()) === 1, { message: 'the task running' });

    worker.signal('SIGINT');
    await worker.waitForMessage('waiting for running tasks');
    worker.signal('SIGINT');
    const { code } = await worker.exited;
    expect(code).toBe(0);
    expect(worker.lines.some((line) => line.msg === 'stopping at once')).toBe(true);
    const [task] = await listAllTasks(engine);
    expect(task).toMatchObject({ status: 'pending', currentAttempt: 0 });
  });
});

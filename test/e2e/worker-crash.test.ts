import { afterEach, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../src/core/task.ts';
import type { Engine } from '../../src/store/engine.ts';
import { testDatabases, type TestDatabase } from '../helpers/databases.ts';
import { IMMEDIATE_RETRY, insertTasks, listAllTasks, openTestEngine } from '../helpers/task-fixtures.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { processState, startWorker, type WorkerProcess } from '../helpers/worker-process.ts';

/**
 * Short leases so that a dead or frozen worker's tasks are rescued within a few seconds, yet long
 * enough that a live worker on a busy two-core machine (stalls of a second or more were seen) keeps them.
 */
const FAST_RECOVERY = {
  CONVEYOR__WORKER__LEASE_MS: '3000',
  CONVEYOR__WORKER__HEARTBEAT_MS: '500',
  CONVEYOR__WORKER__MAINTENANCE_INTERVAL_MS: '300',
  CONVEYOR__WORKER__POLL_INTERVAL_MS: '200',
};

describe.each(testDatabases)('worker crashes on $kind', ({ create }) => {
  let db: TestDatabase;
  let engine: Engine;
  let workers: WorkerProcess[] = [];

  afterEach(async () => {
    await Promise.all(workers.map((worker) => worker.kill()));
    workers = [];
    await engine?.close();
    await db?.drop();
  });

  const start = (env: Record<string, string> = {}) => {
    const worker = startWorker({ databaseUrl: db.url, env: { ...FAST_RECOVERY, ...env } });
    workers.push(worker);
    return worker;
  };

  it('SIGKILL mid-task: the tasks are rescued once their leases expire, and all finish', async () => {
    db = create();
    engine = await openTestEngine(db);
    const doomed = start({ CONVEYOR__WORKER__CONCURRENCY: '4' });
    await doomed.started();
    const tasks = await insertTasks(
      engine,
      Array.from({ length: 8 }, () => ({ taskType: 'record_task', payload: { delay_ms: 1000 }, retryStrategy: { ...IMMEDIATE_RETRY, max_attempts: 3 } })),
    );
    const held = await waitFor(async () => {
      const running = await listAllTasks(engine, { status: ['running'] });
      return running.length === 4 ? running : undefined;
    }, { message: 'the first worker running four tasks' });

    doomed.signal('SIGKILL');
    expect((await doomed.exited).signal).toBe('SIGKILL');
    const survivor = start({ CONVEYOR__WORKER__CONCURRENCY: '4' });
    await survivor.started();

    const done = await waitFor(async () => {
      const all = await listAllTasks(engine);
      return all.every((task) => task.status === 'completed') ? all : undefined;
    }, { timeoutMs: 30_000, message: () => `every task completed\n${survivor.describe()}` });

    expect(done).toHaveLength(tasks.length);
    const heldIds = new Set(held.map((task) => task.id));
    for (const task of done) {
      expect(task.output).toMatchObject({ pid: survivor.pid });
      if (heldIds.has(task.id)) {
        // Killed during attempt 1: rescued once, then completed on attempt 2.
        expect(task.rescueCount).toBe(1);
        expect(task.currentAttempt).toBe(2);
        expect(task.attempts.map((a) => a.outcome)).toEqual(['lease_expired', 'completed']);
      } else {
        expect(task.currentAttempt).toBe(1);
      }
    }
    expect(await survivor.stop()).toBe(0);
  });

  it('SIGSTOP past the lease, then SIGCONT: the late completion changes nothing; the attempt that took over stands', async () => {
    db = create();
    engine = await openTestEngine(db);
    const frozen = start();
    await frozen.started();
    // Attempt 1 stops its own process mid-handler; when resumed it returns at once, i.e. reports late.
    const [task] = await insertTasks(engine, [
      { taskType: 'freeze_task', payload: { freeze_attempt: 1, delay_ms: 3000 }, retryStrategy: { ...IMMEDIATE_RETRY, max_attempts: 5 } },
    ]);
    await waitFor(() => processState(frozen.pid) === 'T', { message: 'the first worker to stop itself' });
    const first = (await engine.taskGet({ id: task!.id }))!;
    expect(first).toMatchObject({ status: 'running', currentAttempt: 1 });

    const successor = start();
    const second = await waitFor(async () => {
      const current = await engine.taskGet({ id: task!.id });
      return current?.status === 'running' && current.currentAttempt === 2 ? current : undefined;
    }, { timeoutMs: 20_000, message: () => `attempt 2 running on the second worker\n${successor.describe()}` });
    expect(second.workerId).not.toBe(first.workerId);
    expect(second.rescueCount).toBe(1);

    // Wake the frozen worker while attempt 2 runs: it completes attempt 1 and tries to record it.
    frozen.signal('SIGCONT');
    const late = await frozen.waitForMessage(/lease was gone|lease lost/, 10_000);
    expect(late).toMatchObject({ task_id: task!.id, attempt: 1 });

    const stillSecond = (await engine.taskGet({ id: task!.id }))!;
    expect(stillSecond).toMatchObject({ status: 'running', currentAttempt: 2, workerId: second.workerId });

    const final = await waitFor(async () => {
      const current = await engine.taskGet({ id: task!.id });
      return current?.status === 'completed' ? current : undefined;
    }, { timeoutMs: 20_000, message: () => `attempt 2 to complete\n${frozen.describe()}\n${successor.describe()}` });
    expect(final.output).toEqual({ attempt: 2, pid: successor.pid });
    expect(final.attempts.map((a: TaskRecord['attempts'][number]) => [a.attempt, a.outcome])).toEqual([
      [1, 'lease_expired'],
      [2, 'completed'],
    ]);
    // The frozen worker survived its ordeal and still stops cleanly.
    expect(frozen.running).toBe(true);
    expect(await frozen.stop()).toBe(0);
    expect(await successor.stop()).toBe(0);
  });
});

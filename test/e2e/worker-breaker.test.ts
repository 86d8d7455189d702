import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/store/engine.ts';
import { testDatabases, type TestDatabase } from '../helpers/databases.ts';
import { IMMEDIATE_RETRY, insertTasks, listAllTasks, openTestEngine } from '../helpers/task-fixtures.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startWorker, type WorkerProcess } from '../helpers/worker-process.ts';

const OPEN_MS = 3000;

describe.each(testDatabases)('circuit breaker on $kind', ({ create }) => {
  let db: TestDatabase;
  let engine: Engine;
  let worker: WorkerProcess | null = null;
  let dir: string;

  afterEach(async () => {
    await worker?.kill();
    worker = null;
    await engine?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens after 5 failures, keeps the waiting tasks unspent while open, and closes when the handler recovers', async () => {
    db = create();
    engine = await openTestEngine(db);
    dir = mkdtempSync(join(tmpdir(), 'conveyor-flaky-'));
    const flakyFile = join(dir, 'state');
    writeFileSync(flakyFile, 'down');
    // One slot, so exactly the attempts before the breaker opened ran; a short open period.
    worker = startWorker({
      databaseUrl: db.url,
      env: { CONVEYOR_TEST_FLAKY_FILE: flakyFile, CONVEYOR__WORKER__CONCURRENCY: '1', CONVEYOR__BREAKER__OPEN_MS: String(OPEN_MS), CONVEYOR__WORKER__POLL_INTERVAL_MS: '200' },
    });
    await worker.started();
    const tasks = await insertTasks(engine, Array.from({ length: 12 }, () => ({ taskType: 'flaky_task', payload: {}, retryStrategy: { ...IMMEDIATE_RETRY, max_attempts: 10 } })));

    const opened = await waitFor(async () => {
      const breaker = await engine.breakerGet({ taskType: 'flaky_task' });
      return breaker?.state === 'open' ? breaker : undefined;
    }, { message: () => `the breaker to open\n${worker!.describe()}` });
    expect(opened.consecutiveFailures).toBe(5);
    // The dependency recovers at once; the breaker still keeps the type waiting for its open period.
    writeFileSync(flakyFile, 'up');

    // While it is open another type runs as usual.
    const [other] = await insertTasks(engine, [{ taskType: 'delay_task', payload: { delay_ms: 0 } }]);
    const otherDone = await waitFor(async () => {
      const task = await engine.taskGet({ id: other!.id });
      return task?.status === 'completed' ? task : undefined;
    }, { message: 'the other type to run while the breaker is open' });

    // Exactly the five failures were spent; the other seven tasks still wait with all their attempts.
    const whileOpen = await listAllTasks(engine, { taskType: ['flaky_task'] });
    expect(whileOpen.reduce((sum, task) => sum + task.currentAttempt, 0)).toBe(5);
    expect(whileOpen.filter((task) => task.currentAttempt === 0)).toHaveLength(7);
    expect(whileOpen.every((task) => task.status !== 'running' && task.status !== 'failed')).toBe(true);

    // After the open period, trial claims succeed and the breaker closes.
    const closed = await waitFor(async () => {
      const all = await listAllTasks(engine, { taskType: ['flaky_task'] });
      const breaker = await engine.breakerGet({ taskType: 'flaky_task' });
      return all.every((task) => task.status === 'completed') && breaker?.state === 'closed' ? { all, breaker } : undefined;
    }, { timeoutMs: 30_000, message: () => `every task completed and the breaker closed\n${worker!.describe()}` });

    expect(closed.all).toHaveLength(tasks.length);
    // No attempt started while the breaker was open.
    const reopensAt = opened.reopensAt!.getTime();
    const openedAt = opened.openedAt!.getTime();
    for (const task of closed.all) {
      for (const attempt of task.attempts) {
        const started = attempt.startedAt!.getTime();
        // (Same millisecond counts as before: the fifth attempt can start and fail within one.)
        expect(started <= openedAt || started >= reopensAt).toBe(true);
      }
    }
    expect(otherDone.completedAt!.getTime()).toBeLessThan(reopensAt);
    // Seven never-tried tasks plus the five that failed once: each used one or two attempts.
    expect(closed.all.reduce((sum, task) => sum + task.currentAttempt, 0)).toBe(12 + 5);
    // The transitions were logged with the type (the line may reach us a moment after the database says closed).
    for (const to of ['open', 'closed']) await worker.waitForLog((line) => line.task_type === 'flaky_task' && line.breaker_to === to, 10_000, `the breaker's move to ${to} in the log`);
    expect(await worker.stop()).toBe(0);
  });
});

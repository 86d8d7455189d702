import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../src/core/task.ts';
import type { Engine } from '../../src/store/engine.ts';
import { testDatabases, type TestDatabase } from '../helpers/databases.ts';
import { insertTasks, openTestEngine } from '../helpers/task-fixtures.ts';
import type { ExecutionRecord } from '../helpers/test-tasks.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { readRecords, startWorker, type WorkerProcess } from '../helpers/worker-process.ts';

describe.each(testDatabases)('timeouts and cancellation on $kind', ({ create }) => {
  let db: TestDatabase;
  let engine: Engine;
  let worker: WorkerProcess | null = null;
  let recordDir: string;

  afterEach(async () => {
    await worker?.kill();
    worker = null;
    await engine?.close();
    await db?.drop();
    rmSync(recordDir, { recursive: true, force: true });
  });

  const finished = (id: string) =>
    waitFor(async () => {
      const task = await engine.taskGet({ id });
      return task && ['completed', 'failed', 'cancelled'].includes(task.status) ? task : undefined;
    }, { timeoutMs: 20_000, message: () => `task ${id} to finish\n${worker?.describe()}` });

  it('a timeout aborts the handler, and a handler that ignores the abort is let go; last_error says "timed out"', async () => {
    db = create();
    engine = await openTestEngine(db);
    recordDir = mkdtempSync(join(tmpdir(), 'conveyor-records-'));
    worker = startWorker({ databaseUrl: db.url });
    await worker.started();
    // Both types time out after 500 ms; both would otherwise sleep 30 s.
    const [polite, deaf] = await insertTasks(engine, [
      { taskType: 'slow_task', payload: { delay_ms: 30_000 }, maxAttempts: 1 },
      { taskType: 'stubborn_task', payload: { delay_ms: 30_000 }, maxAttempts: 1 },
    ]);
    for (const task of [await finished(polite!.id), await finished(deaf!.id)]) {
      expect(task.status).toBe('failed');
      expect(task.lastError).toBe('timed out after 500 ms');
      const [attempt] = task.attempts;
      // Ended by the timeout (plus, for the deaf one, the abort grace), not by the 30 s sleep: finished()
      // gives up long before that sleep would end.
      expect(attempt).toMatchObject({ outcome: 'failed', error: 'timed out after 500 ms' });
    }
    const deafLine = await worker.waitForMessage('ignored its abort signal');
    expect(deafLine).toMatchObject({ task_id: deaf!.id, task_type: 'stubborn_task', attempt: 1 });
  });

  it('a timed-out attempt is retried by the task strategy when attempts remain', async () => {
    db = create();
    engine = await openTestEngine(db);
    recordDir = mkdtempSync(join(tmpdir(), 'conveyor-records-'));
    worker = startWorker({ databaseUrl: db.url });
    await worker.started();
    const [task] = await insertTasks(engine, [
      { taskType: 'slow_task', payload: { delay_ms: 30_000 }, retryStrategy: { type: 'fixed', interval_ms: 0, max_attempts: 2 } },
    ]);
    const done = await finished(task!.id);
    expect(done).toMatchObject({ status: 'failed', currentAttempt: 2, lastError: 'timed out after 500 ms' });
    expect(done.attempts.map((a: TaskRecord['attempts'][number]) => a.outcome)).toEqual(['failed', 'failed']);
  });

  it('cancelling a running task aborts its handler (the lease heartbeat carries the request); the task ends cancelled', async () => {
    db = create();
    engine = await openTestEngine(db);
    recordDir = mkdtempSync(join(tmpdir(), 'conveyor-records-'));
    worker = startWorker({ databaseUrl: db.url, env: { CONVEYOR_TEST_RECORD_DIR: recordDir } });
    await worker.started();
    const [task] = await insertTasks(engine, [{ taskType: 'record_task', payload: { delay_ms: 60_000 } }]);
    await waitFor(async () => (await engine.taskGet({ id: task!.id }))?.status === 'running', { message: 'the task running' });

    const requestedAt = Date.now();
    const { outcome } = await engine.taskCancel({ id: task!.id, now: new Date(requestedAt) });
    expect(outcome).toBe('cancel_requested');
    const done = await finished(task!.id);
    expect(done.status).toBe('cancelled');
    expect(done.attempts.at(-1)).toMatchObject({ outcome: 'cancelled', error: expect.stringContaining('cancelled') });

    const [record] = readRecords<ExecutionRecord>(recordDir, readdirSync(recordDir));
    // The handler (which would have slept a minute) was aborted by the request, after it was made.
    expect(record).toMatchObject({ task_id: task!.id, outcome: 'aborted', reason: 'the task was cancelled' });
    expect(record!.end).toBeGreaterThanOrEqual(requestedAt);
    console.log(`[${db.kind}] cancel request reached the handler after ${record!.end - requestedAt} ms`);
    // It came with a lease heartbeat's answer (how soon, in heartbeats, is the lease keeper's unit test).
    expect(worker.lines.some((line) => line.msg === 'cancellation requested: aborting the handler' && line.task_id === task!.id)).toBe(true);
  });
});

import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/store/engine.ts';
import { testDatabases, type TestDatabase } from '../helpers/databases.ts';
import { DRAIN_TASKS } from '../helpers/load-size.ts';
import { countByStatus, IMMEDIATE_RETRY, insertTasks, listAllTasks, openTestEngine } from '../helpers/task-fixtures.ts';
import type { ExecutionRecord } from '../helpers/test-tasks.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { readRecords, startWorker, type WorkerProcess } from '../helpers/worker-process.ts';

const TASKS = DRAIN_TASKS;
const WORKERS = 3;

describe.each(testDatabases)('draining $kind with three worker processes', ({ create }) => {
  let db: TestDatabase;
  let engine: Engine;
  let workers: WorkerProcess[] = [];
  let recordDir: string;

  afterEach(async () => {
    await Promise.all(workers.map((worker) => worker.kill()));
    workers = [];
    await engine?.close();
    await db?.drop();
    rmSync(recordDir, { recursive: true, force: true });
  });

  it(`runs ${TASKS} tasks: each completed, each attempt executed once, no two attempts of a task overlapping`, async () => {
    db = create();
    engine = await openTestEngine(db);
    recordDir = mkdtempSync(join(tmpdir(), 'conveyor-records-'));
    const env = {
      CONVEYOR_TEST_RECORD_DIR: recordDir,
      CONVEYOR__WORKER__CONCURRENCY: '10',
      // One task in ten fails its first attempt; the breaker must not stop the drain for that.
      CONVEYOR__BREAKER__FAILURE_THRESHOLD: '1000',
      CONVEYOR__LOG__LEVEL: 'warn',
    };
    workers = Array.from({ length: WORKERS }, () => startWorker({ databaseUrl: db.url, env }));
    // 'worker started' is logged at info; at warn level wait for the workers' registration instead.
    await waitFor(async () => (await engine.workerList()).length === WORKERS, { timeoutMs: 30_000, message: 'three registered workers' });

    const started = Date.now();
    await insertTasks(
      engine,
      Array.from({ length: TASKS }, (_, i) => ({
        taskType: 'record_task',
        payload: i % 10 === 0 ? { delay_ms: 0, fail_attempts: 1 } : { delay_ms: 0 },
        retryStrategy: { ...IMMEDIATE_RETRY, max_attempts: 3 },
      })),
    );
    const inserted = Date.now();
    await waitFor(async () => (await countByStatus(engine)).completed === TASKS, {
      timeoutMs: 120_000,
      intervalMs: 200,
      message: () => `all tasks completed\n${workers.map((w) => w.describe()).join('\n')}`,
    });
    const drained = Date.now();
    console.log(`[${db.kind}] ${TASKS} tasks: insert ${inserted - started} ms, drain ${drained - inserted} ms (${Math.round(TASKS / ((drained - inserted) / 1000))} tasks/s incl. insert overlap)`);

    expect(await Promise.all(workers.map((worker) => worker.stop()))).toEqual([0, 0, 0]);

    const tasks = await listAllTasks(engine);
    expect(tasks).toHaveLength(TASKS);
    expect(tasks.every((task) => task.status === 'completed')).toBe(true);

    const records = readRecords<ExecutionRecord>(recordDir, readdirSync(recordDir));
    const byTask = new Map<string, ExecutionRecord[]>();
    for (const record of records) byTask.set(record.task_id, [...(byTask.get(record.task_id) ?? []), record]);
    expect(byTask.size).toBe(TASKS);
    let retried = 0;
    for (const task of tasks) {
      const runs = (byTask.get(task.id) ?? []).sort((a, b) => a.attempt - b.attempt);
      // Once per attempt: attempts 1..n each exactly once, n being the attempt that completed.
      expect(runs.map((run) => run.attempt)).toEqual(Array.from({ length: task.currentAttempt }, (_, i) => i + 1));
      expect(runs.at(-1)!.outcome).toBe('completed');
      for (let i = 1; i < runs.length; i++) expect(runs[i]!.start).toBeGreaterThanOrEqual(runs[i - 1]!.end);
      if (runs.length > 1) retried += 1;
    }
    expect(retried).toBe(TASKS / 10);
    // Every process took part.
    expect(new Set(records.map((record) => record.pid)).size).toBe(WORKERS);
  });
});

import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskStatus } from '../../src/core/task.ts';
import { createEngine } from '../helpers/create-engine.ts';
import type { Engine } from '../../src/store/engine.ts';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.ts';
import { IMMEDIATE_RETRY, insertTasks, listAllTasks } from '../helpers/task-fixtures.ts';
import type { ExecutionRecord } from '../helpers/test-tasks.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { readRecords, startWorker, type WorkerProcess } from '../helpers/worker-process.ts';

/**
 * PostgreSQL only: SQLite is a file, there is no server to restart. The server here is a private one
 * so that stopping it disturbs no other test.
 */
describe('PostgreSQL restarted while tasks run', () => {
  let server: PrivatePostgres;
  let engine: Engine;
  let workers: WorkerProcess[] = [];
  let recordDir: string;

  beforeAll(async () => {
    recordDir = mkdtempSync(join(tmpdir(), 'conveyor-records-'));
    server = await startPrivatePostgres();
  });

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.kill()));
    await engine?.close();
    await server?.destroy();
    if (recordDir) rmSync(recordDir, { recursive: true, force: true });
  });

  /** The counts, or undefined while the server is away. */
  const counts = async (): Promise<Record<TaskStatus, number> | undefined> => {
    try {
      return (await engine.taskStats({ now: new Date() })).byStatus;
    } catch {
      return undefined;
    }
  };

  it('the workers reconnect by themselves and finish every task', async () => {
    const url = server.url('conveyor', 'restart_test');
    engine = createEngine(url);
    await engine.migrate();
    const env = {
      CONVEYOR_TEST_RECORD_DIR: recordDir,
      CONVEYOR__WORKER__LEASE_MS: '10000',
      CONVEYOR__WORKER__POLL_INTERVAL_MS: '200',
    };
    workers = [startWorker({ databaseUrl: url, env }), startWorker({ databaseUrl: url, env })];
    await Promise.all(workers.map((worker) => worker.started()));

    const total = 200;
    await insertTasks(engine, Array.from({ length: total }, () => ({ taskType: 'record_task', payload: { delay_ms: 100 }, retryStrategy: { ...IMMEDIATE_RETRY, max_attempts: 10 } })));
    await waitFor(async () => ((await counts())?.completed ?? 0) >= 30, { message: 'some tasks completed before the restart' });

    const before = (await counts())!.completed;
    await server.stop();
    const downAt = Date.now();
    // Workers notice: claims and writes fail while the server is down.
    await Promise.all(workers.map((worker) => worker.waitForLog((line) => line.level === 'warn' && /could not/.test(line.msg ?? ''), 15_000, 'a database error')));
    // The outage's length is part of the scenario (a restart takes a moment), not a synchronisation.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await server.start();
    console.log(`PostgreSQL was down for ${Date.now() - downAt} ms; ${before} of ${total} tasks had completed`);

    await waitFor(async () => (await counts())?.completed === total, {
      timeoutMs: 60_000,
      intervalMs: 200,
      message: () => `every task completed after the restart\n${workers.map((w) => w.describe()).join('\n')}`,
    });
    const tasks = await listAllTasks(engine);
    expect(tasks.every((task) => task.status === 'completed')).toBe(true);
    // Each task ran to completion at least once (at-least-once); no attempt number ran twice.
    const records = readRecords<ExecutionRecord>(recordDir, readdirSync(recordDir));
    const seen = new Set<string>();
    for (const record of records) {
      const key = `${record.task_id}:${record.attempt}`;
      expect(seen.has(key)).toBe(false);
      seen.add(key);
    }
    expect(new Set(records.filter((r) => r.outcome === 'completed').map((r) => r.task_id)).size).toBe(total);
    for (const worker of workers) {
      expect(worker.lines.some((line) => line.msg === 'claiming works again')).toBe(true);
      expect(worker.running).toBe(true);
      expect(await worker.stop()).toBe(0);
    }
  });
});

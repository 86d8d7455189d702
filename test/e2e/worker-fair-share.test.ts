import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/store/engine.ts';
import { testDatabases, type TestDatabase } from '../helpers/databases.ts';
import { insertTasks, listAllTasks, openTestEngine } from '../helpers/task-fixtures.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startWorker, type WorkerProcess } from '../helpers/worker-process.ts';

const ANN = '01900000-0000-7000-8000-0000000000a1';
const BOB = '01900000-0000-7000-8000-0000000000b1';
const ANN_TASKS = 120;
const BOB_TASKS = 4;

describe.each(testDatabases)('fair shares in a real worker process [$kind]', ({ create }) => {
  let db: TestDatabase;
  let engine: Engine;
  let worker: WorkerProcess | undefined;

  afterEach(async () => {
    await worker?.kill();
    worker = undefined;
    await engine?.close();
    await db?.drop();
  });

  it(`one owner's ${ANN_TASKS} queued critical tasks do not keep another's ${BOB_TASKS} waiting: they finish while most of the backlog waits`, async () => {
    db = create();
    engine = await openTestEngine(db);
    for (const [id, name] of [[ANN, 'ann'], [BOB, 'bob']] as const) {
      await engine.userInsert({ user: { id, username: name, email: `${name}@example.com`, passwordHash: 'h', role: 'user', createdAt: new Date() } });
    }
    await insertTasks(engine, Array.from({ length: ANN_TASKS }, () => ({ taskType: 'delay_task', payload: { delay_ms: 200 }, priority: 'critical' as const, createdBy: ANN })));
    worker = startWorker({ databaseUrl: db.url, env: { CONVEYOR__WORKER__CONCURRENCY: '3', CONVEYOR__LOG__LEVEL: 'warn' } });
    // Ann's tasks hold every slot before Bob's arrive.
    await waitFor(async () => (await listAllTasks(engine, { status: ['completed'] })).length >= 3, { timeoutMs: 30_000, intervalMs: 50, message: () => `Ann's first tasks done\n${worker!.describe()}` });
    await insertTasks(engine, Array.from({ length: BOB_TASKS }, () => ({ taskType: 'delay_task', payload: { delay_ms: 200 }, priority: 'critical' as const, createdBy: BOB })));
    await waitFor(async () => (await listAllTasks(engine, { status: ['completed'] })).filter((t) => t.createdBy === BOB).length === BOB_TASKS, {
      timeoutMs: 60_000,
      intervalMs: 50,
      message: () => `Bob's tasks done\n${worker!.describe()}`,
    });
    // Without fair shares Bob's would start only after all of Ann's.
    const annWaiting = (await listAllTasks(engine, { status: ['pending'] })).filter((t) => t.createdBy === ANN).length;
    expect(annWaiting).toBeGreaterThan(ANN_TASKS / 2);
  });
});

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/store/engine.ts';
import { testDatabases, type TestDatabase } from '../helpers/databases.ts';
import { insertTasks, listAllTasks, openTestEngine } from '../helpers/task-fixtures.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { spawnTracked } from '../helpers/process-registry.ts';
import { WorkerProcess } from '../helpers/worker-process.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ENTRY = join(ROOT, 'test', 'e2e', 'worker-poison-entry.ts');

/**
 * Issue 14's scenario: a handler that blocks its thread forever and one that calls process.exit, among
 * 200 innocent tasks, through 3 worker processes. The poisons run with isolation: 'thread', so each
 * costs only its own attempts: both end in the dead letter with an error that says what happened,
 * every innocent task completes, and every worker is still alive at the end.
 */
describe.each(testDatabases)('poison tasks among innocent ones on $kind', ({ create }) => {
  let db: TestDatabase | undefined;
  let engine: Engine | undefined;
  let workers: WorkerProcess[] = [];

  afterEach(async () => {
    await Promise.all(workers.map((worker) => worker.kill()));
    workers = [];
    await engine?.close();
    await db?.drop();
  });

  it('both poisons end in the dead letter, all 200 innocents complete, all 3 workers stay alive', async () => {
    db = create();
    engine = await openTestEngine(db);
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      CONVEYOR__DATABASE__URL: db.url,
      CONVEYOR__LOG__LEVEL: 'info',
      CONVEYOR__WORKER__CONCURRENCY: '4',
      CONVEYOR__WORKER__POLL_INTERVAL_MS: '200',
    };
    workers = [0, 1, 2].map(() => new WorkerProcess(spawnTracked(process.execPath, ['--import', 'tsx', ENTRY], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })));
    await Promise.all(workers.map((worker) => worker.started()));

    const retry = { type: 'fixed', interval_ms: 0, jitter: 0, max_attempts: 3 } as const;
    const [block, exit] = await insertTasks(engine, [
      { taskType: 'thread_block', payload: {}, retryStrategy: retry },
      { taskType: 'thread_exit', payload: {}, retryStrategy: retry },
    ]);
    await insertTasks(engine, Array.from({ length: 200 }, () => ({ taskType: 'delay_task', payload: { delay_ms: 20 } })));

    const all = await waitFor(
      async () => {
        const tasks = await listAllTasks(engine!);
        return tasks.every((task) => task.status === 'completed' || task.status === 'failed') ? tasks : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250, message: () => `every task to finish\n${workers.map((w) => w.describe()).join('\n')}` },
    );
    const innocents = all.filter((task) => task.taskType === 'delay_task');
    expect(innocents.filter((task) => task.status === 'completed')).toHaveLength(200);

    const blocked = all.find((task) => task.id === block!.id)!;
    expect(blocked.status).toBe('failed');
    expect(blocked.currentAttempt).toBe(3);
    expect(blocked.lastError).toBe('handler blocked the thread past its 300 ms timeout and was terminated');
    const exited = all.find((task) => task.id === exit!.id)!;
    expect(exited.status).toBe('failed');
    expect(exited.currentAttempt).toBe(3);
    expect(exited.lastError).toMatch(/^the handler's thread exited with code 3 before the handler finished/);

    for (const worker of workers) {
      expect(worker.running, worker.describe()).toBe(true);
      expect(await worker.stop()).toBe(0);
    }
  });
});

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/store/engine.ts';
import { testDatabases, type TestDatabase } from '../helpers/databases.ts';
import { insertTasks, openTestEngine } from '../helpers/task-fixtures.ts';
import { spawnTracked } from '../helpers/process-registry.ts';
import { WorkerProcess } from '../helpers/worker-process.ts';

const ENTRY = join(dirname(fileURLToPath(import.meta.url)), 'worker-watchdog-entry.ts');

/** An inline handler that blocks the event loop: the watchdog thread kills the process so a supervisor can start a fresh one. */
describe.each(testDatabases)('event-loop watchdog on $kind', ({ create }) => {
  let db: TestDatabase | undefined;
  let engine: Engine | undefined;
  let worker: WorkerProcess | undefined;

  afterEach(async () => {
    await worker?.kill();
    await engine?.close();
    await db?.drop();
  });

  it('a worker whose event loop is blocked past the bound is killed (exits non-zero)', async () => {
    db = create();
    engine = await openTestEngine(db);
    const child = spawnTracked(process.execPath, ['--import', 'tsx', ENTRY], {
      cwd: join(dirname(ENTRY), '..', '..'),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', CONVEYOR__DATABASE__URL: db.url, CONVEYOR_TEST_MAX_BLOCK_MS: '1000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker = new WorkerProcess(child);
    await worker.waitForMessage('ready');
    await insertTasks(engine, [{ taskType: 'spin_inline', payload: {} }]);
    const exit = await worker.exited;
    expect(exit.code === 0 && exit.signal === null).toBe(false);
    expect(exit.signal).toBe('SIGKILL');
    expect(worker.stderr).toMatch(/the event loop has been blocked for \d+ ms \(more than 1000 ms\): killing the worker process/);
  });
});

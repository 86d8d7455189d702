import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/store/engine.ts';
import { testDatabases, type TestDatabase } from '../helpers/databases.ts';
import { countByStatus, insertTasks, openTestEngine } from '../helpers/task-fixtures.ts';
import type { ExecutionRecord } from '../helpers/test-tasks.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { readRecords, startWorker, type WorkerProcess } from '../helpers/worker-process.ts';

const TASKS = 16;
const LIMIT = 2;

describe.each(testDatabases)('a concurrency limit kept by two worker processes [$kind]', ({ create }) => {
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

  it(`runs ${TASKS} tasks of a type limited to ${LIMIT}, never more than ${LIMIT} at once across both, while another type runs freely`, async () => {
    db = create();
    engine = await openTestEngine(db);
    recordDir = mkdtempSync(join(tmpdir(), 'conveyor-limits-'));
    await engine.typeLimitSet({ taskType: 'record_task', maxRunning: LIMIT, now: new Date(), by: null });
    const env = { CONVEYOR_TEST_RECORD_DIR: recordDir, CONVEYOR__WORKER__CONCURRENCY: '4', CONVEYOR__LOG__LEVEL: 'warn' };
    workers = [startWorker({ databaseUrl: db.url, env }), startWorker({ databaseUrl: db.url, env })];
    await waitFor(async () => (await engine.workerList()).length === 2, { timeoutMs: 30_000, message: 'two registered workers' });

    await insertTasks(engine, [
      ...Array.from({ length: TASKS }, () => ({ taskType: 'record_task', payload: { delay_ms: 100 } })),
      ...Array.from({ length: 8 }, () => ({ taskType: 'delay_task', payload: { delay_ms: 0 } })),
    ]);
    await waitFor(async () => (await countByStatus(engine)).completed === TASKS + 8, {
      timeoutMs: 60_000,
      intervalMs: 100,
      message: () => `every task completed\n${workers.map((w) => w.describe()).join('\n')}`,
    });

    // From every execution's start and end: how many ran at the same moment, at most.
    const records = readRecords<ExecutionRecord>(recordDir, readdirSync(recordDir));
    expect(records).toHaveLength(TASKS);
    const edges = records.flatMap((r) => [{ at: r.start, step: 1 }, { at: r.end, step: -1 }]).sort((a, b) => a.at - b.at || a.step - b.step);
    let running = 0;
    let most = 0;
    for (const edge of edges) {
      running += edge.step;
      most = Math.max(most, running);
    }
    expect(most).toBeLessThanOrEqual(LIMIT);
    // The limit was used, not just respected: some of the time both slots were busy.
    expect(most).toBe(LIMIT);
  });
});

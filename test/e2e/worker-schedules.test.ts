import { afterEach, describe, expect, it } from 'vitest';
import { saveSchedule } from '../../src/client/save-schedule.ts';
import type { Engine } from '../../src/store/engine.ts';
import { testDatabases, type TestDatabase } from '../helpers/databases.ts';
import { listAllTasks, openTestEngine } from '../helpers/task-fixtures.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startWorker, type WorkerProcess } from '../helpers/worker-process.ts';

/** The catch-up firing, then three on time. */
const FIRINGS = 4;

describe.each(testDatabases)('a recurring schedule fired by worker processes [$kind]', ({ create }) => {
  let db: TestDatabase;
  let engine: Engine;
  let workers: WorkerProcess[] = [];

  afterEach(async () => {
    await Promise.all(workers.map((worker) => worker.kill()));
    workers = [];
    await engine?.close();
    await db?.drop();
  });

  it('every two seconds, with rounds ten seconds apart: each firing once, none skipped once a leader is up, each task run', async () => {
    db = create();
    engine = await openTestEngine(db);
    // Rounds every 10 s could not keep a 2 s schedule by themselves: only the leader's timer can.
    const env = { CONVEYOR__WORKER__MAINTENANCE_INTERVAL_MS: '10000', CONVEYOR__LOG__LEVEL: 'info' };
    workers = [startWorker({ databaseUrl: db.url, env }), startWorker({ databaseUrl: db.url, env })];
    const { schedule } = await saveSchedule(engine, { name: 'heartbeat', cron: '*/2 * * * * *', taskType: 'record_task', payload: { delay_ms: 0 } }, new Date());

    const tasks = await waitFor(
      async () => {
        const completed = await listAllTasks(engine, { status: ['completed'] });
        return completed.length >= FIRINGS ? completed : undefined;
      },
      { timeoutMs: 45_000, message: () => `${FIRINGS} completed tasks of the schedule\n${workers.map((w) => w.describe()).join('\n')}` },
    );
    await engine.scheduleUpdate({ id: schedule.id, changes: { enabled: false, nextRunAt: null }, now: new Date() });

    const dueTimes = tasks.map((task) => Date.parse(String(task.metadata.schedule_due_at))).sort((a, b) => a - b);
    expect(new Set(dueTimes).size).toBe(dueTimes.length);
    // The first firing waited for a leader's first round (5-10 s after start): it is made once, for the
    // first time missed, and the other missed times are skipped. From then on the timer keeps time.
    expect(dueTimes[0]).toBe(schedule.nextRunAt!.getTime());
    for (let i = 2; i < dueTimes.length; i++) expect(dueTimes[i]! - dueTimes[i - 1]!).toBe(2000);
    expect(tasks.every((task) => task.metadata.schedule === 'heartbeat' && task.taskType === 'record_task')).toBe(true);
    // One worker led and fired; the schedule's last run is one of these tasks.
    const firing = workers.flatMap((w) => w.lines.filter((line) => line.msg === 'schedule fired').map(() => w.pid));
    expect(new Set(firing).size).toBe(1);
    expect(tasks.map((task) => task.id)).toContain((await engine.scheduleGet({ id: schedule.id }))!.lastTaskId);
  });
});

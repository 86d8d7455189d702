import { expect, it } from 'vitest';
import { TASK_PRIORITIES, TASK_STATUSES } from '../../src/core/task.ts';
import type { TaskRecord } from '../../src/core/task.ts';
import type { Engine, TaskHistory, TaskHistoryBucket } from '../../src/store/engine.ts';
import { createEngine } from '../helpers/create-engine.ts';
import { rawExec } from '../helpers/raw-exec.ts';
import { describeEachEngine, leaseOf } from './engine-fixture.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const WEEK = 7 * 24 * HOUR;
const OWNER = '0190a4c2-0000-7000-8000-00000000000b';

describeEachEngine('per-minute rollups', (f) => {
  /** Runs `count` tasks of `taskType`: each waits `waitMs`, runs `runMs`, and ends as `outcome`. */
  async function finish(count: number, p: { taskType?: string; waitMs: number; runMs: number; outcome: 'completed' | 'failed'; createdBy?: string }) {
    const { engine, clock, insertMany, claim } = f();
    await insertMany(count, { taskType: p.taskType ?? 'email', maxAttempts: 1, ...(p.createdBy ? { createdBy: p.createdBy } : {}) });
    clock.advance(p.waitMs);
    const claimed = await claim(count, 'w', [p.taskType ?? 'email']);
    expect(claimed).toHaveLength(count);
    clock.advance(p.runMs);
    for (const task of claimed) {
      if (p.outcome === 'completed') await engine.taskComplete({ lease: leaseOf(task), output: null, now: clock.now() });
      else await engine.taskFail({ lease: leaseOf(task), error: 'boom', permanent: true, now: clock.now() });
    }
  }

  it('rolls finished tasks up per minute with their wait and run percentiles, and charts them with the tail not yet rolled up', async () => {
    const { engine, clock, db } = f();
    const start = clock.nowMs(); // 12:00:00
    await engine.userInsert({ user: { id: OWNER, username: 'bea', email: 'bea@example.com', passwordHash: 'x', role: 'user', createdAt: clock.now() } });
    await finish(3, { waitMs: 1000, runMs: 2000, outcome: 'completed' }); // finish at 12:00:03
    await finish(2, { waitMs: 500, runMs: 500, outcome: 'failed', taskType: 'report', createdBy: OWNER }); // 12:00:04
    clock.set(start + 2 * MINUTE + 5_000);
    await finish(1, { waitMs: 0, runMs: 10_000, outcome: 'completed', createdBy: OWNER }); // 12:02:15

    // 12:03:30: minutes 12:00 and 12:01 have settled (a minute after their end); 12:02 has not.
    clock.set(start + 3 * MINUTE + 30_000);
    expect(await engine.taskRollup({ now: clock.now() })).toEqual({ minutes: 2, hours: 0, rolledThrough: new Date(start + 2 * MINUTE) });
    expect(await engine.taskRollup({ now: clock.now() })).toEqual({ minutes: 0, hours: 0, rolledThrough: new Date(start + 2 * MINUTE) });

    const chart = await engine.taskHistory({ since: new Date(start), until: new Date(start + 5 * MINUTE), bucketMs: MINUTE });
    expect(chart.rolledUpThrough).toEqual(new Date(start + 2 * MINUTE));
    expect(chart.buckets.map((b) => [b.completed, b.failed])).toEqual([[3, 2], [0, 0], [1, 0], [0, 0], [0, 0]]);
    // Across types a bucket's percentile is the largest of theirs: email waited 1 s and ran 2 s.
    expect(chart.buckets[0]).toMatchObject({ waitP50Ms: 1000, waitP99Ms: 1000, runP50Ms: 2000, runP95Ms: 2000 });
    // The 12:02 minute is the tail, counted from the tasks: the same figures as a rollup would give.
    expect(chart.buckets[2]).toMatchObject({ completed: 1, waitP50Ms: 0, runP50Ms: 10_000 });
    expect(chart.buckets[1]).toMatchObject({ waitP50Ms: null, runP50Ms: null });

    const reports = await engine.taskHistory({ since: new Date(start), until: new Date(start + 5 * MINUTE), bucketMs: MINUTE, taskType: 'report' });
    expect(reports.buckets[0]).toMatchObject({ completed: 0, failed: 2, waitP50Ms: 500, runP50Ms: 500 });

    // The role user's chart: only their own tasks, rolled up and tail alike.
    const own = await engine.taskHistory({ since: new Date(start), until: new Date(start + 5 * MINUTE), bucketMs: MINUTE, createdBy: OWNER });
    expect(own.buckets.map((b) => [b.completed, b.failed])).toEqual([[0, 2], [0, 0], [1, 0], [0, 0], [0, 0]]);

    // Wider buckets add the minutes up.
    const wide = await engine.taskHistory({ since: new Date(start), until: new Date(start + 10 * MINUTE), bucketMs: 5 * MINUTE });
    expect(wide.buckets.map((b) => [b.completed, b.failed])).toEqual([[4, 2], [0, 0]]);
    // ... and keep the largest percentile of their minutes and types (the stored ones merged by the
    // database, the tail's in memory): wait 1 s (email at 12:00), run 10 s (the tail's 12:02).
    expect(wide.buckets[0]).toMatchObject({ waitP50Ms: 1000, waitP99Ms: 1000, runP50Ms: 10_000, runP99Ms: 10_000 });
    const storedOnly = await engine.taskHistory({ since: new Date(start), until: new Date(start + 2 * MINUTE), bucketMs: 2 * MINUTE });
    expect(storedOnly.buckets).toEqual([expect.objectContaining({ completed: 3, failed: 2, waitP50Ms: 1000, runP95Ms: 2000 })]);

    // The rollups are in the database: another engine on it (a restarted API) charts the same, even
    // after the tasks themselves are pruned.
    await engine.taskPrune({ finishedBefore: new Date(start + 2 * MINUTE), limit: 100 });
    const again = createEngine(db.url);
    try {
      const after = await again.taskHistory({ since: new Date(start), until: new Date(start + 5 * MINUTE), bucketMs: MINUTE });
      expect(after.buckets.map((b) => [b.completed, b.failed])).toEqual([[3, 2], [0, 0], [1, 0], [0, 0], [0, 0]]);
    } finally {
      await again.close();
    }
  });

  it('charts 7 days from hourly rollups: the buckets counted from the tasks, with hours partly rolled, after an upgrade and across a restart', async () => {
    const { engine, clock, db } = f();
    const start = clock.nowMs(); // 12:00:00, an hour boundary
    await engine.userInsert({ user: { id: OWNER, username: 'dee', email: 'dee@example.com', passwordHash: 'x', role: 'user', createdAt: clock.now() } });
    // Tasks finishing over three and a half hours: types, owners, outcomes, waits and run times vary,
    // several per minute in some minutes, so that an hour's percentile is the largest of its minutes'.
    for (let i = 0; i < 14; i++) {
      clock.set(start + i * 15 * MINUTE + 7_000 * (i % 3));
      await finish(1 + (i % 3), { taskType: i % 2 ? 'report' : 'email', waitMs: 100 * i, runMs: 1000 + 50 * (i % 5), outcome: i % 4 === 3 ? 'failed' : 'completed', ...(i % 3 === 0 ? { createdBy: OWNER } : {}) });
      if (i % 4 === 1) await finish(2, { taskType: 'email', waitMs: 40 * i, runMs: 3000 - 100 * i, outcome: 'completed' });
    }
    const tasks = (await engine.taskList({ limit: 1000, status: ['completed', 'failed'] })).tasks;
    expect(tasks.length).toBeGreaterThan(30);
    clock.set(start + 3 * HOUR + 40 * MINUTE); // 15:40

    // The 7-day chart as GET /tasks/history?range=7d asks for it, for an admin, a type and a role user.
    const week = async (on: Engine = engine) => {
      const until = (Math.floor(clock.nowMs() / HOUR) + 1) * HOUR;
      const ask = (extra: { createdBy?: string; taskType?: string }) => on.taskHistory({ since: new Date(until - WEEK), until: new Date(until), bucketMs: HOUR, ...extra });
      return { all: await ask({}), report: await ask({ taskType: 'report' }), own: await ask({ createdBy: OWNER }) };
    };
    const expected = () => {
      const until = (Math.floor(clock.nowMs() / HOUR) + 1) * HOUR;
      const direct = (keep: (task: TaskRecord) => boolean) => weekOfTasks(tasks.filter(keep), until - WEEK);
      return { all: direct(() => true), report: direct((t) => t.taskType === 'report'), own: direct((t) => t.createdBy === OWNER) };
    };
    const check = async (when: string, on?: Engine) => {
      const chart = await week(on);
      for (const key of ['all', 'report', 'own'] as const) expect(chart[key].buckets, `${when} (${key})`).toEqual(expected()[key]);
      return chart;
    };
    const sum = (history: TaskHistory) => history.buckets.reduce((n, b) => n + b.completed + b.failed, 0);

    expect(sum((await check('before any rollup')).all)).toBe(tasks.length);
    // Each call rolls an hour of minutes, then the hours those complete: 12:00-13:00 (hour 12:00),
    // 13:00-14:00 (13:00), 14:00-15:00 (14:00), 15:00-15:39 (none: 15:00 is not over).
    const calls: { minutes: number; hours: number }[] = [];
    for (;;) {
      const { minutes, hours } = await engine.taskRollup({ now: clock.now() });
      if (minutes === 0 && hours === 0) break;
      calls.push({ minutes, hours });
      await check(`after rollup call ${calls.length}`);
    }
    expect(calls).toEqual([{ minutes: 60, hours: 1 }, { minutes: 60, hours: 1 }, { minutes: 60, hours: 1 }, { minutes: 39, hours: 0 }]);

    // An upgraded database: minutes rolled before there were hours. The chart reads the minutes until
    // the next rollup makes their hours.
    await rawExec(db, 'DELETE FROM task_rollups_hourly');
    await rawExec(db, 'UPDATE task_rollup_state SET hours_through = NULL');
    await check('with minutes and no hours');
    expect(await engine.taskRollup({ now: clock.now() })).toMatchObject({ minutes: 0, hours: 3 });
    await check('after the hours were made from the minutes');

    // The whole hours come from the hourly rollups: without their minutes, the chart is the same.
    await rawExec(db, 'DELETE FROM task_rollups WHERE minute < (SELECT hours_through FROM task_rollup_state)');
    await check('from the hours alone');
    // ... across a restart of the API (another engine on the database).
    const again = createEngine(db.url);
    try {
      await check('after a restart', again);
      // More tasks finish; the 15:00 hour completes and is made into an hour.
      await finish(2, { waitMs: 10, runMs: 20, outcome: 'completed', createdBy: OWNER });
      tasks.push(...(await engine.taskList({ limit: 2, status: ['completed'] })).tasks);
      clock.set(start + 4 * HOUR + 5 * MINUTE);
      expect(await again.taskRollup({ now: clock.now() })).toMatchObject({ minutes: 25, hours: 1 });
      expect(sum((await check('after the 15:00 hour', again)).all)).toBe(tasks.length);
    } finally {
      await again.close();
    }
  });

  it('deletes hours past the charts\' reach with the minutes', async () => {
    const { engine, clock } = f();
    const start = clock.nowMs();
    await finish(1, { waitMs: 0, runMs: 1, outcome: 'completed' });
    clock.advance(2 * HOUR);
    while ((await engine.taskRollup({ now: clock.now() })).minutes > 0);
    const firstHour = () => engine.taskHistory({ since: new Date(start), until: new Date(start + HOUR), bucketMs: HOUR });
    expect((await firstHour()).buckets[0]!.completed).toBe(1);
    clock.advance(8 * 24 * HOUR);
    for (;;) {
      const { minutes, hours } = await engine.taskRollup({ now: clock.now() });
      if (minutes === 0 && hours === 0) break;
    }
    expect((await firstHour()).buckets[0]!.completed).toBe(0);
  });

  it('catches up on a long history an hour of minutes per run, starting at most 7 days back', async () => {
    const { engine, clock } = f();
    // Nothing finished yet: nothing to roll up, and the rollup starts from the present.
    expect((await engine.taskRollup({ now: clock.now() })).minutes).toBe(0);
    await finish(1, { waitMs: 0, runMs: 1, outcome: 'completed' });
    clock.advance(10 * 24 * 60 * MINUTE); // ten days later
    const first = await engine.taskRollup({ now: clock.now() });
    expect(first.minutes).toBe(60);
    expect(first.rolledThrough!.getTime()).toBe(Math.floor((clock.nowMs() - 7 * 24 * 60 * MINUTE) / MINUTE) * MINUTE + 60 * MINUTE);
    expect((await engine.taskRollup({ now: clock.now() })).minutes).toBe(60);
  });

  it('counts by status, type and priority without the history: the same as counting every task, through rollups, retries, deletes and prunes', async () => {
    const { engine, clock, insert, claim } = f();
    const start = clock.nowMs();
    await engine.userInsert({ user: { id: OWNER, username: 'cy', email: 'cy@example.com', passwordHash: 'x', role: 'user', createdAt: clock.now() } });
    await finish(3, { waitMs: 100, runMs: 100, outcome: 'completed' });
    await finish(2, { waitMs: 100, runMs: 100, outcome: 'failed', taskType: 'report', createdBy: OWNER });
    await insert({ taskType: 'email', priority: 'high', createdBy: OWNER });
    await insert({ taskType: 'webhook', scheduledAt: new Date(start + 3_600_000) });
    await insert({ taskType: 'webhook', priority: 'low' });
    await claim(1, 'w', ['webhook']);
    const cancelled = await insert({ taskType: 'report', createdBy: OWNER });
    await engine.taskCancel({ id: cancelled.id, now: clock.now() });
    const check = async (when: string) => {
      for (const createdBy of [undefined, OWNER]) {
        const stats = await engine.taskStats({ now: clock.now(), ...(createdBy ? { createdBy } : {}) });
        const expected = await fullCount(engine, createdBy);
        expect({ total: stats.total, byStatus: stats.byStatus, byType: stats.byType, byPriority: stats.byPriority }, `${when} (${createdBy ?? 'all'})`).toEqual(expected);
      }
    };
    await check('before any rollup');
    clock.advance(3 * MINUTE);
    expect((await engine.taskRollup({ now: clock.now() })).minutes).toBeGreaterThan(0);
    await check('after the rollup');
    // A dead-lettered task that was counted runs again; a counted completed one is deleted.
    const [failed] = (await engine.taskList({ limit: 1, status: ['failed'] })).tasks;
    expect((await engine.taskRetry({ id: failed!.id, now: clock.now() })).outcome).toBe('retried');
    const [completed] = (await engine.taskList({ limit: 1, status: ['completed'] })).tasks;
    expect(await engine.taskDelete({ id: completed!.id })).toBe('deleted');
    await check('after a retry and a delete');
    // More finish after the rollup: the tail; then a prune of the oldest.
    await finish(2, { waitMs: 100, runMs: 100, outcome: 'completed', createdBy: OWNER });
    await check('with a tail');
    expect(await engine.taskPrune({ finishedBefore: new Date(start + MINUTE), limit: 2 })).toBe(2);
    await check('after a prune');
    clock.advance(3 * MINUTE);
    await engine.taskRollup({ now: clock.now() });
    await check('after a second rollup');
  });
});

/** Counts by every task, read through the list: what GET /tasks/stats gave before the rollups. */
async function fullCount(engine: Engine, createdBy?: string) {
  const byStatus = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<string, number>;
  const byType: Record<string, Record<string, number>> = {};
  const byPriority = Object.fromEntries(TASK_PRIORITIES.map((p) => [p, {}])) as Record<string, Record<string, number>>;
  const { tasks } = await engine.taskList({ limit: 1000, ...(createdBy ? { createdBy } : {}) });
  for (const task of tasks) {
    byStatus[task.status]! += 1;
    (byType[task.taskType] ??= {})[task.status] = (byType[task.taskType]![task.status] ?? 0) + 1;
    byPriority[task.priority]![task.status] = (byPriority[task.priority]![task.status] ?? 0) + 1;
  }
  return { total: tasks.length, byStatus, byType, byPriority };
}

/**
 * The 7-day chart from the tasks themselves, as the charts have always been defined: per minute and
 * type, counts and nearest-rank percentiles of queue wait and run time; per hour, the counts added up
 * and each percentile the largest of its minutes'.
 */
function weekOfTasks(tasks: readonly TaskRecord[], since: number): TaskHistoryBucket[] {
  const rank = (values: number[], p: number) => (values.length === 0 ? null : values.sort((a, b) => a - b)[Math.max(0, Math.ceil(p * values.length) - 1)]!);
  const minutes = new Map<string, TaskRecord[]>();
  for (const task of tasks) {
    const key = `${Math.floor(task.completedAt!.getTime() / MINUTE)}|${task.taskType}`;
    minutes.set(key, [...(minutes.get(key) ?? []), task]);
  }
  const buckets: TaskHistoryBucket[] = Array.from({ length: 168 }, (_, i) => ({
    start: new Date(since + i * HOUR), completed: 0, failed: 0, cancelled: 0,
    waitP50Ms: null, waitP95Ms: null, waitP99Ms: null, runP50Ms: null, runP95Ms: null, runP99Ms: null,
  }));
  const max = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));
  for (const group of minutes.values()) {
    const bucket = buckets[Math.floor((group[0]!.completedAt!.getTime() - since) / HOUR)];
    if (!bucket) continue;
    for (const task of group) bucket[task.status as 'completed' | 'failed' | 'cancelled'] += 1;
    const started = group.filter((task) => task.startedAt !== null);
    const waits = started.map((task) => Math.max(0, task.startedAt!.getTime() - task.runAt.getTime()));
    const runs = started.map((task) => Math.max(0, task.completedAt!.getTime() - task.startedAt!.getTime()));
    bucket.waitP50Ms = max(bucket.waitP50Ms, rank(waits, 0.5));
    bucket.waitP95Ms = max(bucket.waitP95Ms, rank(waits, 0.95));
    bucket.waitP99Ms = max(bucket.waitP99Ms, rank(waits, 0.99));
    bucket.runP50Ms = max(bucket.runP50Ms, rank(runs, 0.5));
    bucket.runP95Ms = max(bucket.runP95Ms, rank(runs, 0.95));
    bucket.runP99Ms = max(bucket.runP99Ms, rank(runs, 0.99));
  }
  return buckets;
}

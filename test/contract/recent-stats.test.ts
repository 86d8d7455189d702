import { expect, it } from 'vitest';
import { listAllTasks } from '../helpers/task-fixtures.ts';
import { describeEachEngine, type EngineFixture, leaseOf } from './engine-fixture.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const OWNER = '0190a4c2-0000-7000-8000-0000000000bb';

/**
 * The last hour's figures of GET /tasks/stats read the rollups for the whole minutes before
 * rolled_through and the tasks for the rest: they must equal a direct count of the tasks, wherever
 * the hour starts in a minute and wherever rolled_through is.
 */
describeEachEngine('recent finishes in the stats', (f) => {
  async function finishAt(fx: EngineFixture, atMs: number, count: number, outcome: 'completed' | 'failed', createdBy?: string) {
    fx.clock.set(atMs);
    await fx.insertMany(count, { taskType: 'email', maxAttempts: 1, ...(createdBy ? { createdBy } : {}) });
    const claimed = await fx.claim(count, 'w', ['email']);
    expect(claimed).toHaveLength(count);
    for (const task of claimed) {
      if (outcome === 'completed') await fx.engine.taskComplete({ lease: leaseOf(task), output: null, now: fx.clock.now() });
      else await fx.engine.taskFail({ lease: leaseOf(task), error: 'boom', permanent: true, now: fx.clock.now() });
    }
  }

  async function expectDirectCounts(fx: EngineFixture, createdBy?: string) {
    const now = fx.clock.nowMs();
    const tasks = (await listAllTasks(fx.engine)).filter((task) => createdBy === undefined || task.createdBy === createdBy);
    const since = (status: string, fromMs: number) => tasks.filter((task) => task.status === status && task.completedAt !== null && task.completedAt.getTime() >= fromMs).length;
    const stats = await fx.engine.taskStats({ now: fx.clock.now(), ...(createdBy ? { createdBy } : {}) });
    const direct = {
      completedLastMinute: since('completed', now - MINUTE),
      completedLastHour: since('completed', now - HOUR),
      failedLastMinute: since('failed', now - MINUTE),
      failedLastHour: since('failed', now - HOUR),
    };
    expect({
      completedLastMinute: stats.completedLastMinute,
      completedLastHour: stats.completedLastHour,
      failedLastMinute: stats.failedLastMinute,
      failedLastHour: stats.failedLastHour,
    }).toEqual(direct);
    return direct;
  }

  it('counts the last minute and hour exactly, before and after the rollup point', async () => {
    const fx = f();
    const { engine, clock } = fx;
    const start = clock.nowMs(); // 12:00:00
    await engine.userInsert({ user: { id: OWNER, username: 'sta', email: 'sta@example.com', passwordHash: 'x', role: 'user', createdAt: clock.now() } });
    await finishAt(fx, start + 10_000, 2, 'completed'); // 12:00:10: in a rolled minute, but before the hour at 13:00:25.5
    await finishAt(fx, start + 10_000, 1, 'failed', OWNER);
    await finishAt(fx, start + 40_000, 1, 'completed', OWNER); // 12:00:40: in the hour's first, partial minute
    await finishAt(fx, start + 40_000, 1, 'failed');
    clock.set(start + 150_000); // 12:02:30: rolls 12:00 up (a minute settles a minute after its end)
    expect(await engine.taskRollup({ now: clock.now() })).toMatchObject({ rolledThrough: new Date(start + MINUTE) });
    expect(await expectDirectCounts(fx)).toEqual({ completedLastMinute: 0, completedLastHour: 3, failedLastMinute: 0, failedLastHour: 2 });
    await finishAt(fx, start + 10 * MINUTE + 20_000, 3, 'completed', OWNER); // whole minutes in the middle
    await finishAt(fx, start + 10 * MINUTE + 20_000, 2, 'failed', OWNER);
    await finishAt(fx, start + 30 * MINUTE + 5_000, 1, 'failed');
    await finishAt(fx, start + 58 * MINUTE + 59_000, 2, 'completed'); // 12:58:59: the last rolled minute below
    await finishAt(fx, start + 59 * MINUTE + 30_000, 1, 'completed', OWNER); // 12:59:30: after rolled_through

    // 13:00:25.5: the hour starts at 12:00:25.5. First with rolled_through still at 12:01 (before the
    // hour's first whole minute), then rolled through 12:59.
    clock.set(start + HOUR + 25_500);
    expect(await expectDirectCounts(fx)).toEqual({ completedLastMinute: 1, completedLastHour: 7, failedLastMinute: 0, failedLastHour: 4 });
    await expectDirectCounts(fx, OWNER);
    expect(await engine.taskRollup({ now: clock.now() })).toMatchObject({ rolledThrough: new Date(start + 59 * MINUTE) });
    expect(await expectDirectCounts(fx)).toEqual({ completedLastMinute: 1, completedLastHour: 7, failedLastMinute: 0, failedLastHour: 4 });
    expect(await expectDirectCounts(fx, OWNER)).toEqual({ completedLastMinute: 1, completedLastHour: 5, failedLastMinute: 0, failedLastHour: 2 });

    // A few more after the rollup point; then later, the hour aligned on a minute.
    await finishAt(fx, start + HOUR + 40_000, 2, 'failed', OWNER);
    await expectDirectCounts(fx);
    await expectDirectCounts(fx, OWNER);
    clock.set(start + HOUR + 10 * MINUTE);
    await engine.taskRollup({ now: clock.now() });
    expect(await expectDirectCounts(fx)).toEqual({ completedLastMinute: 0, completedLastHour: 6, failedLastMinute: 0, failedLastHour: 5 });
    await expectDirectCounts(fx, OWNER);
    // Long after: nothing in the hour, whatever the rollups hold.
    clock.set(start + 3 * HOUR);
    await engine.taskRollup({ now: clock.now() });
    expect(await expectDirectCounts(fx)).toEqual({ completedLastMinute: 0, completedLastHour: 0, failedLastMinute: 0, failedLastHour: 0 });
  });
  it('keeps counting a failure retried after its minute was rolled up, as the chart does (documented difference from a direct count)', async () => {
    const fx = f();
    const { engine, clock } = fx;
    const start = clock.nowMs();
    await finishAt(fx, start + 10_000, 2, 'failed');
    clock.set(start + 3 * MINUTE);
    await engine.taskRollup({ now: clock.now() });
    const [failed] = (await engine.taskList({ limit: 1, status: ['failed'] })).tasks;
    expect((await engine.taskRetry({ id: failed!.id, now: clock.now() })).outcome).toBe('retried');
    // The rolled-up minute 12:00 holds two failures; only one task is still failed.
    expect(await engine.taskStats({ now: clock.now() })).toMatchObject({ failedLastHour: 2, byStatus: { failed: 1, pending: 1 } });
    const chart = await engine.taskHistory({ since: new Date(start), until: new Date(start + MINUTE), bucketMs: MINUTE });
    expect(chart.buckets[0]).toMatchObject({ failed: 2 });
  });
});

import { expect, it } from 'vitest';
import { createEngine } from '../helpers/create-engine.ts';
import { describeEachEngine, leaseOf } from './engine-fixture.ts';

const MINUTE = 60_000;
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
    expect(await engine.taskRollup({ now: clock.now() })).toEqual({ minutes: 2, rolledThrough: new Date(start + 2 * MINUTE) });
    expect(await engine.taskRollup({ now: clock.now() })).toEqual({ minutes: 0, rolledThrough: new Date(start + 2 * MINUTE) });

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
});

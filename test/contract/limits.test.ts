import { expect, it } from 'vitest';
import { createEngine } from '../helpers/create-engine.ts';
import { describeEachEngine, leaseOf } from './engine-fixture.ts';

describeEachEngine('concurrency limits per task type', (f) => {
  it('never claims past a type\'s limit; other types are claimed as usual; a finished task frees a slot', async () => {
    const { engine, clock, insertMany, claim } = f();
    // Emails first in line (critical), reports behind them.
    await insertMany(5, { taskType: 'email', priority: 'critical' });
    await insertMany(2, { taskType: 'report' });
    expect(await engine.typeLimitSet({ taskType: 'email', maxRunning: 2, now: clock.now(), by: null })).toMatchObject({ taskType: 'email', maxRunning: 2, updatedBy: null });

    const first = await claim(10);
    expect(first.map((t) => t.taskType).sort()).toEqual(['email', 'email', 'report', 'report']);
    expect(first.filter((t) => t.taskType === 'email').every((t) => t.limited === true)).toBe(true);
    expect(first.filter((t) => t.taskType === 'report').every((t) => t.limited === undefined)).toBe(true);
    // At its limit: nothing more of the type, by this claimer or another.
    expect(await claim(10, 'worker-b')).toEqual([]);
    // Held back, not waiting for a due time: an idle worker is told to look again soon.
    expect(await engine.taskNextDueAt({ taskTypes: ['email'], now: clock.now() })).toEqual(new Date(clock.now().getTime() + 500));

    const email = first.find((t) => t.taskType === 'email')!;
    await engine.taskComplete({ lease: leaseOf({ id: email.id, currentAttempt: email.currentAttempt, workerId: email.workerId }), output: null, now: clock.now() });
    expect((await claim(10, 'worker-b')).map((t) => t.taskType)).toEqual(['email']);

    // Raised, then removed: the rest come.
    await engine.typeLimitSet({ taskType: 'email', maxRunning: 3, now: clock.now(), by: null });
    expect(await claim(10)).toHaveLength(1);
    expect(await engine.typeLimitList()).toEqual([expect.objectContaining({ taskType: 'email', maxRunning: 3 })]);
    expect(await engine.typeLimitSet({ taskType: 'email', maxRunning: null, now: clock.now(), by: null })).toBeNull();
    expect(await engine.typeLimitList()).toEqual([]);
    expect(await claim(10)).toHaveLength(1);
    await expect(engine.typeLimitSet({ taskType: 'email', maxRunning: 0, now: clock.now(), by: null })).rejects.toMatchObject({ code: 'CONVEYOR_VALIDATION', field: 'max_running' });
  });

  it('claimers racing for a limited type never hold more than the limit between them', async () => {
    const { engine, db, clock, insertMany } = f();
    await insertMany(60);
    await engine.typeLimitSet({ taskType: 'email', maxRunning: 3, now: clock.now(), by: null });
    // Separate engines (their own connections), as separate workers would have.
    const claimers = Array.from({ length: 6 }, () => createEngine(db.url));
    try {
      let running = 0;
      let most = 0;
      let done = 0;
      await Promise.all(
        claimers.map(async (claimer, n) => {
          const workerId = `worker-${n}`;
          while (done < 60) {
            const batch = await claimer.taskClaim({ workerId, taskTypes: ['email'], limit: 5, now: clock.now(), leaseMs: 60_000 });
            running += batch.length;
            most = Math.max(most, running);
            for (const task of batch) {
              await claimer.taskComplete({ lease: { id: task.id, attempt: task.currentAttempt, workerId }, output: null, now: clock.now() });
              // Counted down only once written: until then the database still counts it as running.
              running -= 1;
              done += 1;
            }
            if (batch.length === 0) await new Promise((resolve) => setImmediate(resolve));
          }
        }),
      );
      expect(done).toBe(60);
      expect(most).toBeLessThanOrEqual(3);
      expect(most).toBeGreaterThan(0);
    } finally {
      await Promise.all(claimers.map((c) => c.close()));
    }
  });
  it('a limit set by another process applies to a worker that claimed before it, once a second has passed on its clock', async () => {
    const { db, clock, insertMany, claim } = f();
    await insertMany(3);
    // This worker claims once, with no limit known, then idles.
    expect(await claim(1)).toHaveLength(1);
    const other = createEngine(db.url);
    try {
      await other.typeLimitSet({ taskType: 'email', maxRunning: 1, now: clock.now(), by: null });
    } finally {
      await other.close();
    }
    clock.advance(1000);
    // One email already runs: the limit holds the rest back.
    expect(await claim(10)).toEqual([]);
  });
});

import { expect, it } from 'vitest';
import { DEFAULT_BREAKER_CONFIG } from '../../src/core/circuit-breaker.ts';
import { createEngine } from '../helpers/create-engine.ts';
import { DRAIN_TASKS } from '../helpers/load-size.ts';
import { describeEachEngine } from './engine-fixture.ts';

describeEachEngine('claim', (f) => {
  it('claims critical > high > normal > low, then by due time, then by creation', async () => {
    const { clock, insert, claim } = f();
    const lowOld = await insert({ priority: 'low' });
    clock.advance(1);
    const normalA = await insert({ priority: 'normal' });
    clock.advance(1);
    const normalB = await insert({ priority: 'normal' });
    clock.advance(1);
    const critical = await insert({ priority: 'critical' });
    clock.advance(1);
    const high = await insert({ priority: 'high' });
    // Due earlier than normalA although created later: due time comes before creation.
    const normalDueEarly = await insert({ priority: 'normal', scheduledAt: new Date(clock.now().getTime() - 10_000) });
    const claimed = await claim(10);
    expect(claimed.map((t) => t.id)).toEqual([critical.id, high.id, normalDueEarly.id, normalA.id, normalB.id, lowOld.id]);
  });

  it('takes at most `limit` tasks and never the same one twice', async () => {
    const { insertMany, claim } = f();
    await insertMany(7);
    const first = await claim(3);
    const second = await claim(3, 'worker-b');
    const third = await claim(3, 'worker-c');
    expect([first.length, second.length, third.length]).toEqual([3, 3, 1]);
    const ids = [...first, ...second, ...third].map((t) => t.id);
    expect(new Set(ids).size).toBe(7);
    expect(await claim(3)).toEqual([]);
  });

  it('marks a claimed task running, leased to the worker, attempt counted', async () => {
    const { clock, insert, claim, engine } = f();
    const task = await insert();
    const [claimed] = await claim(1, 'worker-x');
    expect(claimed).toEqual({
      id: task.id,
      taskType: task.taskType,
      payload: task.payload,
      priority: task.priority,
      runAt: task.runAt,
      currentAttempt: 1,
      maxAttempts: task.maxAttempts,
      metadata: task.metadata,
      idempotencyKey: task.idempotencyKey,
      createdBy: task.createdBy,
      breakerScope: null,
      createdAt: task.createdAt,
      rescueCount: 0,
      unstartedLosses: 0,
      startRecorded: true,
      workerId: 'worker-x',
    });
    const stored = await engine.taskGet({ id: task.id });
    expect(stored).toMatchObject({ status: 'running', currentAttempt: 1, workerId: 'worker-x', startedAt: clock.now() });
    expect(stored!.leaseExpiresAt).toEqual(new Date(clock.now().getTime() + 30_000));
  });

  it('does not claim a scheduled task before it is due, and claims it once due', async () => {
    const { clock, insert, claim } = f();
    const later = await insert({ scheduledAt: new Date(clock.now().getTime() + 5000) });
    expect(later.status).toBe('scheduled');
    expect(await claim()).toEqual([]);
    clock.advance(4999);
    expect(await claim()).toEqual([]);
    clock.advance(1);
    expect((await claim()).map((t) => t.id)).toEqual([later.id]);
  });

  it('claims only the task types asked for', async () => {
    const { insert, claim } = f();
    await insert({ taskType: 'email' });
    const report = await insert({ taskType: 'report' });
    expect((await claim(10, 'w', ['report'])).map((t) => t.id)).toEqual([report.id]);
    expect(await claim(10, 'w', [])).toEqual([]);
  });

  it('never claims a type whose breaker is open, and claims it again once half-open', async () => {
    const { engine, clock, insert, claim } = f();
    const email = await insert({ taskType: 'email' });
    const webhook = await insert({ taskType: 'webhook' });
    for (let i = 0; i < DEFAULT_BREAKER_CONFIG.failureThreshold; i++) {
      await engine.breakerRecord({ taskType: 'email', outcome: 'failure', now: clock.now(), config: DEFAULT_BREAKER_CONFIG });
    }
    expect((await claim(10)).map((t) => t.id)).toEqual([webhook.id]);
    clock.advance(DEFAULT_BREAKER_CONFIG.openMs);
    expect((await claim(10)).map((t) => t.id)).toEqual([email.id]);
    // Waiting behind an open breaker spent no attempt.
    expect((await engine.taskGet({ id: email.id }))!.currentAttempt).toBe(1);
  });

  it(`lets 8 concurrent claimers drain ${DRAIN_TASKS} tasks without ever sharing one`, async () => {
    const { engine, db, clock, insertMany } = f();
    await insertMany(DRAIN_TASKS);
    // Separate engines (their own connections), as separate workers would have.
    const claimers = Array.from({ length: 8 }, () => createEngine(db.url));
    try {
      const seen = new Map<string, string>();
      await Promise.all(
        claimers.map(async (claimer, n) => {
          const workerId = `worker-${n}`;
          for (;;) {
            const batch = await claimer.taskClaim({ workerId, taskTypes: ['email'], limit: 25, now: clock.now(), leaseMs: 60_000 });
            if (batch.length === 0) return;
            for (const task of batch) {
              expect(seen.get(task.id), `task ${task.id} claimed twice`).toBeUndefined();
              seen.set(task.id, workerId);
              expect(await claimer.taskComplete({ lease: { id: task.id, attempt: task.currentAttempt, workerId }, output: null, now: clock.now() })).toBe(true);
            }
          }
        }),
      );
      expect(seen.size).toBe(DRAIN_TASKS);
      const stats = await engine.taskStats({ now: clock.now() });
      expect(stats.byStatus.completed).toBe(DRAIN_TASKS);
      expect(new Set(seen.values()).size).toBeGreaterThan(1);
    } finally {
      await Promise.all(claimers.map((c) => c.close()));
    }
  });
});

import { expect, it } from 'vitest';
import { newTask } from '../../src/core/new-task.ts';
import { describeEachEngine, leaseOf } from './engine-fixture.ts';

describeEachEngine('get, list, stats', (f) => {
  it('returns null for a task that does not exist', async () => {
    expect(await f().engine.taskGet({ id: '0190a4c2-0000-7000-8000-000000000000' })).toBeNull();
  });

  it('lists newest first and pages through every task exactly once with the cursor', async () => {
    const { engine, clock, insert } = f();
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) {
      ids.push((await insert({ payload: { i } })).id);
      clock.advance(1);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const result = await engine.taskList({ limit: 10, withTotal: true, ...(cursor ? { cursor } : {}) });
      expect(result.total).toBe(23);
      seen.push(...result.tasks.map((t) => t.id));
      if (!result.nextCursor) break;
      cursor = result.nextCursor;
    }
    expect(seen).toEqual([...ids].reverse());
  });

  it('filters by status, type, priority, owner, creation range and id prefix', async () => {
    const { engine, clock, insert, claim } = f();
    const user = await engine.userInsert({ user: { id: '0190a4c2-0000-7000-8000-00000000000a', username: 'ann', email: 'ann@example.com', passwordHash: 'x', role: 'user', createdAt: clock.now() } });
    const a = await insert({ taskType: 'email', priority: 'high', createdBy: user.id });
    clock.advance(1000);
    const b = await insert({ taskType: 'report', priority: 'low' });
    clock.advance(1000);
    const c = await insert({ taskType: 'report', priority: 'high', createdBy: user.id });
    await claim(1, 'w', ['report']); // c is high priority: it runs first
    const list = async (p: Parameters<typeof engine.taskList>[0]) => (await engine.taskList(p)).tasks.map((t) => t.id);
    expect(await list({ limit: 10, status: ['running'] })).toEqual([c.id]);
    expect(await list({ limit: 10, status: ['pending', 'running'] })).toEqual([c.id, b.id, a.id]);
    expect(await list({ limit: 10, taskType: ['report'] })).toEqual([c.id, b.id]);
    expect(await list({ limit: 10, priority: ['high'] })).toEqual([c.id, a.id]);
    expect(await list({ limit: 10, createdBy: user.id })).toEqual([c.id, a.id]);
    expect(await list({ limit: 10, createdAfter: new Date(b.createdAt.getTime()) })).toEqual([c.id, b.id]);
    expect(await list({ limit: 10, createdBefore: new Date(b.createdAt.getTime()) })).toEqual([a.id]);
    expect(await list({ limit: 10, idPrefix: b.id.slice(0, 23) })).toEqual([b.id]);
    expect((await engine.taskList({ limit: 1, taskType: ['report'], withTotal: true })).total).toBe(2);
  });

  it('counts by status, type and priority, the oldest ready age, and recent outcomes', async () => {
    const { engine, clock, insert, claim } = f();
    const user = await engine.userInsert({ user: { id: '0190a4c2-0000-7000-8000-00000000000b', username: 'bob', email: 'bob@example.com', passwordHash: 'x', role: 'user', createdAt: clock.now() } });
    await insert({ taskType: 'email', priority: 'critical' });
    clock.advance(1000);
    await insert({ taskType: 'email', createdBy: user.id });
    await insert({ taskType: 'report', priority: 'low', scheduledAt: new Date(clock.now().getTime() + 3_600_000) });
    await insert({ taskType: 'webhook', maxAttempts: 1 });
    const [first] = await claim(1, 'w', ['email']); // the critical one
    await engine.taskComplete({ lease: leaseOf(first!), output: null, now: clock.now() });
    const [hook] = await claim(1, 'w', ['webhook']);
    await engine.taskFail({ lease: leaseOf(hook!), error: 'x', now: clock.now() });
    clock.advance(2000);
    const stats = await engine.taskStats({ now: clock.now() });
    expect(stats.total).toBe(4);
    expect(stats.byStatus).toEqual({ pending: 1, scheduled: 1, running: 0, retrying: 0, completed: 1, failed: 1, cancelled: 0 });
    expect(stats.byType).toEqual({ email: { completed: 1, pending: 1 }, report: { scheduled: 1 }, webhook: { failed: 1 } });
    expect(stats.byPriority.critical).toEqual({ completed: 1 });
    expect(stats.byPriority.low).toEqual({ scheduled: 1 });
    expect(stats.oldestReadyAgeMs).toBe(2000);
    expect([stats.completedLastMinute, stats.completedLastHour, stats.failedLastMinute, stats.failedLastHour]).toEqual([1, 1, 1, 1]);
    clock.advance(120_000);
    const later = await engine.taskStats({ now: clock.now() });
    expect([later.completedLastMinute, later.completedLastHour, later.failedLastMinute]).toEqual([0, 1, 0]);
    const mine = await engine.taskStats({ now: clock.now(), createdBy: user.id });
    expect(mine.total).toBe(1);
    expect(mine.byStatus.pending).toBe(1);
  });

  it('reports no ready age when nothing waits', async () => {
    const { engine, clock } = f();
    await engine.taskInsert({ task: newTask({ taskType: 'email', payload: {}, scheduledAt: new Date(clock.now().getTime() + 1000) }, clock.now()) });
    expect((await engine.taskStats({ now: clock.now() })).oldestReadyAgeMs).toBeNull();
  });
});

import { expect, it } from 'vitest';
import { uuidv7 } from '../../src/core/id.ts';
import { newTask } from '../../src/core/new-task.ts';
import { newSchedule } from '../../src/core/schedule.ts';
import { describeEachEngine } from './engine-fixture.ts';

describeEachEngine('quota counts per owner', (f) => {
  async function user(name: string) {
    const { engine, clock } = f();
    return engine.userInsert({ user: { id: uuidv7(clock.now().getTime()), username: name, email: `${name}@example.com`, passwordHash: 'x', role: 'user', createdAt: clock.now() } });
  }
  const minuteAgo = () => new Date(f().clock.now().getTime() - 60_000);

  it('counts an owner\'s tasks of the last minute, its waiting tasks and its stored payload bytes; a batch counts each task', async () => {
    const { engine, clock } = f();
    const alice = await user('alice');
    const bob = await user('bob');
    const payload = { text: 'x'.repeat(100) };
    const bytes = Buffer.byteLength(JSON.stringify(payload));
    expect(await engine.ownerUsage({ ownerId: alice.id, since: minuteAgo() })).toEqual({ createdInWindow: 0, oldestInWindow: null, waiting: 0, payloadBytes: 0 });

    const first = clock.now();
    await engine.taskInsert({ task: newTask({ taskType: 't', payload, createdBy: alice.id }, clock.now()) });
    clock.advance(30_000);
    await engine.taskInsertMany({ tasks: Array.from({ length: 1000 }, () => newTask({ taskType: 't', payload, createdBy: alice.id }, clock.now())) });
    await engine.taskInsert({ task: newTask({ taskType: 't', payload, createdBy: bob.id }, clock.now()) });
    await engine.taskInsert({ task: newTask({ taskType: 't', payload }, clock.now()) });

    const usage = await engine.ownerUsage({ ownerId: alice.id, since: minuteAgo() });
    expect(usage).toMatchObject({ createdInWindow: 1001, oldestInWindow: first, waiting: 1001 });
    // Each engine counts its stored JSON text; PostgreSQL's jsonb prints `"text": "..."` with a space.
    expect(usage.payloadBytes).toBeGreaterThanOrEqual(1001 * bytes);
    expect(usage.payloadBytes).toBeLessThanOrEqual(1001 * (bytes + 2));

    // A minute after the first task it leaves the window; a claimed task no longer waits.
    clock.advance(30_001);
    await engine.taskClaim({ workerId: 'w', taskTypes: ['t'], limit: 10, now: clock.now(), leaseMs: 60_000 });
    expect(await engine.ownerUsage({ ownerId: alice.id, since: minuteAgo() })).toMatchObject({ createdInWindow: 1000, waiting: 991 });
    expect((await engine.ownerUsage({ ownerId: bob.id, since: minuteAgo() })).createdInWindow).toBe(1);
  });

  it('gives stored bytes back when tasks are deleted or pruned', async () => {
    const { engine, clock } = f();
    const alice = await user('alice');
    const { task } = await engine.taskInsert({ task: newTask({ taskType: 't', payload: { a: 1 }, createdBy: alice.id }, clock.now()) });
    expect((await engine.ownerUsage({ ownerId: alice.id, since: minuteAgo() })).payloadBytes).toBeGreaterThan(0);
    await engine.taskCancel({ id: task.id, now: clock.now() });
    expect(await engine.taskDelete({ id: task.id })).toBe('deleted');
    expect((await engine.ownerUsage({ ownerId: alice.id, since: minuteAgo() })).payloadBytes).toBe(0);
  });

  it('counts email recipients against a cap all or nothing, each task once', async () => {
    const { engine, clock } = f();
    const alice = await user('alice');
    const since = () => new Date(clock.now().getTime() - 86_400_000);
    const [a, b, c] = [uuidv7(), uuidv7(), uuidv7()];
    expect(await engine.emailRecipientsCount({ ownerId: alice.id, entries: [{ taskId: a, recipients: 6 }], since: since(), cap: 10, now: clock.now() })).toEqual({ counted: true, used: 0 });
    // The same task again (a retried send) is not counted twice, even at the cap.
    expect(await engine.emailRecipientsCount({ ownerId: alice.id, entries: [{ taskId: a, recipients: 6 }], since: since(), cap: 6, now: clock.now() })).toEqual({ counted: true, used: 6 });
    // A batch that would pass the cap is refused whole.
    expect(await engine.emailRecipientsCount({ ownerId: alice.id, entries: [{ taskId: b, recipients: 2 }, { taskId: c, recipients: 3 }], since: since(), cap: 10, now: clock.now() })).toEqual({ counted: false, used: 6 });
    expect(await engine.emailRecipientsCount({ ownerId: alice.id, entries: [{ taskId: b, recipients: 4 }], since: since(), cap: 10, now: clock.now() })).toEqual({ counted: true, used: 6 });
    // A day later the window is empty again.
    clock.advance(86_400_001);
    expect(await engine.emailRecipientsCount({ ownerId: alice.id, entries: [{ taskId: c, recipients: 10 }], since: since(), cap: 10, now: clock.now() })).toEqual({ counted: true, used: 0 });
  });

  it('a skipped firing moves the schedule on, creates no task, and says why on the schedule', async () => {
    const { engine, clock } = f();
    const alice = await user('alice');
    const schedule = await engine.scheduleInsert({ schedule: newSchedule({ name: 'n', cron: '*/5 * * * *', taskType: 't', payload: {}, createdBy: alice.id }, clock.now()) });
    const dueAt = schedule.nextRunAt!;
    const next = new Date(dueAt.getTime() + 300_000);
    clock.advance(300_000);
    expect(await engine.scheduleSkip({ id: schedule.id, dueAt, nextRunAt: next, reason: 'Quota waiting_tasks', now: clock.now() })).toBe(true);
    expect(await engine.scheduleSkip({ id: schedule.id, dueAt, nextRunAt: next, reason: 'again', now: clock.now() })).toBe(false);
    expect(await engine.scheduleGet({ id: schedule.id })).toMatchObject({ nextRunAt: next, lastRunAt: null, lastTaskId: null, lastSkippedAt: clock.now(), lastSkipReason: 'Quota waiting_tasks' });
    expect((await engine.taskList({ limit: 10 })).tasks).toEqual([]);
  });
});

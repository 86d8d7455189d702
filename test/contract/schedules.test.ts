import { expect, it } from 'vitest';
import { uuidv7 } from '../../src/core/id.ts';
import { newSchedule, reviseSchedule, taskForFiring, type ScheduleInput } from '../../src/core/schedule.ts';
import { describeEachEngine } from './engine-fixture.ts';

const NIGHTLY: ScheduleInput = { name: 'nightly-report', cron: '0 3 * * *', taskType: 'report', payload: { kind: 'daily' }, priority: 'high' };

describeEachEngine('recurring schedules', (f) => {
  async function user(name: string) {
    const { engine, clock } = f();
    return engine.userInsert({ user: { id: uuidv7(), username: name, email: `${name}@example.com`, passwordHash: 'x', role: 'user', createdAt: clock.now() } });
  }

  it('stores a schedule with its first run, lists it by name, and refuses a second of the same name for the same owner', async () => {
    const { engine, clock } = f();
    const created = await engine.scheduleInsert({ schedule: newSchedule(NIGHTLY, clock.now()) });
    // The clock is 2026-01-01 12:00 UTC: the next 03:00 is the following day.
    expect(created).toMatchObject({ name: 'nightly-report', cron: '0 3 * * *', timezone: 'UTC', taskType: 'report', enabled: true, lastRunAt: null, lastTaskId: null, createdBy: null });
    expect(created.nextRunAt).toEqual(new Date('2026-01-02T03:00:00Z'));
    expect(created.template).toEqual({ payload: { kind: 'daily' }, priority: 'high' });
    expect(await engine.scheduleGet({ id: created.id })).toEqual(created);
    await engine.scheduleInsert({ schedule: newSchedule({ ...NIGHTLY, name: 'a-first' }, clock.now()) });
    expect((await engine.scheduleList({})).map((s) => s.name)).toEqual(['a-first', 'nightly-report']);

    await expect(engine.scheduleInsert({ schedule: newSchedule(NIGHTLY, clock.now()) })).rejects.toMatchObject({ code: 'CONVEYOR_CONFLICT', field: 'name' });
    // Another owner may use the name; each owner lists only their own.
    const alice = await user('alice');
    const hers = await engine.scheduleInsert({ schedule: newSchedule({ ...NIGHTLY, createdBy: alice.id }, clock.now()) });
    expect((await engine.scheduleList({ createdBy: alice.id })).map((s) => s.id)).toEqual([hers.id]);
    expect(await engine.scheduleGet({ id: 'not-a-uuid' })).toBeNull();
  });

  it('fires once per due time: the fence holds against a second scheduler, and the task carries the template', async () => {
    const { engine, clock } = f();
    const schedule = await engine.scheduleInsert({ schedule: newSchedule({ ...NIGHTLY, cron: '*/5 * * * *', metadata: { team: 'ops' } }, clock.now()) });
    expect(await engine.scheduleDue({ now: clock.now(), limit: 10 })).toEqual({ due: [], nextRunAt: new Date('2026-01-01T12:05:00Z') });

    clock.advance(5 * 60_000);
    const { due } = await engine.scheduleDue({ now: clock.now(), limit: 10 });
    expect(due.map((s) => s.id)).toEqual([schedule.id]);
    const dueAt = due[0]!.nextRunAt!;
    const next = new Date('2026-01-01T12:10:00Z');
    const fired = await engine.scheduleFire({ id: schedule.id, dueAt, nextRunAt: next, task: taskForFiring(due[0]!, dueAt, clock.now()), now: clock.now() });
    expect(fired).toMatchObject({ taskType: 'report', payload: { kind: 'daily' }, priority: 'high', status: 'pending', metadata: { team: 'ops', schedule: 'nightly-report', schedule_due_at: '2026-01-01T12:05:00.000Z' } });
    // A second scheduler that read the same due time changes nothing and creates no task.
    expect(await engine.scheduleFire({ id: schedule.id, dueAt, nextRunAt: next, task: taskForFiring(due[0]!, dueAt, clock.now()), now: clock.now() })).toBeNull();
    expect((await engine.taskList({ limit: 10 })).tasks.map((t) => t.id)).toEqual([fired!.id]);
    expect(await engine.scheduleGet({ id: schedule.id })).toMatchObject({ nextRunAt: next, lastRunAt: dueAt, lastTaskId: fired!.id });
    expect(await engine.scheduleDue({ now: clock.now(), limit: 10 })).toEqual({ due: [], nextRunAt: next });
  });

  it('says when to look again: the first schedule not yet due, or now when more are due than the limit', async () => {
    const { engine, clock } = f();
    for (const name of ['a', 'b', 'c']) await engine.scheduleInsert({ schedule: newSchedule({ ...NIGHTLY, name, cron: '* * * * *' }, clock.now()) });
    await engine.scheduleInsert({ schedule: newSchedule({ ...NIGHTLY, name: 'later', cron: '0 * * * *' }, clock.now()) });
    clock.advance(60_000);
    expect(await engine.scheduleDue({ now: clock.now(), limit: 2 })).toMatchObject({ due: [{}, {}], nextRunAt: clock.now() });
    const all = await engine.scheduleDue({ now: clock.now(), limit: 10 });
    expect(all.due.map((s) => s.name).sort()).toEqual(['a', 'b', 'c']);
    expect(all.nextRunAt).toEqual(new Date('2026-01-01T13:00:00Z'));
  });

  it('a disabled schedule and a deactivated owner\'s schedule are not due; re-enabling counts from now', async () => {
    const { engine, clock } = f();
    const bob = await user('bob');
    const mine = await engine.scheduleInsert({ schedule: newSchedule({ ...NIGHTLY, cron: '* * * * *' }, clock.now()) });
    const his = await engine.scheduleInsert({ schedule: newSchedule({ ...NIGHTLY, cron: '* * * * *', createdBy: bob.id }, clock.now()) });
    const paused = await engine.scheduleUpdate({ id: mine.id, changes: reviseSchedule(mine, { enabled: false }, clock.now()), now: clock.now() });
    expect(paused).toMatchObject({ enabled: false, nextRunAt: null });
    await engine.userUpdate({ id: bob.id, changes: { isActive: false }, now: clock.now() });
    clock.advance(10 * 60_000);
    expect(await engine.scheduleDue({ now: clock.now(), limit: 10 })).toEqual({ due: [], nextRunAt: null });

    const resumed = await engine.scheduleUpdate({ id: mine.id, changes: reviseSchedule(paused!, { enabled: true }, clock.now()), now: clock.now() });
    expect(resumed).toMatchObject({ enabled: true, nextRunAt: new Date('2026-01-01T12:11:00Z') });
    await engine.userUpdate({ id: bob.id, changes: { isActive: true }, now: clock.now() });
    expect((await engine.scheduleDue({ now: clock.now(), limit: 10 })).due.map((s) => s.id)).toEqual([his.id]);
  });

  it('a change of payload keeps the next run; a change of cron or time zone counts it again; delete keeps the tasks', async () => {
    const { engine, clock } = f();
    const schedule = await engine.scheduleInsert({ schedule: newSchedule(NIGHTLY, clock.now()) });
    const repaid = await engine.scheduleUpdate({ id: schedule.id, changes: reviseSchedule(schedule, { payload: { kind: 'weekly' } }, clock.now()), now: clock.now() });
    expect(repaid).toMatchObject({ template: { payload: { kind: 'weekly' }, priority: 'high' }, nextRunAt: schedule.nextRunAt });
    const berlin = await engine.scheduleUpdate({ id: schedule.id, changes: reviseSchedule(repaid!, { timezone: 'Europe/Berlin' }, clock.now()), now: clock.now() });
    // 03:00 in Berlin in January is 02:00 UTC.
    expect(berlin).toMatchObject({ timezone: 'Europe/Berlin', nextRunAt: new Date('2026-01-02T02:00:00Z') });
    const other = await engine.scheduleInsert({ schedule: newSchedule({ ...NIGHTLY, name: 'other' }, clock.now()) });
    await expect(engine.scheduleUpdate({ id: other.id, changes: { name: 'nightly-report' }, now: clock.now() })).rejects.toMatchObject({ code: 'CONVEYOR_CONFLICT', field: 'name' });

    const task = await engine.scheduleFire({ id: schedule.id, dueAt: berlin!.nextRunAt!, nextRunAt: null, task: taskForFiring(berlin!, berlin!.nextRunAt!, clock.now()), now: clock.now() });
    expect(await engine.scheduleDelete({ id: schedule.id })).toBe(true);
    expect(await engine.scheduleDelete({ id: schedule.id })).toBe(false);
    expect(await engine.scheduleGet({ id: schedule.id })).toBeNull();
    expect(await engine.taskGet({ id: task!.id })).not.toBeNull();
    expect(await engine.scheduleUpdate({ id: schedule.id, changes: { enabled: false }, now: clock.now() })).toBeNull();
  });
});

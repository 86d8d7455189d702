import { expect, it } from 'vitest';
import { newSchedule } from '../../src/core/schedule.ts';
import { CaptureLogger } from '../../src/testing/capture-logger.ts';
import { Scheduler } from '../../src/worker/maintenance/scheduler.ts';
import { describeEachEngine } from './engine-fixture.ts';

describeEachEngine('the scheduler', (f) => {
  function scheduler() {
    const { engine, clock } = f();
    const logger = new CaptureLogger();
    return { scheduler: new Scheduler({ engine, clock, logger }), logs: logger.entries };
  }

  it('fires each due schedule once, as a task due at once, and says when the next one fires', async () => {
    const { engine, clock } = f();
    const { scheduler: s, logs } = scheduler();
    const everyMinute = await engine.scheduleInsert({ schedule: newSchedule({ name: 'ping', cron: '* * * * *', taskType: 'webhook', payload: { url: 'https://example.com' } }, clock.now()) });
    await engine.scheduleInsert({ schedule: newSchedule({ name: 'hourly', cron: '@hourly', taskType: 'report', payload: {} }, clock.now()) });
    expect(await s.runOnce()).toEqual({ fired: [], skipped: [], nextRunAt: new Date('2026-01-01T12:01:00Z') });

    clock.advance(60_000);
    const round = await s.runOnce();
    expect(round.fired).toEqual([expect.objectContaining({ taskType: 'webhook', status: 'pending', payload: { url: 'https://example.com' } })]);
    expect(round.nextRunAt).toEqual(new Date('2026-01-01T12:02:00Z'));
    // Run again at the same instant: nothing more.
    expect((await s.runOnce()).fired).toEqual([]);
    expect(await engine.scheduleGet({ id: everyMinute.id })).toMatchObject({ lastRunAt: new Date('2026-01-01T12:01:00Z'), lastTaskId: round.fired[0]!.id });
    expect(logs).toContainEqual(expect.objectContaining({ level: 'info', msg: 'schedule fired', schedule: 'ping', task_id: round.fired[0]!.id }));
  });

  it('after a long outage fires once for the first missed time, skips the rest, and warns with how many', async () => {
    const { engine, clock } = f();
    const { scheduler: s, logs } = scheduler();
    await engine.scheduleInsert({ schedule: newSchedule({ name: 'every-5', cron: '*/5 * * * *', taskType: 'report', payload: {} }, clock.now()) });
    clock.advance(60 * 60_000 + 30_000); // 13:00:30; due since 12:05
    const round = await s.runOnce();
    expect(round.fired).toHaveLength(1);
    expect(round.fired[0]!.metadata).toMatchObject({ schedule: 'every-5', schedule_due_at: '2026-01-01T12:05:00.000Z' });
    expect(round.nextRunAt).toEqual(new Date('2026-01-01T13:05:00Z'));
    // 12:10 ... 13:00 were skipped: 11 runs.
    expect(logs).toContainEqual(expect.objectContaining({ level: 'warn', schedule: 'every-5', missed: 11, late_ms: 55 * 60_000 + 30_000 }));
    expect((await engine.taskList({ limit: 10 })).tasks).toHaveLength(1);
  });

  it('two schedulers at once fire a due schedule once', async () => {
    const { engine, clock } = f();
    const a = scheduler().scheduler;
    const b = scheduler().scheduler;
    await engine.scheduleInsert({ schedule: newSchedule({ name: 'once', cron: '* * * * *', taskType: 'report', payload: {} }, clock.now()) });
    clock.advance(60_000);
    const [ra, rb] = await Promise.all([a.runOnce(), b.runOnce()]);
    expect(ra.fired.length + rb.fired.length).toBe(1);
    expect((await engine.taskList({ limit: 10 })).tasks).toHaveLength(1);
  });
});

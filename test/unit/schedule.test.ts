import { describe, expect, it } from 'vitest';
import { CronTimes } from '../../src/core/cron-times.ts';
import { newSchedule, reviseSchedule, type ScheduleRecord } from '../../src/core/schedule.ts';

const now = new Date('2026-03-28T12:00:00Z');
const base = { name: 'nightly', cron: '0 3 * * *', taskType: 'report', payload: {} };

describe('cron expressions and schedules', () => {
  it('reads five fields, six with seconds, and @nicknames, in a time zone across daylight saving', () => {
    expect(CronTimes.parse('*/15 * * * *', 'UTC').upcoming(2, now)).toEqual([new Date('2026-03-28T12:15:00Z'), new Date('2026-03-28T12:30:00Z')]);
    expect(CronTimes.parse('*/10 * * * * *', 'UTC').next(now)).toEqual(new Date('2026-03-28T12:00:10Z'));
    expect(CronTimes.parse('@daily', 'UTC').next(now)).toEqual(new Date('2026-03-29T00:00:00Z'));
    // Berlin moves to summer time on 29 March 2026: 03:00 is 02:00 UTC before, 01:00 UTC after.
    expect(CronTimes.parse('0 3 * * *', 'Europe/Berlin').upcoming(2, now)).toEqual([new Date('2026-03-29T01:00:00Z'), new Date('2026-03-30T01:00:00Z')]);
    expect(CronTimes.parse('  0   3 * * *  ', 'UTC').expression).toBe('0 3 * * *');
  });

  it('refuses what it cannot read, naming the field and saying what to write', () => {
    expect(() => CronTimes.parse('61 * * * *', 'UTC')).toThrow(expect.objectContaining({ code: 'CONVEYOR_VALIDATION', field: 'cron', message: expect.stringMatching(/minute: 61.*five fields/) }));
    expect(() => CronTimes.parse('every day', 'UTC')).toThrow(expect.objectContaining({ field: 'cron' }));
    expect(() => CronTimes.parse('0 0 30 2 *', 'UTC')).toThrow(expect.objectContaining({ field: 'cron', message: 'cron: never fires (no such date, e.g. 30 February)' }));
    expect(() => CronTimes.parse('* * * * *', 'Mars/Olympus')).toThrow(expect.objectContaining({ field: 'timezone' }));
    expect(() => newSchedule({ ...base, name: 'no spaces please' }, now)).toThrow(expect.objectContaining({ field: 'name' }));
    expect(() => newSchedule({ ...base, priority: 'urgent' as never }, now)).toThrow(expect.objectContaining({ field: 'priority' }));
    expect(() => newSchedule({ ...base, maxAttempts: 0 }, now)).toThrow(expect.objectContaining({ field: 'max_attempts' }));
    expect(() => newSchedule({ ...base, payload: undefined }, now)).toThrow(expect.objectContaining({ field: 'payload' }));
  });

  it('a disabled schedule has no next run; a revision that leaves the timing alone does not move it', () => {
    expect(newSchedule({ ...base, enabled: false }, now).nextRunAt).toBeNull();
    const record: ScheduleRecord = { ...newSchedule(base, now), lastRunAt: null, lastTaskId: null, lastSkippedAt: null, lastSkipReason: null, updatedAt: now };
    expect(reviseSchedule(record, { payload: { a: 1 }, priority: 'low' }, now)).toEqual({ template: { payload: { a: 1 }, priority: 'low' } });
    expect(reviseSchedule(record, { cron: '0 4 * * *' }, now)).toEqual({ cron: '0 4 * * *', enabled: true, nextRunAt: new Date('2026-03-29T04:00:00Z') });
    expect(reviseSchedule(record, { enabled: false }, now)).toEqual({ enabled: false, nextRunAt: null });
    expect(() => reviseSchedule(record, { timezone: 'Nowhere/Else' }, now)).toThrow(expect.objectContaining({ field: 'timezone' }));
  });
});

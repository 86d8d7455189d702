import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testDatabases } from '../helpers/databases.ts';
import { EMAIL_PAYLOAD, startApi, type Account, type ApiHarness } from './api-harness.ts';

const MISSING = '01900000-0000-7000-8000-000000000000';

describe.each(testDatabases)('recurring schedules over HTTP [$kind]', ({ create }) => {
  let api: ApiHarness;
  let alice: Account;
  let bob: Account;
  let moderator: Account;
  beforeAll(async () => {
    api = await startApi(create());
    [alice, bob, moderator] = [await api.account(), await api.account(), await api.account('moderator')];
  });
  afterAll(async () => api?.close());

  const createSchedule = (token: string, body: Record<string, unknown> = {}) =>
    api.call('POST', '/schedules', { token, body: { name: `s-${Math.random().toString(36).slice(2, 8)}`, cron: '0 3 * * *', task_type: 'email', payload: EMAIL_PAYLOAD, ...body } });

  test('create: 201 with the next run and the next five times; the name is unique per user (409)', async () => {
    const response = await createSchedule(alice.token, { name: 'nightly', timezone: 'Europe/Berlin', priority: 'high', metadata: { team: 'ops' } });
    expect(response.status).toBe(201);
    // The clock is 2026-01-01 12:00 UTC; 03:00 in Berlin in winter is 02:00 UTC.
    expect(response.body.data).toMatchObject({
      name: 'nightly', cron: '0 3 * * *', timezone: 'Europe/Berlin', task_type: 'email', payload: EMAIL_PAYLOAD, priority: 'high',
      max_attempts: null, retry_strategy: null, metadata: { team: 'ops' }, enabled: true, next_run_at: '2026-01-02T02:00:00.000Z',
      last_run_at: null, last_task_id: null, created_by: alice.id,
    });
    expect(response.body.data.upcoming).toEqual(['2026-01-02', '2026-01-03', '2026-01-04', '2026-01-05', '2026-01-06'].map((day) => `${day}T02:00:00.000Z`));

    const again = await createSchedule(alice.token, { name: 'nightly' });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'CONFLICT', field: 'name' });
    expect((await createSchedule(bob.token, { name: 'nightly' })).status).toBe(201);
  });

  test('bad input: 400 naming the field, with what to write', async () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ cron: '61 * * * *' }, 'cron', /minute: 61/],
      [{ cron: '0 0 30 2 *' }, 'cron', /never fires/],
      [{ timezone: 'Mars/Olympus' }, 'timezone', /IANA time zone/],
      [{ name: 'has spaces' }, 'name', /letters, digits/],
      [{ task_type: 'no_such_type' }, 'task_type', /registered/],
      [{ payload: { to: 'not-an-email', subject: 'x', body: 'y' } }, 'payload.to', /email/],
      [{ metadata: { 'bad key': 1 } }, 'metadata.bad key', /keys/],
      [{ priority: 'urgent' }, 'priority', /critical, high, normal, low/],
    ];
    for (const [body, field, message] of cases) {
      const response = await createSchedule(alice.token, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.field, JSON.stringify(body)).toBe(field);
      expect(response.body.error.message, JSON.stringify(body)).toMatch(message);
    }
  });

  test('users see and change only their own (404 otherwise); moderators see all', async () => {
    const hers = (await createSchedule(alice.token)).body.data;
    for (const [method, path] of [['GET', ''], ['PATCH', ''], ['DELETE', ''], ['POST', '/run']] as const) {
      const response = await api.call(method, `/schedules/${hers.id}${path}`, { token: bob.token, ...(method === 'PATCH' ? { body: { enabled: false } } : {}) });
      expect(response.status, `${method} ${path}`).toBe(404);
    }
    expect((await api.call('GET', `/schedules/${MISSING}`, { token: alice.token })).status).toBe(404);
    const bobs = (await api.call('GET', '/schedules', { token: bob.token })).body.data;
    expect(bobs.every((s: { created_by: string }) => s.created_by === bob.id)).toBe(true);
    const all = (await api.call('GET', '/schedules', { token: moderator.token })).body.data;
    expect(all.map((s: { id: string }) => s.id)).toContain(hers.id);
    expect((await api.call('GET', `/schedules/${hers.id}`, { token: moderator.token })).status).toBe(200);
  });

  test('pause and resume; a new cron counts again from now; delete keeps the tasks it made', async () => {
    const schedule = (await createSchedule(alice.token, { cron: '*/10 * * * *' })).body.data;
    expect(schedule.next_run_at).toBe('2026-01-01T12:10:00.000Z');
    const paused = await api.call('PATCH', `/schedules/${schedule.id}`, { token: alice.token, body: { enabled: false } });
    expect(paused.body.data).toMatchObject({ enabled: false, next_run_at: null, upcoming: [] });
    const changed = await api.call('PATCH', `/schedules/${schedule.id}`, { token: alice.token, body: { enabled: true, cron: '@hourly', payload: { ...EMAIL_PAYLOAD, subject: 'Hourly' } } });
    expect(changed.body.data).toMatchObject({ enabled: true, cron: '@hourly', next_run_at: '2026-01-01T13:00:00.000Z', payload: { subject: 'Hourly' } });
    const invalid = await api.call('PATCH', `/schedules/${schedule.id}`, { token: alice.token, body: { payload: { to: 'x' } } });
    expect(invalid.status).toBe(400);
    expect((await api.call('PATCH', `/schedules/${schedule.id}`, { token: alice.token, body: {} })).status).toBe(400);

    const run = await api.call('POST', `/schedules/${schedule.id}/run`, { token: alice.token });
    expect(run.status).toBe(201);
    expect(run.body.data).toMatchObject({ task_type: 'email', status: 'pending', created_by: alice.id, payload: { subject: 'Hourly' }, metadata: { schedule: schedule.name }, idempotency_key: null });
    // Running by hand does not move the schedule.
    expect((await api.call('GET', `/schedules/${schedule.id}`, { token: alice.token })).body.data.next_run_at).toBe('2026-01-01T13:00:00.000Z');

    const deleted = await api.call('DELETE', `/schedules/${schedule.id}`, { token: alice.token });
    expect(deleted.body).toEqual({ success: true, data: { id: schedule.id, deleted: true } });
    expect((await api.call('GET', `/schedules/${schedule.id}`, { token: alice.token })).status).toBe(404);
    expect((await api.call('GET', `/tasks/${run.body.data.id}`, { token: alice.token })).status).toBe(200);
  });
});

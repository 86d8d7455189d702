import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testDatabases } from '../helpers/databases.ts';
import { claimOne, createTask, startApi, type Account, type ApiHarness } from './api-harness.ts';

describe.each(testDatabases)('pausing a task type over HTTP [$kind]', ({ create }) => {
  let api: ApiHarness;
  let user: Account;
  let moderator: Account;
  beforeAll(async () => {
    api = await startApi(create());
    [user, moderator] = [await api.account(), await api.account('moderator')];
  });
  afterAll(async () => api?.close());

  const typeOf = async (name: string) => (await api.call('GET', '/tasks/types', { token: user.token })).body.data.find((t: { task_type: string }) => t.task_type === name);

  test('a moderator pauses a type with a reason: everyone sees it, its tasks wait unclaimed; resumed, they run', async () => {
    expect(await typeOf('email')).toMatchObject({ paused: false, paused_at: null, paused_reason: null });
    const task = await createTask(api, user.token);
    const paused = await api.call('POST', '/tasks/types/email/pause', { token: moderator.token, body: { reason: 'SMTP relay maintenance until 14:00 UTC' } });
    expect(paused.status).toBe(200);
    expect(paused.body.data).toEqual({ task_type: 'email', paused: true, paused_at: api.clock.now().toISOString(), paused_by: moderator.id, reason: 'SMTP relay maintenance until 14:00 UTC' });
    expect(await typeOf('email')).toMatchObject({ paused: true, paused_reason: 'SMTP relay maintenance until 14:00 UTC' });
    expect(await api.engine.taskClaim({ workerId: 'w', taskTypes: ['email'], limit: 10, now: api.clock.now(), leaseMs: 30_000 })).toEqual([]);

    const resumed = await api.call('POST', '/api/v1/tasks/types/email/resume', { token: moderator.token });
    expect(resumed.body.data).toMatchObject({ task_type: 'email', paused: false });
    expect((await typeOf('email')).paused).toBe(false);
    expect((await claimOne(api, 'email')).task.id).toBe(task.id);
  });

  test('users may not pause (403); unknown or malformed types answer 404 or 400 naming the field', async () => {
    const refused = await api.call('POST', '/tasks/types/email/pause', { token: user.token });
    expect(refused.status).toBe(403);
    expect((await typeOf('email')).paused).toBe(false);
    const unknown = await api.call('POST', '/tasks/types/no_such_type/pause', { token: moderator.token });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toContain('no_such_type');
    const malformed = await api.call('POST', '/tasks/types/has%20space/pause', { token: moderator.token });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.field).toBe('task_type');
    const tooLong = await api.call('POST', '/tasks/types/email/pause', { token: moderator.token, body: { reason: 'x'.repeat(501) } });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.field).toBe('reason');
  });
  test('a moderator limits a type across every worker; GET /tasks/types shows the limit and what runs; the limit can be removed', async () => {
    await createTask(api, user.token, { task_type: 'report', payload: { n: 1 } });
    await createTask(api, user.token, { task_type: 'report', payload: { n: 2 } });
    const set = await api.call('PUT', '/tasks/types/report/limit', { token: moderator.token, body: { max_running: 1 } });
    expect(set.status).toBe(200);
    expect(set.body.data).toEqual({ task_type: 'report', max_running: 1, updated_at: api.clock.now().toISOString(), updated_by: moderator.id });
    const claimed = await api.engine.taskClaim({ workerId: 'w', taskTypes: ['report'], limit: 10, now: api.clock.now(), leaseMs: 30_000 });
    expect(claimed).toHaveLength(1);
    expect(await typeOf('report')).toMatchObject({ max_running: 1, running: 1 });

    expect((await api.call('PUT', '/tasks/types/report/limit', { token: user.token, body: { max_running: 5 } })).status).toBe(403);
    const zero = await api.call('PUT', '/tasks/types/report/limit', { token: moderator.token, body: { max_running: 0 } });
    expect(zero.status).toBe(400);
    expect(zero.body.error.field).toBe('max_running');

    const removed = await api.call('DELETE', '/tasks/types/report/limit', { token: moderator.token });
    expect(removed.body.data).toEqual({ task_type: 'report', max_running: null, updated_at: null, updated_by: null });
    expect((await typeOf('report')).max_running).toBeNull();
  });
});

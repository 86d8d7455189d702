import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testDatabases } from '../helpers/databases.ts';
import { claimOne, createTask, registerTypes, startApi, type Account, type ApiHarness } from './api-harness.ts';

const MISSING = '01900000-0000-7000-8000-000000000000';

describe.each(testDatabases)('acting on tasks [$kind]', ({ create }) => {
  let api: ApiHarness;
  let alice: Account;
  let bob: Account;
  let moderator: Account;
  beforeAll(async () => {
    api = await startApi(create());
    await registerTypes(api, 'act_running', 'act_done', 'act_failed', 'act_delete');
    [alice, bob, moderator] = [await api.account(), await api.account(), await api.account('moderator')];
  });
  afterAll(async () => api?.close());

  const finish = async (taskType: string, outcome: 'complete' | 'fail') => {
    const { lease } = await claimOne(api, taskType);
    if (outcome === 'complete') await api.engine.taskComplete({ lease, output: { ok: true }, now: api.clock.now() });
    else await api.engine.taskFail({ lease, error: 'boom', permanent: true, now: api.clock.now() });
  };

  test('cancel: a waiting task is cancelled (200); once finished, cancel answers 409', async () => {
    const task = await createTask(api, alice.token);
    const cancelled = await api.call('POST', `/tasks/${task.id}/cancel`, { token: alice.token });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.data).toMatchObject({ id: task.id, status: 'cancelled' });
    const again = await api.call('POST', `/tasks/${task.id}/cancel`, { token: alice.token });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'INVALID_STATE', details: { status: 'cancelled' } });

    const done = await createTask(api, alice.token, { task_type: 'act_done', payload: 1 });
    await finish('act_done', 'complete');
    const late = await api.call('POST', `/api/v1/tasks/${done.id}/cancel`, { token: alice.token });
    expect(late.status).toBe(409);
    expect(late.body.error.details.status).toBe('completed');
  });

  test('cancel: a running task is asked to stop (202) and its worker learns of it at the next heartbeat', async () => {
    const task = await createTask(api, alice.token, { task_type: 'act_running', payload: 1 });
    const { lease } = await claimOne(api, 'act_running');
    const response = await api.call('POST', `/tasks/${task.id}/cancel`, { token: alice.token });
    expect(response.status).toBe(202);
    expect(response.body.data.status).toBe('running');
    expect(response.body.data.cancel_requested_at).toBe(api.clock.now().toISOString());
    const beat = await api.engine.taskHeartbeat({ workerId: 'test-worker', leases: [lease], now: api.clock.now(), leaseMs: 60_000 });
    expect(beat.cancelRequested).toEqual([task.id]);
  });

  test('retry: a failed or cancelled task runs again (200); a pending one answers 409', async () => {
    const failed = await createTask(api, alice.token, { task_type: 'act_failed', payload: 1 });
    await finish('act_failed', 'fail');
    const retried = await api.call('POST', `/tasks/${failed.id}/retry`, { token: alice.token });
    expect(retried.status).toBe(200);
    expect(retried.body.data).toMatchObject({ id: failed.id, status: 'pending', run_at: api.clock.now().toISOString() });

    const pending = await api.call('POST', `/tasks/${failed.id}/retry`, { token: alice.token });
    expect(pending.status).toBe(409);
    expect(pending.body.error).toMatchObject({ code: 'INVALID_STATE', details: { status: 'pending' } });

    const cancelled = await createTask(api, alice.token);
    await api.call('POST', `/tasks/${cancelled.id}/cancel`, { token: alice.token });
    expect((await api.call('POST', `/api/v1/tasks/${cancelled.id}/retry`, { token: alice.token })).body.data.status).toBe('pending');
  });

  test('delete: a finished task is deleted (then 404); an unfinished one answers 409', async () => {
    const done = await createTask(api, alice.token, { task_type: 'act_delete', payload: 1 });
    await finish('act_delete', 'complete');
    const deleted = await api.call('DELETE', `/tasks/${done.id}`, { token: alice.token });
    expect(deleted.status).toBe(200);
    expect(deleted.body.data).toEqual({ id: done.id, deleted: true });
    expect((await api.call('GET', `/tasks/${done.id}`, { token: alice.token })).status).toBe(404);
    expect((await api.call('DELETE', `/tasks/${done.id}`, { token: alice.token })).status).toBe(404);

    const pending = await createTask(api, alice.token);
    const refused = await api.call('DELETE', `/api/v1/tasks/${pending.id}`, { token: alice.token });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'INVALID_STATE', details: { status: 'pending' } });
  });

  test('another user\'s task answers 404 to cancel, retry and delete, and stays untouched; a moderator may act on it', async () => {
    const task = await createTask(api, alice.token);
    const notFound = await api.call('POST', `/tasks/${MISSING}/cancel`, { token: bob.token });
    for (const [method, path] of [['POST', `/tasks/${task.id}/cancel`], ['POST', `/tasks/${task.id}/retry`], ['DELETE', `/tasks/${task.id}`]] as const) {
      const response = await api.call(method, path, { token: bob.token });
      expect(response.status, path).toBe(404);
      expect(response.body).toEqual(notFound.body);
    }
    expect((await api.engine.taskGet({ id: task.id }))?.status).toBe('pending');
    const byModerator = await api.call('POST', `/tasks/${task.id}/cancel`, { token: moderator.token });
    expect(byModerator.status).toBe(200);
    expect((await api.call('DELETE', `/tasks/${task.id}`, { token: moderator.token })).status).toBe(200);
  });

  test.each([
    ['POST', '/cancel'],
    ['POST', '/retry'],
    ['DELETE', ''],
  ])('%s /tasks/:id%s answers 401 without a token or with an expired one, and 400 for a bad id', async (method, suffix) => {
    const me = await api.account();
    const task = await createTask(api, me.token);
    expect((await api.call(method, `/tasks/${task.id}${suffix}`)).status).toBe(401);
    const bad = await api.call(method, `/tasks/nope${suffix}`, { token: me.token });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('id');
    api.clock.advance(24 * 3_600_000 + 1);
    expect((await api.call(method, `/tasks/${task.id}${suffix}`, { token: me.token })).status).toBe(401);
    expect((await api.engine.taskGet({ id: task.id }))?.status).toBe('pending');
  });
});

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { newTask } from '../../src/core/new-task.ts';
import { testDatabases } from '../helpers/databases.ts';
import { createTask, startApi, type Account, type ApiHarness } from './api-harness.ts';

/**
 * Tasks of a type no live worker takes wait forever unless someone sees it: GET /tasks/:id says so
 * (`handling`), GET /tasks/stats names such types (`unhandled_types`), and with no worker at all only
 * `live_workers: 0` says it, once, instead of an alarm per type.
 */
describe.each(testDatabases)('task types no live worker takes [$kind]', ({ create }) => {
  let api: ApiHarness;
  let owner: Account;
  let moderator: Account;
  beforeAll(async () => {
    api = await startApi(create());
    [owner, moderator] = [await api.account(), await api.account('moderator')];
  });
  afterAll(async () => api?.close());

  /** A task of a type no worker ever registered, as SQL or another Conveyor version would insert it. */
  async function insertForeign(taskType: string, createdBy: string): Promise<string> {
    const { task } = await api.engine.taskInsert({ task: { ...newTask({ taskType, payload: {} }, api.clock.now()), createdBy } });
    return task.id;
  }

  async function heartbeat(id: string, taskTypes: string[], at = api.clock.now()): Promise<void> {
    await api.engine.workerHeartbeat({ worker: { id, host: 'test', pid: 1, concurrency: 4, running: 0, taskTypes, startedAt: at }, now: at });
  }

  test('with no live worker at all: every task says no_live_workers, and the stats name no type', async () => {
    const email = await createTask(api, owner.token);
    const foreign = await insertForeign('legacy_import', owner.id);
    for (const id of [email.id, foreign]) {
      const detail = await api.call('GET', `/tasks/${id}`, { token: owner.token });
      expect(detail.status).toBe(200);
      expect(detail.body.data.handling).toEqual({ state: 'no_live_workers', live_workers: 0 });
    }
    const stats = (await api.call('GET', '/tasks/stats', { token: moderator.token })).body.data;
    expect(stats).toMatchObject({ live_workers: 0, unhandled_types: [] });
    // Other routes that return a task in full do not look workers up.
    expect('handling' in email).toBe(false);
  });

  test('a type is handled when any live worker lists it; a stopped worker\'s types do not count', async () => {
    const email = await createTask(api, owner.token);
    const foreign = await insertForeign('legacy_import', owner.id);
    const longAgo = new Date(api.clock.now().getTime() - 5 * 60_000);
    await heartbeat('w-stopped', ['email', 'legacy_import'], longAgo);
    await heartbeat('w-report', ['report']);
    await heartbeat('w-mail', ['report', 'email']);
    try {
      expect((await api.call('GET', `/tasks/${email.id}`, { token: owner.token })).body.data.handling).toEqual({ state: 'handled', live_workers: 1 });
      expect((await api.call('GET', `/api/v1/tasks/${foreign}`, { token: owner.token })).body.data.handling).toEqual({ state: 'unhandled', live_workers: 0 });

      const all = (await api.call('GET', '/tasks/stats', { token: moderator.token })).body.data;
      expect(all.live_workers).toBe(2);
      expect(all.unhandled_types).toEqual([{ task_type: 'legacy_import', waiting: 2 }]);
      // Role user: only their own waiting tasks count.
      const stranger = await api.account();
      expect((await api.call('GET', '/tasks/stats', { token: stranger.token })).body.data).toMatchObject({ scope: 'own', unhandled_types: [] });
      await insertForeign('legacy_import', stranger.id);
      expect((await api.call('GET', '/tasks/stats', { token: stranger.token })).body.data.unhandled_types).toEqual([{ task_type: 'legacy_import', waiting: 1 }]);

      // Once the live workers stop too, it is one fact again: nobody runs anything.
      api.clock.advance(31_000);
      expect((await api.call('GET', `/tasks/${foreign}`, { token: owner.token })).body.data.handling).toEqual({ state: 'no_live_workers', live_workers: 0 });
      expect((await api.call('GET', '/tasks/stats', { token: moderator.token })).body.data).toMatchObject({ live_workers: 0, unhandled_types: [] });
    } finally {
      for (const id of ['w-stopped', 'w-report', 'w-mail']) await api.engine.workerRemove({ id });
    }
  });
});

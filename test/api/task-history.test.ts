import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testDatabases } from '../helpers/databases.ts';
import { claimOne, createTask, registerTypes, startApi, type Account, type ApiHarness } from './api-harness.ts';

/** GET /tasks/history: the overview's charts, from the rollups in the database, per role. */
describe.each(testDatabases)('task history [$kind]', ({ create }) => {
  let api: ApiHarness;
  let alice: Account;
  let bob: Account;
  let admin: Account;
  beforeAll(async () => {
    api = await startApi(create());
    await registerTypes(api, 'chart_a');
    [alice, bob, admin] = [await api.account(), await api.account(), await api.account('admin')];
  });
  afterAll(async () => api?.close());

  async function runOne(token: string, outcome: 'complete' | 'fail') {
    await createTask(api, token, { task_type: 'chart_a', payload: {} });
    const { lease } = await claimOne(api, 'chart_a');
    api.clock.advance(2_000);
    const applied = outcome === 'complete'
      ? await api.engine.taskComplete({ lease, output: null, now: api.clock.now() })
      : (await api.engine.taskFail({ lease, error: 'boom', permanent: true, now: api.clock.now() })).applied;
    expect(applied).toBe(true);
  }

  test('charts the last 24 hours in 15-minute buckets: every task for admins, one\'s own for role user, rolled up or not', async () => {
    await runOne(alice.token, 'complete');
    await runOne(alice.token, 'fail');
    await runOne(bob.token, 'complete');
    const sum = (body: any, key: string) => body.data.buckets.reduce((n: number, b: any) => n + b[key], 0);

    // Before any rollup, the minutes come from the tasks themselves.
    const early = await api.call('GET', '/tasks/history', { token: admin.token });
    expect(early.status).toBe(200);
    expect(early.body.data).toMatchObject({ scope: 'all', range: '24h', bucket_ms: 900_000, rolled_up_through: null });
    expect(early.body.data.buckets).toHaveLength(96);
    expect([sum(early.body, 'completed'), sum(early.body, 'failed')]).toEqual([2, 1]);

    api.clock.advance(5 * 60_000);
    expect((await api.engine.taskRollup({ now: api.clock.now() })).minutes).toBeGreaterThan(0);
    const rolled = await api.call('GET', '/tasks/history?range=24h', { token: admin.token });
    expect(rolled.body.data.rolled_up_through).not.toBeNull();
    expect([sum(rolled.body, 'completed'), sum(rolled.body, 'failed')]).toEqual([2, 1]);
    const withRun = rolled.body.data.buckets.find((b: any) => b.completed > 0);
    expect(withRun.run_p50_ms).toBe(2_000);

    const own = await api.call('GET', '/tasks/history?range=1h', { token: alice.token });
    expect(own.body.data).toMatchObject({ scope: 'own', range: '1h', bucket_ms: 60_000 });
    expect(own.body.data.buckets).toHaveLength(60);
    expect([sum(own.body, 'completed'), sum(own.body, 'failed')]).toEqual([1, 1]);
    const theirs = await api.call('GET', '/tasks/history?range=7d&task_type=chart_a', { token: bob.token });
    expect(theirs.body.data.buckets).toHaveLength(168);
    expect([sum(theirs.body, 'completed'), sum(theirs.body, 'failed')]).toEqual([1, 0]);
  });

  test('refuses an unknown range, naming the field', async () => {
    const bad = await api.call('GET', '/tasks/history?range=2d', { token: admin.token });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field ?? JSON.stringify(bad.body.error)).toContain('range');
  });
});

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testDatabases } from '../helpers/databases.ts';
import { claimOne, createTask, registerTypes, startApi, type Account, type ApiHarness } from './api-harness.ts';

const ROUTES = ['/tasks', '/tasks/stats', '/tasks/dead-letter', '/tasks/types', '/tasks/01900000-0000-7000-8000-000000000000'];

describe.each(testDatabases)('reading tasks [$kind]', ({ create }) => {
  let api: ApiHarness;
  let alice: Account;
  let bob: Account;
  let moderator: Account;
  let admin: Account;
  beforeAll(async () => {
    api = await startApi(create());
    await registerTypes(api, 'read_list', 'read_detail', 'read_dead', 'read_page');
    [alice, bob, moderator, admin] = [await api.account(), await api.account(), await api.account('moderator'), await api.account('admin')];
  });
  afterAll(async () => api?.close());

  test('GET /tasks lists only the caller\'s tasks, newest first, with the total; moderators see everyone\'s', async () => {
    const a1 = await createTask(api, alice.token, { task_type: 'read_list', payload: 1 });
    api.clock.advance(10);
    const a2 = await createTask(api, alice.token, { task_type: 'read_list', payload: 2, priority: 'high' });
    const b1 = await createTask(api, bob.token, { task_type: 'read_list', payload: 3 });

    const mine = await api.call('GET', '/tasks?task_type=read_list', { token: alice.token });
    expect(mine.status).toBe(200);
    expect(mine.body.data.map((t: any) => t.id)).toEqual([a2.id, a1.id]);
    expect(mine.body.pagination).toEqual({ limit: 50, next_cursor: null, total: 2, total_is_exact: true });
    expect(mine.body.data[0]).not.toHaveProperty('payload');

    const theirs = await api.call('GET', '/tasks?task_type=read_list', { token: bob.token });
    expect(theirs.body.data.map((t: any) => t.id)).toEqual([b1.id]);

    const all = await api.call('GET', '/tasks?task_type=read_list', { token: moderator.token });
    expect(all.body.pagination.total).toBe(3);
    const onlyAlice = await api.call('GET', `/api/v1/tasks?task_type=read_list&created_by=${alice.id}`, { token: admin.token });
    expect(onlyAlice.body.data.map((t: any) => t.id)).toEqual([a2.id, a1.id]);
    const forbidden = await api.call('GET', `/tasks?created_by=${bob.id}`, { token: alice.token });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error).toMatchObject({ code: 'FORBIDDEN', field: 'created_by' });
  });

  test('GET /tasks filters by status, type, priority (comma lists) and creation range', async () => {
    const me = await api.account();
    const start = api.clock.now();
    const low = await createTask(api, me.token, { priority: 'low' });
    api.clock.advance(60_000);
    const middle = api.clock.now();
    const high = await createTask(api, me.token, { priority: 'high' });
    // Ids order by creation only across milliseconds (UUIDv7); newest first needs distinct times.
    api.clock.advance(1);
    const report = await createTask(api, me.token, { task_type: 'report', payload: {}, priority: 'high' });
    api.clock.advance(1);
    const cancelled = await createTask(api, me.token);
    await api.call('POST', `/tasks/${cancelled.id}/cancel`, { token: me.token });
    const ids = async (query: string) => (await api.call('GET', `/tasks?${query}`, { token: me.token })).body.data.map((t: any) => t.id);

    expect(await ids('priority=high')).toEqual([report.id, high.id]);
    expect(await ids('priority=high,low&task_type=email')).toEqual([high.id, low.id]);
    expect(await ids('status=cancelled')).toEqual([cancelled.id]);
    expect(await ids('status=pending,cancelled&task_type=report')).toEqual([report.id]);
    expect(await ids(`created_before=${encodeURIComponent(middle.toISOString())}`)).toEqual([low.id]);
    expect(await ids(`created_after=${encodeURIComponent(start.toISOString())}&task_type=report,email`)).toHaveLength(4);

    for (const [query, field] of [['status=bogus', 'status'], ['priority=urgent', 'priority'], ['limit=101', 'limit'], ['limit=0', 'limit'], ['created_after=yesterday', 'created_after'], ['sort=id', 'sort']]) {
      const bad = await api.call('GET', `/tasks?${query}`, { token: me.token });
      expect(bad.status, query).toBe(400);
      expect(bad.body.error.field, query).toBe(field);
    }
  });

  test('GET /tasks?id_prefix finds the caller\'s tasks whose id starts with it, in any case, with paging and a total', async () => {
    const me = await api.account();
    api.clock.advance(5_000);
    const made: any[] = [];
    for (let i = 0; i < 4; i++) {
      made.push(await createTask(api, me.token, i === 3 ? { task_type: 'report', payload: {} } : {}));
      api.clock.advance(1);
    }
    const [one] = made;
    const query = (q: string, token = me.token) => api.call('GET', `/tasks?${q}`, { token });

    // Most of an id: that task alone, however it is typed.
    const exact = await query(`id_prefix=${one.id.slice(0, 30)}`);
    expect(exact.status).toBe(200);
    expect(exact.body.data.map((t: any) => t.id)).toEqual([one.id]);
    expect(exact.body.pagination.total).toBe(1);
    expect((await query(`id_prefix=${one.id.slice(0, 30).toUpperCase()}`)).body.data.map((t: any) => t.id)).toEqual([one.id]);
    expect((await query(`id_prefix=${one.id}`)).body.data.map((t: any) => t.id)).toEqual([one.id]);

    // The first 8 hex digits (the time part of a UUIDv7, as the dashboard shows ids) match all four; filters still apply.
    const short = one.id.slice(0, 8);
    const all = await query(`id_prefix=${short}&limit=3`);
    expect(all.body.pagination.total).toBe(4);
    expect(all.body.data).toHaveLength(3);
    const rest = await query(`id_prefix=${short}&limit=3&cursor=${encodeURIComponent(all.body.pagination.next_cursor)}`);
    expect([...all.body.data, ...rest.body.data].map((t: any) => t.id)).toEqual(made.map((t) => t.id).reverse());
    expect((await query(`id_prefix=${short}&task_type=report`)).body.data.map((t: any) => t.id)).toEqual([made[3].id]);

    // Another user's task stays out of reach; moderators find it.
    expect((await query(`id_prefix=${one.id}`, alice.token)).body).toMatchObject({ data: [], pagination: { total: 0 } });
    expect((await query(`id_prefix=${one.id}`, moderator.token)).body.data.map((t: any) => t.id)).toEqual([one.id]);
    expect((await query('id_prefix=ffffffff-ffff')).body.data).toEqual([]);

    for (const bad of ['xyz', '', 'a'.repeat(37), '%25', '01_', `${one.id.slice(0, 8)}%20`]) {
      const refused = await query(`id_prefix=${bad}`);
      expect(refused.status, bad).toBe(400);
      expect(refused.body.error, bad).toEqual({ code: 'VALIDATION_FAILED', field: 'id_prefix', message: 'id_prefix: must be 1-36 hex digits and dashes (the start of a task id)' });
    }
  });

  test('GET /tasks pages with a cursor through every task exactly once', async () => {
    const me = await api.account();
    const created: string[] = [];
    for (let i = 0; i < 7; i++) {
      created.push((await createTask(api, me.token, { task_type: 'read_page', payload: i })).id);
      api.clock.advance(1);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/tasks?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await api.call('GET', query, { token: me.token });
      expect(page.status).toBe(200);
      expect(page.body.pagination.total).toBe(7);
      expect(page.body.data.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.data.map((t: any) => t.id));
      cursor = page.body.pagination.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...created].reverse());
  });

  test('GET /tasks/:id shows payload, progress, output, last error and the attempt history', async () => {
    const created = await createTask(api, alice.token, { task_type: 'read_detail', payload: { rows: 3 }, max_attempts: 2 });
    const first = await claimOne(api, 'read_detail');
    await api.engine.taskProgress({ lease: first.lease, progress: { percent: 40, message: 'parsed' }, now: api.clock.now() });
    const running = await api.call('GET', `/tasks/${created.id}`, { token: alice.token });
    expect(running.status).toBe(200);
    expect(running.body.data).toMatchObject({ id: created.id, status: 'running', current_attempt: 1, worker_id: 'test-worker', progress: { percent: 40, message: 'parsed' }, payload: { rows: 3 } });
    expect(running.body.data.lease_expires_at).not.toBeNull();

    await api.engine.taskFail({ lease: first.lease, error: 'connection reset', now: api.clock.now(), random: () => 0 });
    api.clock.advance(10 * 60_000);
    const second = await claimOne(api, 'read_detail');
    await api.engine.taskComplete({ lease: second.lease, output: { total: 6 }, now: api.clock.now() });

    const done = await api.call('GET', `/tasks/${created.id}`, { token: alice.token });
    expect(done.body.data).toMatchObject({ status: 'completed', output: { total: 6 }, current_attempt: 2 });
    expect(done.body.data.completed_at).toBe(api.clock.now().toISOString());
    expect(done.body.data.attempts).toMatchObject([
      { attempt: 1, outcome: 'failed', error: 'connection reset', worker_id: 'test-worker' },
      { attempt: 2, outcome: 'completed', error: null },
    ]);
  });

  test('another user\'s task answers 404 exactly like a missing one; moderators and admins see it', async () => {
    const task = await createTask(api, alice.token);
    const theirs = await api.call('GET', `/tasks/${task.id}`, { token: bob.token });
    const missing = await api.call('GET', '/tasks/01900000-0000-7000-8000-000000000000', { token: bob.token });
    expect(theirs.status).toBe(404);
    expect(theirs.body).toEqual(missing.body);
    expect(theirs.body.error.code).toBe('NOT_FOUND');
    expect((await api.call('GET', `/tasks/${task.id}`, { token: moderator.token })).status).toBe(200);
    expect((await api.call('GET', `/api/v1/tasks/${task.id}`, { token: admin.token })).status).toBe(200);
    const bad = await api.call('GET', '/tasks/not-a-uuid', { token: alice.token });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'id', message: 'id: must be a UUID' });
  });

  test('GET /tasks/stats counts the user\'s own tasks; moderators and admins count all', async () => {
    const me = await api.account();
    await createTask(api, me.token);
    await createTask(api, me.token, { task_type: 'report', payload: 1, priority: 'critical' });
    const own = await api.call('GET', '/tasks/stats', { token: me.token });
    expect(own.status).toBe(200);
    expect(own.body.data).toMatchObject({ scope: 'own', total: 2, pending: 2, running: 0, failed: 0, by_type: { email: { pending: 1 }, report: { pending: 1 } } });
    expect(own.body.data.by_priority.critical).toEqual({ pending: 1 });
    const all = await api.call('GET', '/tasks/stats', { token: moderator.token });
    expect(all.body.data.scope).toBe('all');
    expect(all.body.data.total).toBeGreaterThan(2);
    const allAdmin = await api.call('GET', '/api/v1/tasks/stats', { token: admin.token });
    expect(allAdmin.body.data.total).toBe(all.body.data.total);
  });

  test('GET /tasks/dead-letter lists failed tasks, filtered by owner in the query, with a total', async () => {
    const created = await createTask(api, alice.token, { task_type: 'read_dead', payload: {} });
    const { lease } = await claimOne(api, 'read_dead');
    await api.engine.taskFail({ lease, error: 'invalid payload', permanent: true, now: api.clock.now() });
    await createTask(api, alice.token, { task_type: 'read_dead', payload: {} });

    const mine = await api.call('GET', '/tasks/dead-letter?task_type=read_dead', { token: alice.token });
    expect(mine.status).toBe(200);
    expect(mine.body.data).toHaveLength(1);
    expect(mine.body.data[0]).toMatchObject({ id: created.id, status: 'failed', last_error: 'invalid payload' });
    expect(mine.body.pagination.total).toBe(1);
    expect((await api.call('GET', '/tasks/dead-letter', { token: bob.token })).body.data).toEqual([]);
    expect((await api.call('GET', '/tasks/dead-letter?limit=1', { token: moderator.token })).body.pagination.total).toBeGreaterThanOrEqual(1);
    expect((await api.call('GET', '/tasks/dead-letter?limit=500', { token: alice.token })).status).toBe(400);
  });

  test('GET /tasks/types lists registered types, their schemas, and whether a live worker handles them', async () => {
    const before = await api.call('GET', '/tasks/types', { token: bob.token });
    expect(before.status).toBe(200);
    const email = before.body.data.find((t: any) => t.task_type === 'email');
    expect(email).toMatchObject({ description: 'Send an email', has_live_worker: false, live_workers: 0, timeout_ms: 30_000 });
    expect(email.payload_schema.required).toEqual(['to', 'subject', 'body']);
    expect(email.examples).toHaveLength(1);

    const now = api.clock.now();
    await api.engine.workerHeartbeat({ worker: { id: 'w-types', host: 'test', pid: 1, concurrency: 4, running: 0, taskTypes: ['email'], startedAt: now }, now });
    const live = await api.call('GET', '/tasks/types', { token: bob.token });
    expect(live.body.data.find((t: any) => t.task_type === 'email')).toMatchObject({ has_live_worker: true, live_workers: 1 });
    expect(live.body.data.find((t: any) => t.task_type === 'report')).toMatchObject({ has_live_worker: false });

    api.clock.advance(31_000);
    const stale = await api.call('GET', '/tasks/types', { token: bob.token });
    expect(stale.body.data.find((t: any) => t.task_type === 'email').has_live_worker).toBe(false);
    await api.engine.workerRemove({ id: 'w-types' });
  });

  test.each(ROUTES)('GET %s answers 401 without a token or with a revoked one', async (path) => {
    const me = await api.account();
    expect((await api.call('GET', path)).status).toBe(401);
    await api.call('POST', '/auth/logout', { token: me.token });
    const revoked = await api.call('GET', path, { token: me.token });
    expect(revoked.status).toBe(401);
    expect(revoked.body).toMatchObject({ success: false, error: { code: 'UNAUTHORIZED' } });
  });
});

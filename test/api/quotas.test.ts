import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import pino from 'pino';
import type { ApiConfig, DeepPartial } from '../../src/api/api-config.ts';
import { DEFAULT_QUOTA_CONFIG, type RoleQuota } from '../../src/core/quota.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { createEmailTask } from '../../src/tasks/builtin/email.ts';
import { Scheduler } from '../../src/worker/maintenance/scheduler.ts';
import { createEngine } from '../helpers/create-engine.ts';
import { testDatabases } from '../helpers/databases.ts';
import { startHttpServer } from '../helpers/http-harness.ts';
import { EMAIL_PAYLOAD, startApi, type Account, type ApiHarness } from './api-harness.ts';

/** The user's quotas for these tests: small enough to reach, each test using its own account. */
const USER_QUOTA: RoleQuota = { ...DEFAULT_QUOTA_CONFIG.user, tasksPerMinute: 1_500, waitingTasks: 5_000, payloadBytes: 50_000_000, emailRecipientsPerDay: 5, emailDomains: ['example.com'] };
const OVERRIDES: DeepPartial<ApiConfig> = { quotas: { user: USER_QUOTA }, rateLimit: { taskCreatePerMinute: 0 } };

const reports = (n: number, payload: unknown = { n: 1 }) => Array.from({ length: n }, () => ({ task_type: 'report', payload }));

describe.each(testDatabases)('quotas counted in tasks [$kind]', ({ create }) => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi(create(), OVERRIDES);
    // The built-in email type's own schema (to, cc and bcc; one address or a list), as a worker registers it.
    const email = createEmailTask({ from: 'conveyor@example.com', outboxDir: '' });
    await api.engine.typeRegister({ type: { name: 'email', description: email.description ?? '', payloadSchema: JSON.parse(JSON.stringify(email.payload)), examples: [], timeoutMs: 30_000 }, now: api.clock.now() });
    api.clock.advance(10_000);
  });
  afterAll(async () => api?.close());

  const countTasks = async (account: Account) => (await api.engine.taskStats({ now: api.clock.now(), createdBy: account.id })).total;
  const quotaError = (response: { status: number; headers: Headers; body: any }, quota: string) => {
    expect(response.status).toBe(429);
    expect(response.body.error).toMatchObject({ code: 'QUOTA_EXCEEDED', details: { quota } });
    expect(response.body.error.message).toContain(`Quota ${quota}`);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
  };

  test('a batch of 1,000 uses 1,000 of the per-minute quota; a batch that would exceed it is refused whole, with Retry-After', async () => {
    const alice = await api.account();
    const first = await api.call('POST', '/tasks/batch', { token: alice.token, body: { tasks: reports(1000) } });
    expect(first.status).toBe(201);
    api.clock.advance(20_000);
    const second = await api.call('POST', '/tasks/batch', { token: alice.token, body: { tasks: reports(1000) } });
    quotaError(second, 'tasks_per_minute');
    expect(second.body.error.details).toMatchObject({ limit: 1500, used: 1000, requested: 1000, role: 'user' });
    // The first batch leaves the window 60 s after it was made: 40 s from now.
    expect(second.headers.get('retry-after')).toBe('40');
    expect(await countTasks(alice)).toBe(1000);

    // 500 more fit exactly; the next single task does not.
    expect((await api.call('POST', '/tasks/batch', { token: alice.token, body: { tasks: reports(500) } })).status).toBe(201);
    quotaError(await api.call('POST', '/tasks', { token: alice.token, body: { task_type: 'report', payload: {} } }), 'tasks_per_minute');
    api.clock.advance(40_001);
    expect((await api.call('POST', '/tasks', { token: alice.token, body: { task_type: 'report', payload: {} } })).status).toBe(201);
    expect(await countTasks(alice)).toBe(1501);
  });

  test('run-now counts like any created task, against the schedule owner\'s quota', async () => {
    const carol = await api.account();
    const schedule = await api.call('POST', '/schedules', { token: carol.token, body: { name: 'hourly', cron: '0 * * * *', task_type: 'report', payload: {} } });
    expect(schedule.status).toBe(201);
    expect((await api.call('POST', '/tasks/batch', { token: carol.token, body: { tasks: reports(1000) } })).status).toBe(201);
    expect((await api.call('POST', '/tasks/batch', { token: carol.token, body: { tasks: reports(498) } })).status).toBe(201);
    const id = schedule.body.data.id;
    expect((await api.call('POST', `/schedules/${id}/run`, { token: carol.token })).status).toBe(201);
    expect((await api.call('POST', `/schedules/${id}/run`, { token: carol.token })).status).toBe(201);
    quotaError(await api.call('POST', `/schedules/${id}/run`, { token: carol.token }), 'tasks_per_minute');
    expect(await countTasks(carol)).toBe(1500);
  });

  test('schedule firings count, and a firing over the quota is skipped with the reason on the schedule', async () => {
    const dave = await api.account();
    const scheduler = new Scheduler({ engine: api.engine, clock: api.clock, logger: silentLogger, quotas: { ...DEFAULT_QUOTA_CONFIG, user: USER_QUOTA } });
    // Every minute, at :00. The clock is somewhere in a minute: go to the next firing.
    const created = await api.call('POST', '/schedules', { token: dave.token, body: { name: 'every-minute', cron: '* * * * *', task_type: 'report', payload: {} } });
    expect(created.status).toBe(201);
    const id = created.body.data.id;
    api.clock.set(new Date(created.body.data.next_run_at));
    const fired = await scheduler.runOnce();
    expect(fired.fired.map((t) => t.createdBy)).toEqual([dave.id]);
    // The firing counts: with it and 1,499 more the minute's 1,500 are used.
    api.clock.advance(30_000);
    expect((await api.call('POST', '/tasks/batch', { token: dave.token, body: { tasks: reports(1000) } })).status).toBe(201);
    expect((await api.call('POST', '/tasks/batch', { token: dave.token, body: { tasks: reports(499) } })).status).toBe(201);
    quotaError(await api.call('POST', '/tasks', { token: dave.token, body: { task_type: 'report', payload: {} } }), 'tasks_per_minute');

    // At the next firing the first has left the window; one more task uses the last place: the firing is skipped, visibly, and the schedule moves on.
    api.clock.advance(30_000);
    expect((await api.call('POST', '/tasks', { token: dave.token, body: { task_type: 'report', payload: {} } })).status).toBe(201);
    const skipped = await scheduler.runOnce();
    expect(skipped.fired).toHaveLength(0);
    expect(skipped.skipped).toEqual([{ scheduleId: id, reason: expect.stringContaining('Quota tasks_per_minute') }]);
    const view = (await api.call('GET', `/schedules/${id}`, { token: dave.token })).body.data;
    expect(view.last_skipped_at).toBe(api.clock.now().toISOString());
    expect(view.last_skip_reason).toContain('Quota tasks_per_minute');
    expect(new Date(view.next_run_at).getTime()).toBe(api.clock.now().getTime() + 60_000);
    // A minute later the batches have left the window: the schedule fires again by itself.
    api.clock.advance(60_000);
    expect((await scheduler.runOnce()).fired).toHaveLength(1);
    expect(await countTasks(dave)).toBe(1502);
  });

  test('waiting tasks and stored payload bytes are quotas too; admins are exempt by default', async () => {
    const erin = await api.account();
    const admin = await api.account('admin');
    const q = { ...USER_QUOTA, waitingTasks: 3, payloadBytes: 0 };
    const small = await startHttpServer({ engine: api.engine, clock: api.clock, logger: pino({ level: 'silent' }), overrides: { ...OVERRIDES, quotas: { user: q } } });
    try {
      const erinToken = erin.token;
      expect((await small.call('POST', '/tasks/batch', { token: erinToken, body: { tasks: reports(3) } })).status).toBe(201);
      quotaError(await small.call('POST', '/tasks', { token: erinToken, body: { task_type: 'report', payload: {} } }), 'waiting_tasks');
      // A claimed task no longer waits.
      await api.engine.taskClaim({ workerId: 'w', taskTypes: ['report'], limit: 10_000, now: api.clock.now(), leaseMs: 60_000 });
      expect((await small.call('POST', '/tasks', { token: erinToken, body: { task_type: 'report', payload: {} } })).status).toBe(201);
      const adminBatch = await small.call('POST', '/tasks/batch', { token: admin.token, body: { tasks: reports(1000) } });
      expect(adminBatch.status).toBe(201);
      // A batch larger than the whole quota can never fit, and says so.
      const never = await small.call('POST', '/tasks/batch', { token: (await api.account()).token, body: { tasks: reports(4) } });
      quotaError(never, 'waiting_tasks');
    } finally {
      await small.app.close();
    }
    const bytes = await startHttpServer({ engine: api.engine, clock: api.clock, logger: pino({ level: 'silent' }), overrides: { ...OVERRIDES, quotas: { user: { ...USER_QUOTA, payloadBytes: 100_000 } } } });
    try {
      const frank = await api.account();
      const big = { blob: 'x'.repeat(40_000) };
      expect((await bytes.call('POST', '/tasks', { token: frank.token, body: { task_type: 'report', payload: big } })).status).toBe(201);
      expect((await bytes.call('POST', '/tasks', { token: frank.token, body: { task_type: 'report', payload: big } })).status).toBe(201);
      const third = await bytes.call('POST', '/tasks/batch', { token: frank.token, body: { tasks: [{ task_type: 'report', payload: big }] } });
      quotaError(third, 'payload_bytes');
      expect(third.body.error.details.limit).toBe(100_000);
    } finally {
      await bytes.app.close();
    }
  });

  test('the count holds across two API servers on one database', async () => {
    const grace = await api.account();
    const otherEngine = createEngine(api.db.url);
    const other = await startHttpServer({ engine: otherEngine, clock: api.clock, logger: pino({ level: 'silent' }), overrides: OVERRIDES });
    try {
      expect((await api.call('POST', '/tasks/batch', { token: grace.token, body: { tasks: reports(1000) } })).status).toBe(201);
      expect((await other.call('POST', '/tasks/batch', { token: grace.token, body: { tasks: reports(500) } })).status).toBe(201);
      quotaError(await other.call('POST', '/tasks', { token: grace.token, body: { task_type: 'report', payload: {} } }), 'tasks_per_minute');
      quotaError(await api.call('POST', '/tasks', { token: grace.token, body: { task_type: 'report', payload: {} } }), 'tasks_per_minute');
    } finally {
      await other.app.close();
      await otherEngine.close();
    }
  });

  test('a schedule may fire at most once a minute for the role user (400 naming cron); admins are exempt', async () => {
    const henry = await api.account();
    const admin = await api.account('admin');
    const everySecond = { name: 'every-second', cron: '* * * * * *', task_type: 'report', payload: {} };
    const refused = await api.call('POST', '/schedules', { token: henry.token, body: everySecond });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'cron', details: { quota: 'schedule_min_interval_ms', limit: 60_000 } });
    expect(refused.body.error.message).toMatch(/fires every 1 s.*once every 1 min/);
    // Two firings a second apart once a day are refused too: the shortest gap counts.
    expect((await api.call('POST', '/schedules', { token: henry.token, body: { ...everySecond, cron: '0,1 0 3 * * *' } })).status).toBe(400);
    expect((await api.call('POST', '/schedules', { token: henry.token, body: { ...everySecond, cron: '*/2 * * * *' } })).status).toBe(201);
    const made = await api.call('POST', '/schedules', { token: henry.token, body: { ...everySecond, name: 'later', cron: '0 3 * * *' } });
    expect((await api.call('PATCH', `/schedules/${made.body.data.id}`, { token: henry.token, body: { cron: '*/10 * * * * *' } })).status).toBe(400);
    expect((await api.call('POST', '/schedules', { token: admin.token, body: everySecond })).status).toBe(201);
  });

  test('email: recipients outside the role\'s domains are refused (422 naming the field); the daily cap counts recipients (429)', async () => {
    const ivy = await api.account();
    const outside = await api.call('POST', '/tasks', { token: ivy.token, body: { task_type: 'email', payload: { ...EMAIL_PAYLOAD, to: ['a@example.com', 'stranger@elsewhere.org'] } } });
    expect(outside.status).toBe(422);
    expect(outside.body.error).toMatchObject({ code: 'RECIPIENT_NOT_ALLOWED', field: 'payload.to' });
    expect(outside.body.error.message).toContain('stranger@elsewhere.org');
    const inBatch = await api.call('POST', '/tasks/batch', {
      token: ivy.token,
      body: { tasks: [{ task_type: 'email', payload: EMAIL_PAYLOAD }, { task_type: 'email', payload: { ...EMAIL_PAYLOAD, cc: 'x@evil.example.net' } }] },
    });
    expect(inBatch.status).toBe(422);
    expect(inBatch.body.error.field).toBe('tasks[1].payload.cc');
    // A subdomain of an allowed domain is allowed.
    expect((await api.call('POST', '/tasks', { token: ivy.token, body: { task_type: 'email', payload: { ...EMAIL_PAYLOAD, to: ['a@example.com', 'b@mail.example.com', 'c@example.com'] } } })).status).toBe(201);
    const over = await api.call('POST', '/tasks/batch', { token: ivy.token, body: { tasks: [{ task_type: 'email', payload: EMAIL_PAYLOAD }, { task_type: 'email', payload: { ...EMAIL_PAYLOAD, to: ['d@example.com', 'e@example.com'] } }] } });
    quotaError(over, 'email_recipients_per_day');
    expect(over.body.error.details).toMatchObject({ limit: 5, used: 3, requested: 3 });
    expect((await api.call('POST', '/tasks', { token: ivy.token, body: { task_type: 'email', payload: { ...EMAIL_PAYLOAD, to: ['d@example.com', 'e@example.com'] } } })).status).toBe(201);
    quotaError(await api.call('POST', '/tasks', { token: ivy.token, body: { task_type: 'email', payload: EMAIL_PAYLOAD } }), 'email_recipients_per_day');
    // Moderators and admins are not limited by default.
    const moderator = await api.account('moderator');
    expect((await api.call('POST', '/tasks', { token: moderator.token, body: { task_type: 'email', payload: { ...EMAIL_PAYLOAD, to: 'someone@elsewhere.org' } } })).status).toBe(201);
  });

  test('JSON nested 10,000 deep answers 400 JSON_TOO_DEEP on /tasks and /tasks/batch; 64 levels are accepted', async () => {
    const jay = await api.account();
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    for (const [path, raw] of [
      ['/tasks', `{"task_type":"report","payload":${deep}}`],
      ['/tasks/batch', `{"tasks":[{"task_type":"report","payload":${deep}}]}`],
      ['/tasks', `{"task_type":"report","payload":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`],
    ] as const) {
      const response = await api.call('POST', path, { token: jay.token, raw });
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'JSON_TOO_DEEP', details: { max_depth: 64 } });
    }
    // Brackets inside strings are text, not nesting.
    const text = await api.call('POST', '/tasks', { token: jay.token, raw: `{"task_type":"report","payload":{"s":"${'['.repeat(1000)}"}}` });
    expect(text.status).toBe(201);
    const fine = await api.call('POST', '/tasks', { token: jay.token, raw: `{"task_type":"report","payload":${'['.repeat(62)}${']'.repeat(62)}}` });
    expect(fine.status).toBe(201);
  });
});

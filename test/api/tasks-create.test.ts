import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testDatabases } from '../helpers/databases.ts';
import { EMAIL_PAYLOAD, startApi, type ApiHarness } from './api-harness.ts';

const LIMIT_PER_MINUTE = 25;

describe.each(testDatabases)('creating tasks [$kind]', ({ create }) => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi(create(), { rateLimit: { taskCreatePerMinute: LIMIT_PER_MINUTE } });
  });
  afterAll(async () => api?.close());

  test('POST /tasks with the guide\'s body answers 201 with the task', async () => {
    const me = await api.account();
    const response = await api.call('POST', '/tasks', { token: me.token, body: { task_type: 'email', payload: EMAIL_PAYLOAD, priority: 'normal' } });
    expect(response.status).toBe(201);
    expect(response.body.success).toBe(true);
    expect(response.body.data).toMatchObject({
      task_type: 'email',
      status: 'pending',
      priority: 'normal',
      payload: EMAIL_PAYLOAD,
      created_by: me.id,
      current_attempt: 0,
      max_attempts: 3,
      last_error: null,
      output: null,
      created_at: api.clock.now().toISOString(),
      metadata: { api_created: true },
      attempts: [],
    });
    expect(response.body.data.id).toMatch(/^[0-9a-f-]{36}$/);
    const stored = await api.engine.taskGet({ id: response.body.data.id });
    expect(stored?.createdBy).toBe(me.id);
  });

  test('every optional field is honoured: priority, scheduled_at, max_attempts, retry_strategy, metadata', async () => {
    const me = await api.account();
    const at = new Date(api.clock.now().getTime() + 3_600_000).toISOString();
    const response = await api.call('POST', '/api/v1/tasks', {
      token: me.token,
      body: {
        task_type: 'report',
        payload: { anything: [1, 2, 3] },
        priority: 'critical',
        scheduled_at: at,
        max_attempts: 7,
        retry_strategy: { type: 'Linear', base_delay_ms: 500, increment_ms: 250 },
        metadata: { tag: 'nightly', 'run-id': 42 },
      },
    });
    expect(response.status).toBe(201);
    expect(response.body.data).toMatchObject({
      task_type: 'report',
      status: 'scheduled',
      priority: 'critical',
      scheduled_at: at,
      run_at: at,
      max_attempts: 7,
      retry_strategy: { type: 'linear', base_delay_ms: 500, increment_ms: 250, max_attempts: 7 },
      metadata: { tag: 'nightly', 'run-id': 42, api_created: true },
    });
  });

  test('an Idempotency-Key returns the first task on repeats (200), scoped to each user', async () => {
    const me = await api.account();
    const other = await api.account();
    const send = (token: string, subject: string) =>
      api.call('POST', '/tasks', { token, headers: { 'idempotency-key': 'order-1234' }, body: { task_type: 'email', payload: { ...EMAIL_PAYLOAD, subject } } });
    const first = await send(me.token, 'first');
    expect(first.status).toBe(201);
    expect(first.body.data.idempotency_key).toBe('order-1234');
    const repeat = await send(me.token, 'second');
    expect(repeat.status).toBe(200);
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    expect(repeat.body.data.id).toBe(first.body.data.id);
    expect(repeat.body.data.payload.subject).toBe('first');
    const theirs = await send(other.token, 'theirs');
    expect(theirs.status).toBe(201);
    expect(theirs.body.data.id).not.toBe(first.body.data.id);
    const bad = await api.call('POST', '/tasks', { token: me.token, headers: { 'idempotency-key': 'has space' }, body: { task_type: 'email', payload: EMAIL_PAYLOAD } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('Idempotency-Key');
  });

  test('an unknown task type answers 400 listing the registered ones', async () => {
    const me = await api.account();
    const response = await api.call('POST', '/tasks', { token: me.token, body: { task_type: 'no_such_type', payload: {} } });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'task_type', details: { registered: ['email', 'report'] } });
    expect(response.body.error.message).toContain('email, report');
  });

  test('a type registered after start-up is accepted without a restart', async () => {
    const me = await api.account();
    await api.engine.typeRegister({ type: { name: 'late_type', description: '', payloadSchema: null, examples: [], timeoutMs: 1000 }, now: api.clock.now() });
    // The type list is cached briefly; a miss looks again once a second at most.
    api.clock.advance(1_000);
    const response = await api.call('POST', '/tasks', { token: me.token, body: { task_type: 'late_type', payload: 1 } });
    expect(response.status).toBe(201);
  });

  test.each([
    ['payload.to', { task_type: 'email', payload: { ...EMAIL_PAYLOAD, to: 'not an address' } }],
    ['payload.subject', { task_type: 'email', payload: { to: 'a@example.com', body: 'x' } }],
    ['payload.cc', { task_type: 'email', payload: { ...EMAIL_PAYLOAD, cc: 'x@example.com' } }],
    ['payload', { task_type: 'email', payload: 'a string' }],
    ['payload', { task_type: 'email' }],
    ['task_type', { payload: EMAIL_PAYLOAD }],
    ['task_type', { task_type: "email'; DROP TABLE tasks;--", payload: EMAIL_PAYLOAD }],
    ['priority', { task_type: 'email', payload: EMAIL_PAYLOAD, priority: 'urgent' }],
    ['max_attempts', { task_type: 'email', payload: EMAIL_PAYLOAD, max_attempts: 0 }],
    ['retry_strategy.type', { task_type: 'email', payload: EMAIL_PAYLOAD, retry_strategy: { type: 'sometimes' } }],
    ['scheduled_at', { task_type: 'email', payload: EMAIL_PAYLOAD, scheduled_at: 'tomorrow' }],
    ['scheduled_at', { task_type: 'email', payload: EMAIL_PAYLOAD, scheduled_at: '2027-06-01T00:00:00Z' }],
    ['scheduled_at', { task_type: 'email', payload: EMAIL_PAYLOAD, scheduled_at: '2026-01-01T09:00:00Z' }],
    ['metadata.bad key', { task_type: 'email', payload: EMAIL_PAYLOAD, metadata: { 'bad key': 1 } }],
    ['metadata.big', { task_type: 'email', payload: EMAIL_PAYLOAD, metadata: { big: 'x'.repeat(5000) } }],
    ['metadata', { task_type: 'email', payload: EMAIL_PAYLOAD, metadata: [1, 2] }],
    ['colour', { task_type: 'email', payload: EMAIL_PAYLOAD, colour: 'blue' }],
  ])('a bad %s answers 400 naming the field', async (field, body) => {
    const me = await api.account();
    const response = await api.call('POST', '/tasks', { token: me.token, body });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ success: false, error: { code: 'VALIDATION_FAILED', field } });
    expect(response.body.error.message).toContain(field);
  });

  test.each([
    ['payload.to: must be an email address', { task_type: 'email', payload: { ...EMAIL_PAYLOAD, to: 'not an address' } }],
    ['payload.subject: is required', { task_type: 'email', payload: { to: 'a@example.com', body: 'x' } }],
    ['payload.subject: must be at most 200 characters', { task_type: 'email', payload: { ...EMAIL_PAYLOAD, subject: 'x'.repeat(201) } }],
    ['payload.cc: is not a known field', { task_type: 'email', payload: { ...EMAIL_PAYLOAD, cc: 'x@example.com' } }],
    ['payload: must be an object', { task_type: 'email', payload: 'a string' }],
    ['priority: must be one of: critical, high, normal, low', { task_type: 'email', payload: EMAIL_PAYLOAD, priority: 'urgent' }],
    ['max_attempts: must be at least 1', { task_type: 'email', payload: EMAIL_PAYLOAD, max_attempts: 0 }],
    ['colour: is not a known field', { task_type: 'email', payload: EMAIL_PAYLOAD, colour: 'blue' }],
  ])('says "%s" in words, as docs/api.md does', async (message, body) => {
    const me = await api.account();
    const response = await api.call('POST', '/tasks', { token: me.token, body });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toBe(message);
  });

  test('malformed JSON, a poisoned prototype and a non-JSON body are refused in the envelope', async () => {
    const me = await api.account();
    const malformed = await api.call('POST', '/tasks', { token: me.token, raw: '{"task_type": "email", ' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('INVALID_JSON');
    const poisoned = await api.call('POST', '/tasks', { token: me.token, raw: '{"task_type":"email","payload":{"__proto__":{"admin":true}}}' });
    expect(poisoned.status).toBe(400);
    expect(poisoned.body.success).toBe(false);
    const text = await api.call('POST', '/tasks', { token: me.token, raw: 'hello', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
    expect(text.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const empty = await api.call('POST', '/tasks', { token: me.token, raw: '', headers: { 'content-type': 'application/json' } });
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe('VALIDATION_FAILED');
  });

  test('a payload over 1 MB answers 413 naming it; a body over the limit answers 413 too', async () => {
    const me = await api.account();
    const big = await api.call('POST', '/tasks', { token: me.token, body: { task_type: 'report', payload: { blob: 'x'.repeat(1024 * 1024) } } });
    expect(big.status).toBe(413);
    expect(big.body.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', field: 'payload' });
    const huge = await api.call('POST', '/tasks', { token: me.token, body: { task_type: 'report', payload: { blob: 'x'.repeat(2 * 1024 * 1024) } } });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    const justUnder = await api.call('POST', '/tasks', { token: me.token, body: { task_type: 'report', payload: { blob: 'x'.repeat(1024 * 1024 - 100) } } });
    expect(justUnder.status).toBe(201);
  });

  test('POST /tasks/batch creates up to 1,000 tasks at once, all or nothing', async () => {
    const me = await api.account();
    const tasks = Array.from({ length: 1000 }, (_, i) => ({ task_type: 'report', payload: { i }, priority: i % 2 ? 'high' : 'low' }));
    const response = await api.call('POST', '/tasks/batch', { token: me.token, body: { tasks } });
    expect(response.status).toBe(201);
    expect(response.body.data.created).toBe(1000);
    expect(response.body.data.tasks).toHaveLength(1000);
    expect(response.body.data.tasks[1]).toMatchObject({ task_type: 'report', priority: 'high', status: 'pending', created_by: me.id });

    const tooMany = await api.call('POST', '/tasks/batch', { token: me.token, body: { tasks: [...tasks, tasks[0]] } });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.field).toBe('tasks');

    const before = (await api.engine.taskStats({ now: api.clock.now(), createdBy: me.id })).total;
    const oneBad = await api.call('POST', '/tasks/batch', {
      token: me.token,
      body: { tasks: [{ task_type: 'email', payload: EMAIL_PAYLOAD }, { task_type: 'email', payload: { ...EMAIL_PAYLOAD, to: 5 } }] },
    });
    expect(oneBad.status).toBe(400);
    expect(oneBad.body.error.field).toBe('tasks[1].payload.to');
    expect((await api.engine.taskStats({ now: api.clock.now(), createdBy: me.id })).total).toBe(before);

    // The 1,000 tasks above used the minute's quota of the role user (tasks_per_minute): wait it out.
    api.clock.advance(60_000);
    const keyed = [{ task_type: 'email', payload: EMAIL_PAYLOAD, idempotency_key: 'k1' }];
    const once = await api.call('POST', '/tasks/batch', { token: me.token, body: { tasks: keyed } });
    const twice = await api.call('POST', '/tasks/batch', { token: me.token, body: { tasks: keyed } });
    expect(once.body.data.created).toBe(1);
    expect(twice.body.data.created).toBe(0);
    expect(twice.body.data.tasks[0].id).toBe(once.body.data.tasks[0].id);
  });

  test('task creation is rate limited per user: 429 with Retry-After; others are unaffected; the window resets', async () => {
    const me = await api.account();
    const other = await api.account();
    const create = (token: string) => api.call('POST', '/tasks', { token, body: { task_type: 'report', payload: null } });
    for (let i = 0; i < LIMIT_PER_MINUTE; i++) expect((await create(me.token)).status).toBe(201);
    const limited = await create(me.token);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // The limit belongs to the user, not to the path.
    expect((await api.call('POST', '/api/v1/tasks/batch', { token: me.token, body: { tasks: [{ task_type: 'report', payload: 1 }] } })).status).toBe(429);
    expect((await create(other.token)).status).toBe(201);
    api.clock.advance(60_000);
    expect((await create(me.token)).status).toBe(201);
  });

  test('creating without a token, or with a revoked one, answers 401 before anything else', async () => {
    const me = await api.account();
    expect((await api.call('POST', '/tasks', { body: { task_type: 'email', payload: EMAIL_PAYLOAD } })).status).toBe(401);
    // Even an invalid or oversized body: an anonymous caller learns nothing about the route.
    expect((await api.call('POST', '/tasks', { raw: '{bad' })).status).toBe(401);
    await api.call('POST', '/auth/logout', { token: me.token });
    const revoked = await api.call('POST', '/tasks/batch', { token: me.token, body: { tasks: [{ task_type: 'email', payload: EMAIL_PAYLOAD }] } });
    expect(revoked.status).toBe(401);
    expect(revoked.body.error.code).toBe('UNAUTHORIZED');
  });
});

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_BREAKER_CONFIG } from '../../src/core/circuit-breaker.ts';
import { newSchedule } from '../../src/core/schedule.ts';
import { testDatabases } from '../helpers/databases.ts';
import { createTask, startApi, type Account, type ApiHarness } from './api-harness.ts';

const METRICS_TOKEN = 'scrape-token-for-tests';
const scrape = { headers: { authorization: `Bearer ${METRICS_TOKEN}` } };

describe.each(testDatabases)('monitoring, health, docs and HTTP behaviour [$kind]', ({ create }) => {
  let api: ApiHarness;
  let user: Account;
  let moderator: Account;
  let admin: Account;
  beforeAll(async () => {
    api = await startApi(create(), { server: { corsOrigins: ['https://dash.example.com'] }, metrics: { token: METRICS_TOKEN } });
    [user, moderator, admin] = [await api.account(), await api.account('moderator'), await api.account('admin')];
  });
  afterAll(async () => api?.close());

  test('GET /workers lists workers with liveness, for moderators and admins only', async () => {
    const now = api.clock.now();
    await api.engine.workerHeartbeat({ worker: { id: 'w-mon', host: 'box-1', pid: 42, concurrency: 8, running: 3, taskTypes: ['email'], startedAt: now }, now });
    const response = await api.call('GET', '/workers', { token: moderator.token });
    expect(response.status).toBe(200);
    expect(response.body.data).toContainEqual({
      id: 'w-mon', host: 'box-1', pid: 42, concurrency: 8, running: 3, task_types: ['email'],
      started_at: now.toISOString(), last_heartbeat_at: now.toISOString(), live: true,
    });
    expect((await api.call('GET', '/api/v1/workers', { token: admin.token })).status).toBe(200);
    const forbidden = await api.call('GET', '/workers', { token: user.token });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.code).toBe('FORBIDDEN');
    expect((await api.call('GET', '/workers')).status).toBe(401);
    api.clock.advance(60_000);
    const stale = await api.call('GET', '/workers', { token: moderator.token });
    expect(stale.body.data.find((w: any) => w.id === 'w-mon').live).toBe(false);
    await api.engine.workerRemove({ id: 'w-mon' });
  });

  test('GET /circuit-breakers shows every type (closed when it never failed); an admin may reset one', async () => {
    let now = api.clock.now();
    for (let i = 0; i < DEFAULT_BREAKER_CONFIG.failureThreshold; i++) {
      await api.engine.breakerRecord({ taskType: 'email', outcome: 'failure', now, config: DEFAULT_BREAKER_CONFIG });
    }
    const list = await api.call('GET', '/circuit-breakers', { token: user.token });
    expect(list.status).toBe(200);
    expect(list.body.data.find((b: any) => b.task_type === 'email')).toMatchObject({
      state: 'open', consecutive_failures: 5, opened_at: now.toISOString(), reopens_at: new Date(now.getTime() + 60_000).toISOString(),
    });
    expect(list.body.data.find((b: any) => b.task_type === 'report')).toMatchObject({ state: 'closed', consecutive_failures: 0, opened_at: null });

    api.clock.advance(61_000);
    const halfOpen = await api.call('GET', '/circuit-breakers', { token: user.token });
    expect(halfOpen.body.data.find((b: any) => b.task_type === 'email').state).toBe('half_open');

    expect((await api.call('POST', '/circuit-breakers/email/reset', { token: moderator.token })).status).toBe(403);
    expect((await api.call('POST', '/circuit-breakers/email/reset', { token: user.token })).status).toBe(403);
    expect((await api.call('POST', '/circuit-breakers/email/reset')).status).toBe(401);
    const reset = await api.call('POST', '/api/v1/circuit-breakers/email/reset', { token: admin.token });
    expect(reset.status).toBe(200);
    expect(reset.body.data).toMatchObject({ task_type: 'email', state: 'closed', consecutive_failures: 0 });
    now = api.clock.now();
    expect((await api.engine.breakerGet({ taskType: 'email' }))?.state).toBe('closed');
    const unknown = await api.call('POST', '/circuit-breakers/nosuchtype/reset', { token: admin.token });
    expect(unknown.status).toBe(404);
    const bad = await api.call('POST', '/circuit-breakers/bad%20name/reset', { token: admin.token });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('task_type');
    expect((await api.call('GET', '/circuit-breakers')).status).toBe(401);
  });

  test("GET /circuit-breakers names a webhook breaker's destination host (to moderators and admins); an admin resets that scope alone", async () => {
    const now = api.clock.now();
    for (let i = 0; i < DEFAULT_BREAKER_CONFIG.failureThreshold; i++) {
      await api.engine.breakerRecord({ taskType: 'webhook', scope: 'down.example.com', outcome: 'failure', now, config: DEFAULT_BREAKER_CONFIG });
    }
    const list = await api.call('GET', '/circuit-breakers', { token: moderator.token });
    expect(list.status).toBe(200);
    expect(list.body.data.find((b: any) => b.scope === 'down.example.com')).toMatchObject({
      task_type: 'webhook', label: 'webhook @ down.example.com', state: 'open', consecutive_failures: 5,
    });
    // The type's own breaker saw nothing: other hosts' webhooks run.
    expect(list.body.data.find((b: any) => b.task_type === 'webhook' && b.scope === null)?.state ?? 'closed').toBe('closed');
    // A scope names another user's destination: a plain user sees the types only.
    const asUser = await api.call('GET', '/circuit-breakers', { token: user.token });
    expect(asUser.body.data.filter((b: any) => b.scope !== null)).toEqual([]);
    // Metrics count open scopes per type; hosts are never label values.
    const metrics = (await api.call('GET', '/metrics', scrape)).text;
    expect(metrics).toMatch(/conveyor_circuit_breaker_open_scopes\{task_type="webhook"\} 1/);
    expect(metrics).not.toContain('down.example.com');

    const unknown = await api.call('POST', '/circuit-breakers/webhook/reset?scope=never.example.com', { token: admin.token });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toContain('webhook @ never.example.com');
    const reset = await api.call('POST', '/circuit-breakers/webhook/reset?scope=down.example.com', { token: admin.token });
    expect(reset.status).toBe(200);
    expect(reset.body.data).toMatchObject({ task_type: 'webhook', scope: 'down.example.com', label: 'webhook @ down.example.com', state: 'closed' });
    expect((await api.engine.breakerGet({ taskType: 'webhook', scope: 'down.example.com' }))?.state).toBe('closed');
  });

  test('GET /health, /health/live and /health/ready answer without a token', async () => {
    const health = await api.call('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body.data).toMatchObject({ status: 'healthy', engine: api.engine.kind, documentation: { openapi_json: '/api-docs/openapi.json', api_docs: '/api-docs' } });
    expect(health.body.data.version).toMatch(/^\d+\.\d+\.\d+/);
    expect((await api.call('GET', '/api/v1/health/live')).body.data.status).toBe('alive');
    const ready = await api.call('GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.data).toMatchObject({ status: 'ready', checks: { database: { status: 'ok' }, workers: { status: 'none', live: 0 } } });
    const now = api.clock.now();
    await api.engine.workerHeartbeat({ worker: { id: 'w-ready', host: 'h', pid: 1, concurrency: 1, running: 0, taskTypes: ['email'], startedAt: now }, now });
    expect((await api.call('GET', '/health/ready')).body.data.checks.workers).toEqual({ status: 'ok', live: 1 });
    await api.engine.workerRemove({ id: 'w-ready' });
  });

  test('GET /metrics exposes HTTP counters and durations and task counts by status and type', async () => {
    await createTask(api, user.token);
    await api.call('GET', '/tasks', { token: user.token });
    const response = await api.call('GET', '/metrics', scrape);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(response.text).toMatch(/conveyor_http_requests_total\{method="GET",route="\/tasks",status_code="200"\} [1-9]/);
    expect(response.text).toMatch(/conveyor_http_request_duration_seconds_bucket\{le="\+Inf",method="POST",route="\/tasks",status_code="201"\} [1-9]/);
    expect(response.text).toMatch(/conveyor_tasks\{status="pending",task_type="email"\} [1-9]/);
    expect(response.text).toContain('conveyor_workers_live 0');
    expect(response.text).toMatch(/conveyor_circuit_breaker_state\{task_type="email"\} 0/);
    expect(response.text).toContain('conveyor_schedules_overdue 0');
    expect(response.text).toMatch(api.db.kind === 'postgres' ? /conveyor_table_dead_rows\{table="[a-z0-9_]+\.tasks"\} \d+/ : /conveyor_sqlite_wal_bytes [1-9]\d*/);
    expect(response.text).toMatch(/conveyor_oldest_transaction_seconds \d/);
    expect(response.text).not.toContain('conveyor_task_type_paused{');
  });

  test('GET /metrics shows the engine calls this server made: durations by method, and failures by code', async () => {
    await createTask(api, user.token);
    // A page size the engine refuses: a failed call, counted under its error code.
    await expect(api.engine.taskList({ limit: 5000 })).rejects.toMatchObject({ code: 'CONVEYOR_VALIDATION' });
    const text = (await api.call('GET', '/metrics', scrape)).text;
    const kind = api.db.kind;
    expect(text).toMatch(new RegExp(`conveyor_engine_call_duration_seconds_count\\{engine="${kind}",method="taskInsert",outcome="ok"\\} [1-9]`));
    expect(text).toMatch(new RegExp(`conveyor_engine_call_duration_seconds_bucket\\{le="\\+Inf",engine="${kind}",method="sessionGet",outcome="ok"\\} [1-9]`));
    expect(text).toMatch(new RegExp(`conveyor_engine_call_duration_seconds_count\\{engine="${kind}",method="taskList",outcome="CONVEYOR_VALIDATION"\\} 1`));
    expect(text).toMatch(new RegExp(`conveyor_engine_call_errors_total\\{engine="${kind}",method="taskList",code="CONVEYOR_VALIDATION"\\} 1`));
  });

  test('GET /metrics shows a paused task type, and a schedule no worker fired', async () => {
    await api.engine.typePause({ taskType: 'report', now: api.clock.now(), pausedBy: null, reason: null });
    const schedule = await api.engine.scheduleInsert({ schedule: newSchedule({ name: 'metrics-probe', cron: '* * * * *', taskType: 'report', payload: {} }, api.clock.now()) });
    api.clock.advance(2 * 60_000);
    try {
      const text = (await api.call('GET', '/metrics', scrape)).text;
      expect(text).toContain('conveyor_task_type_paused{task_type="report"} 1');
      expect(text).toContain('conveyor_schedules_overdue 1');
    } finally {
      await api.engine.typeResume({ taskType: 'report' });
      await api.engine.scheduleDelete({ id: schedule.id });
    }
  });

  test('the OpenAPI document and the docs page are served, generated from the route schemas', async () => {
    const doc = await api.call('GET', '/api-docs/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    for (const path of ['/auth/login', '/tasks', '/tasks/batch', '/tasks/{id}', '/tasks/{id}/cancel', '/tasks/stats', '/tasks/types', '/workers', '/circuit-breakers/{task_type}/reset', '/health/ready']) {
      expect(Object.keys(doc.body.paths)).toContain(path);
    }
    expect(Object.keys(doc.body.paths).some((p) => p.startsWith('/api/v1'))).toBe(false);
    const create = doc.body.paths['/tasks'].post;
    expect(create.requestBody.content['application/json'].schema.required).toEqual(['task_type', 'payload']);
    expect(create.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.body.paths['/auth/login'].post.security).toEqual([]);
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(['200', '201', '400', '401', '413', '429']));
    const page = await api.call('GET', '/api-docs');
    expect(page.status).toBe(200);
    expect(page.text).toContain('swagger-ui');
  });

  test('responses carry security headers and a request id (the caller\'s when it is a plain token)', async () => {
    const response = await api.call('GET', '/health/live');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const other = await api.call('GET', '/health/live');
    expect(other.headers.get('x-request-id')).not.toBe(response.headers.get('x-request-id'));
    expect((await api.call('GET', '/health/live', { headers: { 'x-request-id': 'trace-abc.123' } })).headers.get('x-request-id')).toBe('trace-abc.123');
    const injected = await api.call('GET', '/health/live', { headers: { 'x-request-id': 'bad id {"x":1}' } });
    expect(injected.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    // The id is on the log lines of that request.
    expect(api.logs.some((line) => line.includes('"reqId":"trace-abc.123"'))).toBe(true);
  });

  test('CORS allows the configured origins only', async () => {
    const preflight = await api.call('OPTIONS', '/tasks', {
      headers: { origin: 'https://dash.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://dash.example.com');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');
    const simple = await api.call('GET', '/health/live', { headers: { origin: 'https://dash.example.com' } });
    expect(simple.headers.get('access-control-allow-origin')).toBe('https://dash.example.com');
    expect(simple.headers.get('access-control-expose-headers')).toContain('x-request-id');
    const foreign = await api.call('GET', '/health/live', { headers: { origin: 'https://evil.example.net' } });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('an unknown route answers 404 in the envelope, with or without the /api/v1 prefix', async () => {
    for (const path of ['/nope', '/api/v1/nope', '/tasks/123/explode']) {
      const response = await api.call('GET', path, { token: user.token });
      expect(response.status).toBe(404);
      expect(response.body).toMatchObject({ success: false, error: { code: 'NOT_FOUND' } });
      expect(response.headers.get('x-request-id')).not.toBeNull();
    }
    const wrongMethod = await api.call('PUT', '/tasks', { token: user.token, body: {} });
    expect(wrongMethod.status).toBe(404);
    expect(wrongMethod.body.success).toBe(false);
  });
});

describe.each(testDatabases)('optional limits [$kind]', ({ create }) => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi(create(), { rateLimit: { globalPerMinute: 5 }, health: { readyRequiresWorker: true } });
  });
  afterAll(async () => api?.close());

  test('readiness can require a live worker: 503 in the envelope until one beats', async () => {
    const notReady = await api.call('GET', '/health/ready');
    expect(notReady.status).toBe(503);
    expect(notReady.body).toMatchObject({ success: false, error: { code: 'SERVICE_UNAVAILABLE', details: { status: 'not_ready' } } });
    const now = api.clock.now();
    await api.engine.workerHeartbeat({ worker: { id: 'w1', host: 'h', pid: 1, concurrency: 1, running: 0, taskTypes: ['email'], startedAt: now }, now });
    expect((await api.call('GET', '/health/ready')).status).toBe(200);
  });

  test('a global per-address limit answers 429 in the envelope with Retry-After', async () => {
    let last = await api.call('GET', '/health/live');
    for (let i = 0; i < 5 && last.status !== 429; i++) last = await api.call('GET', '/health/live');
    expect(last.status).toBe(429);
    expect(last.body).toMatchObject({ success: false, error: { code: 'RATE_LIMITED' } });
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

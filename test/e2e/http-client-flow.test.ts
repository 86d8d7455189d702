import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createConveyorHttpClient, type ConveyorHttpClient, type TaskDetail } from '../../src/client/http/index.ts';
import { testDatabases, type TestDatabase } from '../helpers/databases.ts';
import { freePort } from '../helpers/free-port.ts';
import { spawnTracked } from '../helpers/process-registry.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { CLI_PATH, startWorker, type WorkerProcess } from '../helpers/worker-process.ts';

const PASSWORD = 'Correct-Horse-42';

/**
 * The guide's whole flow through the generated, typed HTTP client (conveyor-tasks/http): register, log in,
 * create, list and page, get, wait, stats, cancel, retry, the dead letter, the live event stream and
 * the error envelope; against a real `conveyor serve` process and a real `conveyor work` process on
 * each engine.
 */
describe.each(testDatabases)('the generated HTTP client against conveyor serve and conveyor work [$kind]', ({ create }) => {
  let db: TestDatabase;
  let dir: string;
  let worker: WorkerProcess;
  let server: ChildProcess;
  let serverOutput = '';
  let baseUrl: string;
  let anonymous: ConveyorHttpClient;
  let client: ConveyorHttpClient;

  /** Polls GET /tasks/{id}, as docs/clients.md shows, until the task is in one of `statuses`. */
  const waitForStatus = (id: string, statuses: TaskDetail['status'][]) =>
    waitFor(
      async () => {
        const { data } = await client.GET('/tasks/{id}', { params: { path: { id } } });
        return data && statuses.includes(data.data.status) ? data.data : undefined;
      },
      { timeoutMs: 30_000, message: () => `task ${id} to be ${statuses.join(' or ')}\n${worker.describe()}` },
    );

  beforeAll(async () => {
    db = create();
    dir = mkdtempSync(join(tmpdir(), 'conveyor-http-client-'));
    const env = { CONVEYOR__DATA__DIR: join(dir, 'data'), CONVEYOR__LOG__LEVEL: 'warn' };
    // The worker migrates the database and registers the built-in task types; the server then starts on it.
    worker = startWorker({
      databaseUrl: db.url,
      entry: 'cli',
      env: { ...env, CONVEYOR__LOG__LEVEL: 'info', CONVEYOR__WORKER__POLL_INTERVAL_MS: '200', CONVEYOR__BREAKER__FAILURE_THRESHOLD: '1000' },
    });
    await worker.started(60_000);
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    server = spawnTracked(process.execPath, [CLI_PATH, 'serve'], {
      // Registration is open here: the flow starts as a stranger registering (a server defaults to invite).
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', CONVEYOR__DATABASE__URL: db.url, CONVEYOR__SERVER__PORT: String(port), CONVEYOR__AUTH__REGISTRATION: 'open', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout!.on('data', (chunk: Buffer) => (serverOutput += chunk.toString()));
    server.stderr!.on('data', (chunk: Buffer) => (serverOutput += chunk.toString()));
    anonymous = createConveyorHttpClient({ baseUrl });
    await waitFor(
      async () => {
        if (server.exitCode !== null) throw new Error(`conveyor serve exited ${server.exitCode}\n${serverOutput}`);
        const live = await anonymous.GET('/health/live').catch(() => undefined);
        return live?.data?.data.status === 'alive';
      },
      { timeoutMs: 60_000, message: () => `conveyor serve to answer\n${serverOutput}` },
    );
  }, 150_000);

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    await worker?.stop();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  test('register and log in: the session token authenticates every later call', async () => {
    const registered = await anonymous.POST('/auth/register', { body: { username: 'ada', email: 'ada@example.com', password: PASSWORD } });
    expect(registered.response.status).toBe(201);
    expect(registered.data?.data).toMatchObject({ username: 'ada', role: 'user', is_active: true });

    const login = await anonymous.POST('/auth/login', { body: { username_or_email: 'ada', password: PASSWORD } });
    expect(login.response.status).toBe(200);
    const session = login.data!.data;
    expect(session.token_type).toBe('Bearer');
    client = createConveyorHttpClient({ baseUrl, token: session.session_token });

    const me = await client.GET('/auth/me');
    expect(me.data?.data.username).toBe('ada');
    // The token may also be asked for on every request.
    const asked = createConveyorHttpClient({ baseUrl: `${baseUrl}/`, token: () => session.session_token });
    expect((await asked.GET('/auth/me')).data?.data.id).toBe(me.data?.data.id);
    // Without the token: 401 in the error envelope, typed as such.
    const refused = await anonymous.GET('/auth/me');
    expect(refused.response.status).toBe(401);
    expect(refused.data).toBeUndefined();
    expect(refused.error).toMatchObject({ success: false, error: { code: 'UNAUTHORIZED' } });
  });

  test('create a task, follow it to completion, list and page, read the stats', async () => {
    const created = await client.POST('/tasks', { body: { task_type: 'delay_task', payload: { delay_ms: 0 }, priority: 'high', metadata: { source: 'http-client' } } });
    expect(created.response.status).toBe(201);
    const task = created.data!.data;
    expect(task).toMatchObject({ task_type: 'delay_task', priority: 'high', metadata: { source: 'http-client' } });

    const done = await waitForStatus(task.id, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    expect(done.output).toMatchObject({ attempt: 1 });
    expect(done.attempts.map((a) => a.outcome)).toEqual(['completed']);

    // An idempotent repeat answers 200 with the first task.
    const keyed = { body: { task_type: 'delay_task', payload: { delay_ms: 0 } }, headers: { 'idempotency-key': 'order-42' } };
    const first = await client.POST('/tasks', keyed);
    const again = await client.POST('/tasks', keyed);
    expect([first.response.status, again.response.status]).toEqual([201, 200]);
    expect(again.data!.data.id).toBe(first.data!.data.id);

    // Pages of one, newest first, following next_cursor to the end.
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page += 1) {
      const { data } = await client.GET('/tasks', { params: { query: { task_type: 'delay_task', limit: 1, ...(cursor ? { cursor } : {}) } } });
      expect(data!.data.length).toBeLessThanOrEqual(1);
      seen.push(...data!.data.map((t) => t.id));
      expect(data!.pagination.total).toBe(2);
      if (!data!.pagination.next_cursor) break;
      cursor = data!.pagination.next_cursor;
    }
    expect(seen).toEqual([first.data!.data.id, task.id]);

    const stats = await client.GET('/tasks/stats');
    expect(stats.data?.data).toMatchObject({ scope: 'own', total: 2 });
    expect(stats.data!.data.completed).toBeGreaterThanOrEqual(1);
  });

  test('cancel a waiting task, then retry it: it runs and completes', async () => {
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const created = await client.POST('/tasks', { body: { task_type: 'delay_task', payload: { delay_ms: 0 }, scheduled_at: later } });
    const id = created.data!.data.id;
    expect(created.data!.data.status).toBe('scheduled');

    const cancelled = await client.POST('/tasks/{id}/cancel', { params: { path: { id } } });
    expect(cancelled.response.status).toBe(200);
    expect(cancelled.data?.data.status).toBe('cancelled');
    // A second cancel is refused: 409 with the task's status in the envelope.
    const twice = await client.POST('/tasks/{id}/cancel', { params: { path: { id } } });
    expect(twice.response.status).toBe(409);
    expect(twice.error).toMatchObject({ error: { code: 'INVALID_STATE', details: { status: 'cancelled' } } });

    const retried = await client.POST('/tasks/{id}/retry', { params: { path: { id } } });
    expect(retried.data?.data.status).toBe('pending');
    expect((await waitForStatus(id, ['completed', 'failed'])).status).toBe('completed');
  });

  test('a task that fails permanently lands in the dead letter; retrying gives it another attempt', async () => {
    const created = await client.POST('/tasks', { body: { task_type: 'delay_task', payload: { delay_ms: 0, fail_attempts: 5 }, max_attempts: 1 } });
    const id = created.data!.data.id;
    const failed = await waitForStatus(id, ['failed']);
    expect(failed.last_error).toContain('failing attempt 1');

    const deadLetter = await client.GET('/tasks/dead-letter', { params: { query: { limit: 10 } } });
    expect(deadLetter.data?.data.map((t) => t.id)).toEqual([id]);
    expect(deadLetter.data?.pagination.total).toBe(1);

    await client.POST('/tasks/{id}/retry', { params: { path: { id } } });
    const again = await waitFor(
      async () => {
        const { data } = await client.GET('/tasks/{id}', { params: { path: { id } } });
        return data && data.data.status === 'failed' && data.data.current_attempt === 2 ? data.data : undefined;
      },
      { timeoutMs: 30_000, message: () => `task ${id} to fail its second attempt\n${worker.describe()}` },
    );
    expect(again.attempts.map((a) => a.attempt)).toEqual([1, 2]);
  });

  test('errors come in the envelope: a bad payload names the field, an unknown task is 404', async () => {
    const bad = await client.POST('/tasks', { body: { task_type: 'delay_task', payload: { delay_ms: -1 } } });
    expect(bad.response.status).toBe(400);
    expect(bad.error?.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'payload.delay_ms' });

    const missing = await client.GET('/tasks/{id}', { params: { path: { id: '0f8fad5b-d9cb-469f-a165-70867728950e' } } });
    expect(missing.response.status).toBe(404);
    expect(missing.error?.error.code).toBe('NOT_FOUND');
  });

  test('the live event stream greets the signed-in user, read as a stream', async () => {
    const abort = new AbortController();
    const { response } = await client.GET('/events', { parseAs: 'stream', signal: abort.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('event: hello')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    abort.abort();
    expect(text).toMatch(/event: hello\ndata: \{[^\n]*"role":"user"/);
  });

  test('log out: the token stops working', async () => {
    expect((await client.POST('/auth/logout')).response.status).toBe(200);
    expect((await client.GET('/tasks/stats')).response.status).toBe(401);
  });
});

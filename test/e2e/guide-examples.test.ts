import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.ts';
import { spawnTracked } from '../helpers/process-registry.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { CLI_PATH } from '../helpers/worker-process.ts';

/** The guide's "Built-in Task Types" payloads, exactly as it prints them. */
const GUIDE_EXAMPLES = {
  email: { to: 'user@example.com', subject: 'Welcome!', body: 'Thanks for signing up' },
  data_processing: { operation: 'sum', data: [1, 2, 3, 4, 5] },
  webhook: { url: 'https://api.example.com/notify', method: 'POST', payload: { event: 'user_created' } },
  file_cleanup: { file_path: '/tmp/uploads', max_age_hours: 24 },
  report_generation: { report_type: 'sales', start_date: '2024-01-01', end_date: '2024-01-31' },
};

describe('the guide built-in task examples, through `conveyor start`', () => {
  let dir: string;
  let start: ChildProcess;
  let base: string;
  let token: string;
  let output = '';
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  const finished = (id: string) =>
    waitFor(
      async () => {
        const { body } = await call('GET', `/tasks/${id}`);
        return ['completed', 'failed', 'cancelled'].includes(body.data.status) ? body.data : undefined;
      },
      { timeoutMs: 45_000, message: `task ${id} to finish` },
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'conveyor-guide-'));
    mkdirSync('/tmp/uploads', { recursive: true });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    start = spawnTracked(process.execPath, [CLI_PATH, 'start'], {
      env: {
        PATH: process.env.PATH,
        CONVEYOR__DATABASE__URL: `sqlite:${join(dir, 'conveyor.db')}`,
        CONVEYOR__DATA__DIR: join(dir, 'data'),
        CONVEYOR__SERVER__PORT: String(port),
        CONVEYOR__FILE_CLEANUP__ROOTS: `/tmp/uploads,${join(dir, 'uploads')}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    start.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    start.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(() => output.includes('Ctrl-C stops everything'), { timeoutMs: 60_000, message: () => `the start banner\n${output}` });
    const register = await fetch(`${base}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'guide', email: 'guide@example.com', password: 'Test-Pass-2026' }),
    });
    expect(register.status).toBe(201);
    const login = await fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username_or_email: 'guide', password: 'Test-Pass-2026' }),
    });
    token = ((await login.json()) as any).data.session_token;
  }, 90_000);

  afterAll(async () => {
    if (start && start.exitCode === null) {
      const exited = new Promise((resolve) => start.once('exit', resolve));
      start.kill('SIGINT');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts every example as written (201) and runs each to the outcome the issue names', async () => {
    const ids: Record<string, string> = {};
    for (const [taskType, payload] of Object.entries(GUIDE_EXAMPLES)) {
      const created = await call('POST', '/tasks', { task_type: taskType, payload });
      expect(created.status, `${taskType}: ${JSON.stringify(created.body)}`).toBe(201);
      ids[taskType] = created.body.data.id;
    }

    const email = await finished(ids.email!);
    expect(email).toMatchObject({ status: 'completed' });
    expect(readFileSync(email.output.path, 'utf8')).toMatch(/^Subject: Welcome!/m);

    expect(await finished(ids.data_processing!)).toMatchObject({ status: 'completed', output: expect.objectContaining({ result: 15 }) });
    expect(await finished(ids.file_cleanup!)).toMatchObject({ status: 'completed' });

    const report = await finished(ids.report_generation!);
    expect(report).toMatchObject({ status: 'completed', output: expect.objectContaining({ rows: 31, format: 'csv' }) });

    // api.example.com cannot be reached from here: retried by the default strategy, then the dead letter.
    const webhook = await finished(ids.webhook!);
    expect(webhook).toMatchObject({ status: 'failed', current_attempt: 3 });
    expect(webhook.attempts.map((a: { outcome: string }) => a.outcome)).toEqual(['failed', 'failed', 'failed']);
    expect(webhook.last_error).toMatch(/api\.example\.com|ENOTFOUND|EAI_AGAIN|getaddrinfo/);
  }, 90_000);

  it('fails a file_cleanup outside the configured roots permanently, naming the roots', async () => {
    const created = await call('POST', '/tasks', { task_type: 'file_cleanup', payload: { file_path: '/etc', max_age_hours: 24 } });
    expect(created.status).toBe(201);
    const task = await finished(created.body.data.id);
    expect(task).toMatchObject({ status: 'failed', current_attempt: 1 });
    expect(task.last_error).toContain('/tmp/uploads');
  }, 60_000);
});

import { spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createEngine } from '../helpers/create-engine.ts';
import { testDatabases, type TestDatabase } from '../helpers/databases.ts';
import { spawnTracked } from '../helpers/process-registry.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { CLI_PATH } from '../helpers/worker-process.ts';
import { EMAIL_SCHEMA } from './api-harness.ts';

/** `conveyor serve` and `conveyor users` as real processes, configured through the environment. */
describe.each(testDatabases)('conveyor serve and users [$kind]', ({ create }) => {
  let db: TestDatabase;
  let env: Record<string, string | undefined>;
  beforeAll(async () => {
    db = create();
    // A worker would register its types; do it by hand so the API knows `email`.
    const engine = createEngine(db.url);
    await engine.migrate();
    await engine.typeRegister({ type: { name: 'email', description: 'email', payloadSchema: EMAIL_SCHEMA, examples: [], timeoutMs: 1000 }, now: new Date() });
    await engine.close();
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      CONVEYOR__DATABASE__URL: db.url,
      CONVEYOR__SERVER__PORT: '0',
      CONVEYOR__LOG__LEVEL: 'info',
      STARTER__INITIAL_ADMIN_PASSWORD: 'First-Admin-Pass-1',
      // The guide's manual test registers "password123"; a relaxed policy is a setting away (for serve and start alike).
      // A server takes invitations only by default; this one is open, as the guide's session registers.
      CONVEYOR__AUTH__REGISTRATION: 'open',
      CONVEYOR__AUTH__PASSWORD_MIN_CLASSES: '2',
      CONVEYOR__AUTH__PASSWORD_REJECT_COMMON: 'false',
    };
  });
  afterAll(async () => db?.drop());

  test('users create --admin makes an admin; bad input exits non-zero with the reason', () => {
    const made = spawnSync(process.execPath, [CLI_PATH, 'users', 'create', '-u', 'boss', '-e', 'boss@example.com', '--admin', '--password-stdin'], {
      env, input: 'Boss-Password-42\n', encoding: 'utf8',
    });
    expect(made.stderr).toBe('');
    expect(made.status).toBe(0);
    expect(made.stdout).toMatch(/^Created admin boss <boss@example.com>/);
    const bad = spawnSync(process.execPath, [CLI_PATH, 'users', 'create', '-u', 'x', '-e', 'x@example.com', '--password', 'Boss-Password-42'], { env, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('username');
  });

  test('serve answers the guide\'s manual test and monitoring calls, then stops on SIGTERM', async () => {
    const child = spawnTracked(process.execPath, [CLI_PATH, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let stderr = '';
    createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const listening = await waitFor(() => lines.map((l) => /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(l)?.[1]).find(Boolean), {
        timeoutMs: 30_000,
        message: () => `the server to listen\n${lines.join('\n')}\n${stderr}`,
      });
      const base = listening!;
      const post = (path: string, body: unknown, token?: string) =>
        fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
      const get = (path: string, token: string) => fetch(base + path, { headers: { authorization: `Bearer ${token}` } });
      const json = async (response: Response | Promise<Response>): Promise<any> => (await response).json();

      expect((await post('/auth/register', { username: 'test', email: 'test@example.com', password: 'password123' })).status).toBe(201);
      const login = await json(post('/auth/login', { username_or_email: 'test', password: 'password123' }));
      const token: string = login.data.session_token;
      const created = await post('/tasks', { task_type: 'email', payload: { to: 'test@example.com', subject: 'Test', body: 'Hello' } }, token);
      expect(created.status).toBe(201);
      const task = (await json(created)).data;
      expect((await json(get('/tasks/stats', token))).data).toMatchObject({ total: 1, pending: 1 });
      expect((await json(get('/tasks?limit=10', token))).data).toHaveLength(1);
      expect((await json(get(`/tasks/${task.id}`, token))).data.payload.subject).toBe('Test');

      const boss = await json(post('/api/v1/auth/login', { username: 'boss', password: 'Boss-Password-42' }));
      expect(boss.data.user.role).toBe('admin');
      // The configured first admin is made only when no admin exists; `boss` already was one.
      expect((await post('/auth/login', { username: 'admin', password: 'First-Admin-Pass-1' })).status).toBe(401);
      expect((await fetch(`${base}/health`)).status).toBe(200);

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const logs = lines.join('\n');
      expect(logs).toContain('shutting down the API server');
      for (const secret of ['password123', 'First-Admin-Pass-1', 'Boss-Password-42', token]) expect(logs).not.toContain(secret);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

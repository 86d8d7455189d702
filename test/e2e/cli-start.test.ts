import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:net';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.ts';
import { spawnTracked } from '../helpers/process-registry.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { CLI_PATH, isAlive } from '../helpers/worker-process.ts';
import { Supervisor } from '../../src/cli/supervisor.ts';
import { runCli } from './cli-helpers.ts';

/**
 * `conveyor start` (what `npm start` runs) as a newcomer meets it: the banner, the guide's "Manual
 * Testing" curl session done with fetch, a worker process killed and brought back by the supervisor,
 * and Ctrl-C stopping everything.
 */
let child: ChildProcess | undefined;
const dir = mkdtempSync(join(tmpdir(), 'conveyor-start-'));

afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('conveyor start', () => {
  it('serves the guide\'s manual test, restarts a killed worker, and stops everything on Ctrl-C', async () => {
    const port = await freePort();
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      CONVEYOR__DATA__DIR: join(dir, 'data'),
      CONVEYOR__DATABASE__URL: `sqlite:${join(dir, 'data', 'conveyor.db')}`,
      CONVEYOR__SERVER__PORT: String(port),
    };
    child = spawnTracked(process.execPath, [CLI_PATH, 'start'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: string[] = [];
    let stderr = '';
    createInterface({ input: child.stdout! }).on('line', (line) => out.push(line));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    const transcript = () => `${out.join('\n')}\n--- stderr ---\n${stderr}`;
    const line = (pattern: RegExp, from = 0) =>
      waitFor(() => out.slice(from).map((l) => pattern.exec(l)).find(Boolean) ?? undefined, { timeoutMs: 30_000, message: () => `${pattern}\n${transcript()}` });

    // The banner: where the API is, how to log in.
    const base = `http://127.0.0.1:${port}`;
    await line(new RegExp(`^  API\\s+${base.replaceAll('.', '\\.')}$`));
    expect(out.join('\n')).toMatch(/Log in as admin with password \S+ \(shown once/);
    expect(out.join('\n')).toContain('npx conveyor users create --admin --username <name> --email <address>');
    const pidOf = async (name: string, from = 0) => Number((await line(new RegExp(`^  started ${name} \\(pid (\\d+)\\)$`), from))[1]);
    const serverPid = await pidOf('server');
    const workerPid = await pidOf('worker-1');
    const otherWorkerPid = await pidOf('worker-2');

    // The guide's "Manual Testing", verbatim paths and bodies.
    const post = (path: string, body: unknown, token?: string) =>
      fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
    // One password policy for every way of starting (issue 15: `npm start` took "password123" while `serve` refused it).
    const weak = await post('/auth/register', { username: 'test', email: 'test@example.com', password: 'password123' });
    expect(weak.status).toBe(400);
    expect(((await weak.json()) as { error: { field: string } }).error.field).toBe('password');
    expect(out.join('\n')).toMatch(/^  Registration\s+open \(this machine only/m);
    const registered = await post('/auth/register', { username: 'test', email: 'test@example.com', password: 'Test-Pass-2026' });
    expect(registered.status, await registered.clone().text()).toBeLessThan(300);
    const login = (await (await post('/auth/login', { username_or_email: 'test', password: 'Test-Pass-2026' })).json()) as { data: { session_token: string } };
    const token = login.data.session_token;
    const created = (await (await post('/tasks', { task_type: 'email', payload: { to: 'test@example.com', subject: 'Test', body: 'Hello' } }, token)).json()) as {
      success: boolean;
      data: { id: string; status: string };
    };
    expect(created).toMatchObject({ success: true, data: { status: 'pending' } });
    const get = async (path: string) => ((await (await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { data: Record<string, unknown> }).data;
    await waitFor(async () => (await get(`/tasks/${created.data.id}`)).status === 'completed', { timeoutMs: 20_000, message: () => `the email task to complete\n${transcript()}` });
    expect((await get('/tasks/stats')).completed).toBe(1);
    // No SMTP server configured: the message is in the outbox.
    expect(readdirSync(join(dir, 'data', 'outbox')).filter((f) => f.endsWith('.eml'))).toHaveLength(1);

    // A worker killed outright is restarted by the supervisor, which says so.
    const mark = out.length;
    process.kill(workerPid, 'SIGKILL');
    await line(/^  worker-1 exited \(SIGKILL\); restarting in 1 s — see .*worker-1\.log$/, mark);
    const restartedPid = await pidOf('worker-1', mark);
    expect(restartedPid).not.toBe(workerPid);
    expect(isAlive(restartedPid)).toBe(true);

    // Ctrl-C: everything stops gracefully, exit 0, no child left behind.
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out.join('\n')).toContain('Stopped.');
    for (const pid of [serverPid, restartedPid, otherWorkerPid]) expect(isAlive(pid), `pid ${pid} still runs`).toBe(false);
  });
});

/** A port some other program holds, as when a second `npm start` meets the first. */
async function occupiedPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  return { port: (server.address() as { port: number }).port, server };
}

describe('conveyor start that cannot run as configured', () => {
  const env = (extra: Record<string, string>) => ({
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    CONVEYOR__DATA__DIR: join(dir, 'data-bad'),
    CONVEYOR__DATABASE__URL: `sqlite:${join(dir, 'data-bad', 'conveyor.db')}`,
    ...extra,
  });

  it('says the port is in use and which setting changes it, starts nothing and exits 6', async () => {
    const { port, server } = await occupiedPort();
    try {
      const result = await runCli(['start'], { env: env({ CONVEYOR__SERVER__PORT: String(port) }), cwd: dir });
      expect(result.code).toBe(6);
      expect(result.stderr).toBe(`conveyor: port ${port} is in use (set CONVEYOR__SERVER__PORT or --port)\n`);
      expect(result.stdout).not.toContain('started');
      const flag = await runCli(['start', '--port', String(port)], { env: env({}), cwd: dir });
      expect(flag.code).toBe(6);
      expect(flag.stderr).toContain(`port ${port} is in use`);
    } finally {
      server.close();
    }
  });

  it('does not restart a process that exits for a configuration reason: it stops everything and says why', async () => {
    const result = await runCli(['start', '--workers', '1'], { env: env({ CONVEYOR__SERVER__PORT: String(await freePort()), CONVEYOR__TASKS__MODULES: './no-such-tasks.ts' }), cwd: dir });
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/^conveyor: (server|worker-1) cannot run: configuration error: tasks\.modules: could not load \S*no-such-tasks\.ts.*; not restarting it \(see \S+\.log\)$/m);
    expect(result.stdout).not.toContain('restarting in');
    expect(result.stdout).toContain('Stopped.');
  });

  it('the supervisor gives up on a server whose port was taken after start looked, with the server\'s own reason', async () => {
    const { port, server } = await occupiedPort();
    const events: string[] = [];
    let gaveUp: (value: { code: number; reason: string | null }) => void = () => {};
    const given = new Promise<{ code: number; reason: string | null }>((resolve) => (gaveUp = resolve));
    const supervisor = new Supervisor(
      CLI_PATH,
      {
        started: (name) => events.push(`started ${name}`),
        exited: (name, code, _signal, restartInMs) => events.push(`exited ${name} ${code} ${restartInMs}`),
        gaveUp: (_name, code, reason) => gaveUp({ code, reason }),
      },
      { fatalExitCodes: [2, 6] },
    );
    try {
      supervisor.add({ name: 'server', args: ['serve'], env: env({ CONVEYOR__SERVER__PORT: String(port) }), logFile: join(dir, 'data-bad', 'logs', 'server.log') });
      expect(await given).toEqual({ code: 6, reason: `port ${port} is in use (set CONVEYOR__SERVER__PORT or --port)` });
      expect(events).toEqual(['started server']);
    } finally {
      await supervisor.stop(5000);
      server.close();
    }
  });
});

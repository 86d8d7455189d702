import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/store/engine.ts';
import { freePort } from '../helpers/free-port.ts';
import { postgresTestDatabase } from '../helpers/databases.ts';
import { openTestEngine } from '../helpers/task-fixtures.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { CLI_PATH, isAlive } from '../helpers/worker-process.ts';
import { runCli, runProcess, type CliResult } from './cli-helpers.ts';
import { LATEST_MIGRATION } from '../helpers/known-migrations.ts';

/**
 * The guide's "Development Workflow" and "Troubleshooting" as a user types them: dev.sh, server.sh
 * 3000, worker.sh, status.sh, stop-worker.sh (and worker.sh again), against a temporary SQLite
 * database, with the logs and pid files in temporary folders.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let dir: string;
let env: Record<string, string>;
let port: number;
let engine: Engine | undefined;

function script(name: string, args: string[] = [], extra: Record<string, string> = {}): Promise<CliResult> {
  return runProcess(join(ROOT, 'scripts', name), args, { env: { ...env, ...extra }, cwd: ROOT });
}

const log = (name: string) => join(dir, 'log', name);
const pidIn = (name: string) => Number(readFileSync(join(dir, 'run', name), 'utf8').trim());

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'conveyor-scripts-'));
  port = await freePort();
  env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    CONVEYOR__DATABASE__URL: `sqlite:${join(dir, 'conveyor.db')}`,
    CONVEYOR__DATA__DIR: join(dir, 'data'),
    CONVEYOR_LOG_DIR: join(dir, 'log'),
    CONVEYOR_RUN_DIR: join(dir, 'run'),
    // The scripts run the CLI from src/, the code under test (their default is the built bin/conveyor.js).
    CONVEYOR_CLI: CLI_PATH,
  };
});

afterAll(async () => {
  await engine?.close();
  // Whatever a failed assertion left running.
  for (const name of ['starter-worker.pid', `starter-server-${port}.pid`]) {
    if (existsSync(join(dir, 'run', name))) {
      const pid = pidIn(name);
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('the guide\'s scripts', () => {
  it('dev.sh prepares the database; server.sh and worker.sh start in the background with the guide\'s log files', async () => {
    const dev = await script('dev.sh');
    expect(dev.stderr).toBe('');
    expect(dev.code).toBe(0);
    expect(dev.stdout).toContain('Applied migration 0001_init');
    expect(dev.stdout).toContain(`./scripts/worker.sh        # a worker       (log ${log('starter-worker.log')})`);
    expect((await script('dev.sh')).stdout).toContain(`is up to date (schema version ${LATEST_MIGRATION})`);

    const server = await script('server.sh', [String(port)]);
    expect(server.code).toBe(0);
    const serverPid = pidIn(`starter-server-${port}.pid`);
    expect(server.stdout).toContain(`Server started: http://127.0.0.1:${port} (pid ${serverPid})`);
    expect(readFileSync(log(`starter-server-${port}.log`), 'utf8')).toContain(`Server listening at http://127.0.0.1:${port}`);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);

    // The guide's knob: STARTER__WORKER__CONCURRENCY=8 ./scripts/worker.sh
    const worker = await script('worker.sh', [], { STARTER__WORKER__CONCURRENCY: '3' });
    expect(worker.code).toBe(0);
    const workerPid = pidIn('starter-worker.pid');
    expect(worker.stdout).toContain(`Worker started (pid ${workerPid}, concurrency 3)`);
    expect(readFileSync(log('starter-worker.log'), 'utf8')).toMatch(/"msg":"worker started"/);
    expect((await script('worker.sh')).stdout).toContain(`A worker runs already (pid ${workerPid})`);

    // The worker runs what is enqueued.
    const enqueued = await runCli(['enqueue', 'delay_task', '--payload', '{"delay_ms":1}', '--json'], { env });
    const id = JSON.parse(enqueued.stdout).task.id as string;
    engine = await openTestEngine({ kind: 'sqlite', url: env.CONVEYOR__DATABASE__URL!, drop: async () => {} });
    await waitFor(async () => (await engine!.taskGet({ id }))?.status === 'completed', { timeoutMs: 15_000, message: 'the task to complete' });
  });

  it('status.sh shows what runs, the API\'s health, the workers and the queue', async () => {
    const status = await script('status.sh');
    expect(status.code).toBe(0);
    const serverPid = pidIn(`starter-server-${port}.pid`);
    const workerPid = pidIn('starter-worker.pid');
    expect(status.stdout).toContain(`port ${port}: running (pid ${serverPid}), http://127.0.0.1:${port}, healthy (sqlite); log ${log(`starter-server-${port}.log`)}`);
    expect(status.stdout).toContain(`Worker:\n  running (pid ${workerPid}); log ${log('starter-worker.log')}`);
    expect(status.stdout).toMatch(new RegExp(`:${workerPid}:\\S+\\s+live\\s`));
    expect(status.stdout).toMatch(/all types\s+0\s+0\s+0\s+0\s+1\s+0\s+0\s+1/);
    expect(status.stdout).toContain('All running.');
  });

  it('stop-worker.sh stops the worker gracefully; status.sh says so; worker.sh starts it again', async () => {
    const workerPid = pidIn('starter-worker.pid');
    const stopped = await script('stop-worker.sh');
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toContain(`Stopping the worker (pid ${workerPid})`);
    expect(stopped.stdout).toContain('Worker stopped.');
    expect(isAlive(workerPid)).toBe(false);
    const workerLog = readFileSync(log('starter-worker.log'), 'utf8');
    expect(workerLog).toContain('"signal":"SIGTERM"');
    expect(workerLog).toMatch(/"msg":"worker stopped"/);
    expect(existsSync(join(dir, 'run', 'starter-worker.pid'))).toBe(false);

    const status = await script('status.sh');
    expect(status.code).toBe(1);
    expect(status.stdout).toContain('NOT running: tasks stay pending. Start it with ./scripts/worker.sh');
    expect(status.stdout).toContain('npx conveyor doctor');
    expect((await script('stop-worker.sh')).stdout).toContain('No worker is running');

    const again = await script('worker.sh');
    expect(again.code).toBe(0);
    const restarted = pidIn('starter-worker.pid');
    expect(restarted).not.toBe(workerPid);
    // The log is appended to, not replaced: both runs are in it.
    expect(readFileSync(log('starter-worker.log'), 'utf8').match(/"msg":"worker started"/g)).toHaveLength(2);
    expect((await script('stop-worker.sh')).code).toBe(0);

    const serverPid = pidIn(`starter-server-${port}.pid`);
    const serverStop = await script('stop-server.sh', [String(port)]);
    expect(serverStop.code).toBe(0);
    expect(isAlive(serverPid)).toBe(false);
  });

  it('dev.sh prepares the PostgreSQL of the configuration, and says what to check when it cannot', async () => {
    const pg = postgresTestDatabase();
    try {
      const dev = await script('dev.sh', [], { CONVEYOR__DATABASE__URL: pg.url });
      expect(dev.code).toBe(0);
      expect(dev.stdout).toContain('Applied migration 0001_init');
      expect(dev.stdout).toMatch(new RegExp(`Database postgres postgres://\\S+ is now at schema version ${LATEST_MIGRATION}\\.`));
    } finally {
      await pg.drop();
    }
    const down = await script('dev.sh', [], { CONVEYOR__DATABASE__URL: 'postgres://nobody@127.0.0.1:1/none' });
    expect(down.code).toBe(1);
    expect(down.stdout).toContain('The database could not be prepared');
    expect(down.stdout).toContain('make sure the server runs');
  });

  it('server.sh refuses a bad port, and reports a server that cannot start with its log', async () => {
    const bad = await script('server.sh', ['http']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('usage:');
    const broken = await script('server.sh', [String(port)], { CONVEYOR__SERVER__HOST: 'no-such-host.invalid' });
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('The server exited during start');
    expect(broken.stdout).toContain(`--- last lines of ${log(`starter-server-${port}.log`)} ---`);
  });
});

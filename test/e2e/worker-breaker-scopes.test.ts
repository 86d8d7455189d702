import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/store/engine.ts';
import { testDatabases, type TestDatabase } from '../helpers/databases.ts';
import { freePort } from '../helpers/free-port.ts';
import { IMMEDIATE_RETRY, insertTasks, listAllTasks, openTestEngine } from '../helpers/task-fixtures.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startWorker, type WorkerProcess } from '../helpers/worker-process.ts';

/** Long enough that the breaker stays open for the whole test: the healthy webhook must not wait for it. */
const OPEN_MS = 10 * 60_000;

/** A real local HTTP endpoint that answers 200 and remembers the paths it was sent. */
async function healthyEndpoint(): Promise<{ server: Server; port: number; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      hits.push(request.url!);
      response.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, hits };
}

describe.each(testDatabases)('webhook breakers per destination host on $kind', ({ create }) => {
  let db: TestDatabase;
  let engine: Engine;
  let worker: WorkerProcess | null = null;
  let endpoint: Awaited<ReturnType<typeof healthyEndpoint>> | null = null;
  let dir: string | null = null;

  afterEach(async () => {
    await worker?.kill();
    worker = null;
    await new Promise((resolve) => (endpoint ? endpoint.server.close(resolve) : resolve(undefined)));
    endpoint = null;
    await engine?.close();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = null;
  });

  it("one user's unreachable host opens only that host's breaker: another user's webhook to a working endpoint is delivered at once", async () => {
    db = create();
    engine = await openTestEngine(db);
    endpoint = await healthyEndpoint();
    // Nothing listens there: every request is refused at once.
    const downPort = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'conveyor-breaker-scopes-'));
    // `conveyor work` itself, with the builtin webhook. The SSRF guard refuses private addresses unless
    // allowlisted; the test's hosts are local.
    worker = startWorker({
      entry: 'cli',
      databaseUrl: db.url,
      env: {
        CONVEYOR__DATA__DIR: join(dir, 'data'),
        CONVEYOR__WORKER__CONCURRENCY: '1',
        CONVEYOR__BREAKER__OPEN_MS: String(OPEN_MS),
        CONVEYOR__WORKER__POLL_INTERVAL_MS: '200',
        CONVEYOR__WEBHOOK__ALLOW_HOSTS: '127.0.0.1',
        CONVEYOR__WEBHOOK__TIMEOUT_MS: '5000',
      },
    });
    await worker.started();

    const webhook = (port: number, path: string) => ({
      taskType: 'webhook',
      payload: { url: `http://127.0.0.1:${port}${path}`, method: 'POST' as const, payload: { path } },
      retryStrategy: { ...IMMEDIATE_RETRY, max_attempts: 10 },
    });
    await insertTasks(engine, Array.from({ length: 6 }, (_, n) => webhook(downPort, `/down/${n}`)));
    const downScope = `127.0.0.1:${downPort}`;
    const opened = await waitFor(async () => {
      const breaker = await engine.breakerGet({ taskType: 'webhook', scope: downScope });
      return breaker?.state === 'open' ? breaker : undefined;
    }, { message: () => `the breaker of ${downScope} to open\n${worker!.describe()}` });
    expect(opened.consecutiveFailures).toBe(5);

    // Another user's webhook to a healthy endpoint: delivered while the down host's breaker is open.
    const [healthy] = await insertTasks(engine, [webhook(endpoint.port, '/healthy')]);
    const delivered = await waitFor(async () => {
      const task = await engine.taskGet({ id: healthy!.id });
      return task?.status === 'completed' ? task : undefined;
    }, { message: () => `the healthy webhook to be delivered\n${worker!.describe()}` });
    expect(endpoint.hits).toEqual(['/healthy']);
    expect(delivered.completedAt!.getTime()).toBeLessThan(opened.reopensAt!.getTime());
    expect((await engine.breakerGet({ taskType: 'webhook', scope: downScope }))!.state).toBe('open');
    // The type's own breaker never saw these failures; the healthy host's breaker is closed or absent.
    expect(await engine.breakerGet({ taskType: 'webhook' })).toBeNull();
    expect((await engine.breakerGet({ taskType: 'webhook', scope: `127.0.0.1:${endpoint.port}` }))?.state ?? 'closed').toBe('closed');

    // The down host's tasks wait unspent: exactly the five failures, none running, none dead.
    const waiting = (await listAllTasks(engine, { taskType: ['webhook'] })).filter((task) => task.id !== healthy!.id);
    expect(waiting.reduce((sum, task) => sum + task.currentAttempt, 0)).toBe(5);
    expect(waiting.every((task) => task.status === 'pending' || task.status === 'retrying')).toBe(true);
    await worker.waitForLog((line) => line.breaker_scope === downScope && line.breaker_to === 'open', 10_000, "the host breaker's opening in the log");
    expect(await worker.stop()).toBe(0);
  });
});

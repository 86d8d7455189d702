import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { TaskStatus } from '../../src/core/task.ts';
import { createEngine } from '../helpers/create-engine.ts';
import type { Engine } from '../../src/store/engine.ts';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.ts';
import { IMMEDIATE_RETRY, insertTasks } from '../helpers/task-fixtures.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startWorker, type WorkerProcess } from '../helpers/worker-process.ts';

/**
 * PostgreSQL only. Every connection the workers hold is terminated by the server (57P01 "terminating
 * connection due to administrator command", what a restart sends) again and again while tasks run,
 * then the server itself restarts: idle pooled connections, connections in use, the LISTEN
 * connection all die at unpredictable moments. No worker may exit, and every task must finish.
 * A private server, so that terminating connections disturbs no other test.
 */
describe('PostgreSQL connections killed under running workers', () => {
  let server: PrivatePostgres;
  let engine: Engine;
  let admin: pg.Client | null = null;
  let workers: WorkerProcess[] = [];

  beforeAll(async () => {
    server = await startPrivatePostgres();
  });

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.kill()));
    await admin?.end().catch(() => {});
    await engine?.close();
    await server?.destroy();
  });

  const counts = async (): Promise<Record<TaskStatus, number> | undefined> => {
    try {
      return (await engine.taskStats({ now: new Date() })).byStatus;
    } catch {
      return undefined;
    }
  };

  /** Terminates every backend of the workers (their pools, their LISTEN connections); how many. */
  const terminateWorkerConnections = async (): Promise<number> => {
    if (!admin) {
      admin = new pg.Client({ connectionString: server.url('conveyor') });
      admin.on('error', () => {});
      await admin.connect();
    }
    const result = await admin.query<{ terminated: boolean }>(
      `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity WHERE application_name LIKE 'conveyor-worker%' OR (application_name = 'conveyor' AND pid <> pg_backend_pid())`,
    );
    return result.rowCount ?? 0;
  };

  it('no worker exits; every task completes', async () => {
    const url = server.url('conveyor', 'kill_test');
    engine = createEngine(url);
    await engine.migrate();
    const env = { CONVEYOR__WORKER__LEASE_MS: '10000', CONVEYOR__WORKER__POLL_INTERVAL_MS: '100', CONVEYOR__WORKER__CONCURRENCY: '8' };
    workers = [startWorker({ databaseUrl: url, env }), startWorker({ databaseUrl: url, env })];
    await Promise.all(workers.map((worker) => worker.started()));

    const total = 300;
    await insertTasks(engine, Array.from({ length: total }, () => ({ taskType: 'delay_task', payload: { delay_ms: 30 }, retryStrategy: { ...IMMEDIATE_RETRY, max_attempts: 20 } })));

    let terminated = 0;
    for (let round = 0; round < 8; round++) {
      const before = (await counts())?.completed ?? 0;
      terminated += await terminateWorkerConnections();
      // Work goes on between kills: the next round kills connections the workers opened again.
      await waitFor(async () => ((await counts())?.completed ?? 0) > before || before === total, { timeoutMs: 30_000, message: `tasks complete after kill ${round + 1}` });
      for (const worker of workers) expect(worker.running, worker.describe()).toBe(true);
    }
    await admin?.end();
    admin = null;
    await server.stop();
    await server.start();

    await waitFor(async () => (await counts())?.completed === total, {
      timeoutMs: 90_000,
      intervalMs: 200,
      message: () => `every task completed\n${workers.map((w) => w.describe()).join('\n')}`,
    });
    console.log(`${terminated} worker connections terminated over 8 rounds, then a server restart`);
    for (const worker of workers) {
      expect(worker.lines.filter((line) => /uncaught|unhandled/.test(line.msg ?? ''))).toEqual([]);
      expect(worker.running, worker.describe()).toBe(true);
      expect(await worker.stop()).toBe(0);
    }
  });
});

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_BREAKER_CONFIG as config } from '../../src/core/circuit-breaker.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { ERROR_CODES } from '../../src/core/errors.ts';
import { newTask } from '../../src/core/new-task.ts';
import type { ClaimedTask, TaskLease } from '../../src/core/task.ts';
import { parseDatabaseUrl } from '../../src/store/database-url.ts';
import type { Engine } from '../../src/store/engine.ts';
import { openPostgresEngine } from '../../src/store/postgres/postgres-engine.ts';
import { postgresTestDatabase, type TestDatabase } from '../helpers/databases.ts';

/**
 * What the PostgreSQL engine promises beyond the cross-engine contract: it outlives its connections
 * being killed (a server restart looks the same to it), reports an unreachable server as
 * DATABASE_UNAVAILABLE, batches completions without mixing up their answers, and does not depend on
 * the session's time zone or on global pg parsers an application may have changed.
 */

/** Retries `fn` until it stops throwing, or fails after `ms`. For state that settles asynchronously. */
async function eventually<T>(fn: () => Promise<T> | T, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

const leaseOf = (task: ClaimedTask, workerId = 'w'): TaskLease => ({ id: task.id, attempt: task.currentAttempt, workerId });

describe('PostgreSQL engine', () => {
  let db: TestDatabase;
  let connectionString: string;
  let schema: string;
  let appName: string;
  let engine: Engine;
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
  const others: Engine[] = [];

  /** A connection string whose connections can be found (and killed) in pg_stat_activity. */
  const withParams = (params: Record<string, string>) => {
    const url = new URL(connectionString);
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    return url.toString();
  };

  const admin = async <T,>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };

  beforeEach(async () => {
    db = postgresTestDatabase();
    const target = parseDatabaseUrl(db.url);
    if (target.kind !== 'postgres') throw new Error('expected a PostgreSQL test database');
    connectionString = target.connectionString;
    schema = target.schema;
    appName = `smoke_${randomBytes(4).toString('hex')}`;
    engine = openPostgresEngine({ connectionString: withParams({ application_name: appName }), schema, poolSize: 4 });
    await engine.migrate();
  });

  afterEach(async () => {
    await Promise.all([engine, ...others.splice(0)].map((e) => e.close()));
    await db.drop();
  });

  it('keeps working after the server kills its connections, and its listener comes back', async () => {
    let wakes = 0;
    const listener = await engine.listen({ onInsert: () => wakes++ });
    await engine.taskInsert({ task: newTask({ taskType: 'email', payload: { n: 1 } }, clock.now()) });
    await eventually(() => expect(wakes).toBeGreaterThanOrEqual(1));
    // Warm several pool connections so that idle ones are killed too (their 'error' must not crash us).
    await Promise.all(Array.from({ length: 4 }, () => engine.ping()));

    const killed = await admin(async (client) => {
      const { rows } = await client.query('SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()', [appName]);
      return rows.length;
    });
    expect(killed).toBeGreaterThanOrEqual(2);
    const wakesAfterKill = wakes;

    // A call may meet a dying connection once (DATABASE_UNAVAILABLE); then the pool reconnects.
    await eventually(() => engine.ping());
    // The listener reconnects by itself and wakes its owner once, since inserts may have been missed.
    await eventually(() => expect(wakes).toBeGreaterThan(wakesAfterKill));
    const wakesAfterReconnect = wakes;
    await engine.taskInsert({ task: newTask({ taskType: 'email', payload: { n: 2 } }, clock.now()) });
    await eventually(() => expect(wakes).toBeGreaterThan(wakesAfterReconnect));
    expect(await engine.taskClaim({ workerId: 'w', taskTypes: ['email'], limit: 10, now: clock.now(), leaseMs: 30_000 })).toHaveLength(2);
    await listener.close();
  });

  it('fails a transaction whose connection is killed mid-way as DATABASE_UNAVAILABLE, without crashing', async () => {
    await engine.breakerRecord({ taskType: 'email', outcome: 'failure', now: clock.now(), config });
    // Another session holds the breaker row, so the engine's breaker transaction waits inside, on a checked-out connection.
    const blocker = new pg.Client({ connectionString });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM "${schema}".circuit_breakers WHERE task_type = 'email' FOR UPDATE`);
      const recording = engine.breakerRecord({ taskType: 'email', outcome: 'failure', now: clock.now(), config });
      recording.catch(() => {});
      await eventually(async () => {
        const waiting = await admin((client) => client.query("SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", [appName]));
        expect(waiting.rowCount).toBe(1);
      });
      await admin((client) => client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [appName]));
      await expect(recording).rejects.toMatchObject({ code: ERROR_CODES.DATABASE_UNAVAILABLE });
      await blocker.query('ROLLBACK');
    } finally {
      await blocker.end();
    }
    const after = await eventually(() => engine.breakerRecord({ taskType: 'email', outcome: 'failure', now: clock.now(), config }));
    expect(after.consecutiveFailures).toBe(2);
  });

  it('reports an unreachable server as DATABASE_UNAVAILABLE, and a closed engine as CLOSED', async () => {
    const nowhere = openPostgresEngine({ connectionString: 'postgres://postgres@127.0.0.1:1/test', schema: 'conveyor' });
    others.push(nowhere);
    await expect(nowhere.ping()).rejects.toMatchObject({ code: ERROR_CODES.DATABASE_UNAVAILABLE });
    await expect(nowhere.migrate()).rejects.toMatchObject({ code: ERROR_CODES.DATABASE_UNAVAILABLE });
    await expect(nowhere.listen({ onInsert: () => {} })).rejects.toMatchObject({ code: ERROR_CODES.DATABASE_UNAVAILABLE });

    const closing = openPostgresEngine({ connectionString, schema });
    await closing.ping();
    await Promise.all([closing.close(), closing.close()]);
    await closing.close();
    await expect(closing.ping()).rejects.toMatchObject({ code: ERROR_CODES.CLOSED });
    await expect(closing.taskGet({ id: '0190a4c2-0000-7000-8000-000000000000' })).rejects.toMatchObject({ code: ERROR_CODES.CLOSED });
  });

  it('answers each of many simultaneous completions on its own, a repeated one applying once', async () => {
    const tasks = Array.from({ length: 60 }, (_, n) => newTask({ taskType: 'email', payload: { n } }, clock.now()));
    await engine.taskInsertMany({ tasks });
    const running = await engine.taskClaim({ workerId: 'w', taskTypes: ['email'], limit: 60, now: clock.now(), leaseMs: 30_000 });
    expect(running).toHaveLength(60);
    const first = running[0]!;
    const results = await Promise.all([
      ...running.map((task, n) => engine.taskComplete({ lease: leaseOf(task), output: { n }, now: clock.now() })),
      engine.taskComplete({ lease: leaseOf(first), output: { again: true }, now: clock.now() }),
      engine.taskComplete({ lease: { ...leaseOf(running[1]!), workerId: 'someone-else' }, output: null, now: clock.now() }),
    ]);
    expect(results.slice(0, 60).every(Boolean)).toBe(true);
    expect(results.slice(60)).toEqual([false, false]);
    const done = await engine.taskGet({ id: first.id });
    expect(done).toMatchObject({ status: 'completed', output: { n: 0 } });
    expect(done!.attempts).toHaveLength(1);
    expect((await engine.taskStats({ now: clock.now() })).byStatus.completed).toBe(60);
  });

  it('hands a released task whose cancellation was requested to nobody: it ends cancelled', async () => {
    const { task } = await engine.taskInsert({ task: newTask({ taskType: 'email', payload: {} }, clock.now()) });
    const [running] = await engine.taskClaim({ workerId: 'w', taskTypes: ['email'], limit: 1, now: clock.now(), leaseMs: 30_000 });
    expect((await engine.taskCancel({ id: task.id, now: clock.now() })).outcome).toBe('cancel_requested');
    expect(await engine.taskRelease({ lease: leaseOf(running!), now: clock.now() })).toBe(true);
    expect(await engine.taskGet({ id: task.id })).toMatchObject({ status: 'cancelled', workerId: null });
  });

  it('treats ids that are not UUIDs as not found rather than as database errors', async () => {
    expect(await engine.taskGet({ id: 'nope' })).toBeNull();
    expect((await engine.taskCancel({ id: 'nope', now: clock.now() })).outcome).toBe('not_found');
    expect((await engine.taskRetry({ id: 'nope', now: clock.now() })).outcome).toBe('not_found');
    expect(await engine.taskDelete({ id: 'nope' })).toBe('not_found');
    expect(await engine.taskComplete({ lease: { id: 'nope', attempt: 1, workerId: 'w' }, output: null, now: clock.now() })).toBe(false);
    expect(await engine.userGet({ id: 'nope' })).toBeNull();
    await expect(engine.taskList({ limit: 10, cursor: 'garbage' })).rejects.toMatchObject({ code: ERROR_CODES.VALIDATION, field: 'cursor' });
    await expect(engine.taskInsert({ task: newTask({ taskType: 'email', payload: {}, createdBy: 'alice' }, clock.now()) })).rejects.toMatchObject({
      code: ERROR_CODES.VALIDATION,
      field: 'created_by',
    });
  });

  it("reads times right whatever the session's time zone, and ignores global pg parsers the application changed", async () => {
    const kolkata = openPostgresEngine({ connectionString: withParams({ options: '-c TimeZone=Asia/Kolkata' }), schema });
    others.push(kolkata);
    const scheduledAt = new Date(clock.now().getTime() + 90_061_123);
    const { task } = await kolkata.taskInsert({ task: newTask({ taskType: 'email', payload: {}, scheduledAt }, clock.now()) });
    const read = await kolkata.taskGet({ id: task.id });
    expect(read!.createdAt).toEqual(clock.now());
    expect(read!.scheduledAt).toEqual(scheduledAt);

    const original = pg.types.getTypeParser(1184, 'text');
    pg.types.setTypeParser(1184, (value: string) => value);
    const app = new pg.Client({ connectionString });
    await app.connect();
    try {
      await app.query('BEGIN');
      const inserted = await engine.taskInsert({ task: newTask({ taskType: 'email', payload: {}, idempotencyKey: 'tz' }, clock.now()), tx: app });
      const again = await engine.taskInsert({ task: newTask({ taskType: 'email', payload: {}, idempotencyKey: 'tz' }, clock.now()), tx: app });
      await app.query('COMMIT');
      expect(again).toMatchObject({ created: false, task: { id: inserted.task.id } });
      expect(again.task.createdAt).toEqual(clock.now());
      expect((await engine.taskGet({ id: inserted.task.id }))!.createdAt).toEqual(clock.now());
    } finally {
      pg.types.setTypeParser(1184, original);
      await app.end();
    }
  });
});

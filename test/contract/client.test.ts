import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConveyorClient } from '../../src/index.ts';
import { ERROR_CODES } from '../../src/core/errors.ts';
import { parseDatabaseUrl } from '../../src/store/database-url.ts';
import type { EngineTransaction } from '../../src/store/engine.ts';
import { testDatabases, type TestDatabase } from '../helpers/databases.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * The application's side of a transaction, per engine: begin, then commit or roll back, with a handle
 * that ConveyorClient.enqueue accepts as `tx`.
 */
async function appTransaction(db: TestDatabase): Promise<{ tx: EngineTransaction; commit(): Promise<void>; rollback(): Promise<void> }> {
  const target = parseDatabaseUrl(db.url);
  if (target.kind === 'sqlite') {
    const app = new Database(target.filename);
    app.exec('BEGIN IMMEDIATE');
    const end = async (sql: string) => {
      app.exec(sql);
      app.close();
    };
    return { tx: app, commit: () => end('COMMIT'), rollback: () => end('ROLLBACK') };
  }
  const app = new pg.Client({ connectionString: target.connectionString });
  await app.connect();
  await app.query('BEGIN');
  const end = async (sql: string) => {
    await app.query(sql);
    await app.end();
  };
  return { tx: app, commit: () => end('COMMIT'), rollback: () => end('ROLLBACK') };
}

describe.each(testDatabases)('library API [$kind]', ({ create }) => {
  let db: TestDatabase;
  let conveyor: ConveyorClient;
  beforeEach(async () => {
    db = create();
    conveyor = await ConveyorClient.open({ databaseUrl: db.url });
  });
  afterEach(async () => {
    await conveyor.close();
    await db.drop();
  });

  it('enqueues one and many, and reads them back', async () => {
    const { task, created } = await conveyor.enqueue({ taskType: 'email', payload: { to: 'a@example.com' }, priority: 'high' });
    expect(created).toBe(true);
    expect(await conveyor.get(task.id)).toMatchObject({ id: task.id, status: 'pending', priority: 'high' });
    const many = await conveyor.enqueueMany([
      { taskType: 'email', payload: { n: 1 } },
      { taskType: 'report', payload: { n: 2 }, scheduledAt: new Date(Date.now() + 60_000) },
    ]);
    expect(many.map((r) => r.task.status)).toEqual(['pending', 'scheduled']);
    expect((await conveyor.stats()).total).toBe(3);
  });

  it('names the offending field and index when a batch has bad input, inserting nothing', async () => {
    await expect(conveyor.enqueueMany([{ taskType: 'email', payload: {} }, { taskType: 'email', payload: {}, priority: 'urgent' as never }])).rejects.toMatchObject({
      code: ERROR_CODES.VALIDATION,
      field: 'tasks[1].priority',
    });
    expect((await conveyor.stats()).total).toBe(0);
  });

  it('checks type and payload against the types workers registered, naming the field; any type while none is registered', async () => {
    // No worker has registered a type in this database yet: the client cannot know the types.
    await conveyor.enqueue({ taskType: 'not_yet_known', payload: {} });
    await conveyor.engine.typeRegister({
      type: {
        name: 'notify',
        description: 'as a worker registers it',
        payloadSchema: { type: 'object', required: ['to'], additionalProperties: false, properties: { to: { type: 'string', format: 'email' }, tag: { enum: ['a', 'b'] } } },
        examples: [],
        timeoutMs: 1000,
      },
      now: new Date(),
    });
    const fresh = await ConveyorClient.open({ databaseUrl: db.url });
    try {
      await fresh.enqueue({ taskType: 'notify', payload: { to: 'ada@example.com', tag: 'a' } });
      await expect(fresh.enqueue({ taskType: 'notify', payload: { to: 'ada' } })).rejects.toMatchObject({ code: ERROR_CODES.VALIDATION, field: 'payload.to', message: 'payload.to: must be an email address' });
      await expect(fresh.enqueue({ taskType: 'notify', payload: {} })).rejects.toMatchObject({ field: 'payload.to', message: 'payload.to: is required' });
      await expect(fresh.enqueue({ taskType: 'notify', payload: { to: 'ada@example.com', tag: 'c' } })).rejects.toMatchObject({ message: 'payload.tag: must be one of: a, b', details: { allowed: ['a', 'b'] } });
      await expect(fresh.enqueue({ taskType: 'not_yet_known', payload: {} })).rejects.toMatchObject({ field: 'task_type', message: 'task_type: "not_yet_known" is not a registered task type; registered: notify' });
      await expect(fresh.enqueueMany([{ taskType: 'notify', payload: { to: 'ada@example.com' } }, { taskType: 'notify', payload: { to: 'x' } }])).rejects.toMatchObject({ field: 'tasks[1].payload.to' });
      await expect(fresh.schedule({ name: 's', cron: '@daily', taskType: 'notify', payload: { to: 'x' } })).rejects.toMatchObject({ field: 'payload.to' });
      // Nothing refused was written.
      expect((await fresh.list({ taskType: ['notify'], limit: 10 })).tasks).toHaveLength(1);
      const unchecked = await ConveyorClient.open({ databaseUrl: db.url, validate: false });
      await unchecked.enqueue({ taskType: 'notify', payload: { to: 'x' } });
      await unchecked.close();
    } finally {
      await fresh.close();
    }
  });

  it("enqueues inside the application's transaction: the task exists if and only if it commits", async () => {
    const rolledBack = await appTransaction(db);
    const { task: ghost } = await conveyor.enqueue({ taskType: 'email', payload: { n: 1 } }, { tx: rolledBack.tx });
    await rolledBack.rollback();
    expect(await conveyor.get(ghost.id)).toBeNull();

    const committed = await appTransaction(db);
    const [inserted] = await conveyor.enqueueMany([{ taskType: 'email', payload: { n: 2 } }], { tx: committed.tx });
    const real = inserted!.task;
    await committed.commit();
    expect(await conveyor.get(real.id)).toMatchObject({ status: 'pending', payload: { n: 2 } });
  });

  it("a task enqueued in the application's transaction wakes workers when that transaction commits", async () => {
    const app = await appTransaction(db);
    await conveyor.enqueue({ taskType: 'email', payload: { n: 1 } }, { tx: app.tx });
    // Subscribed after the insert, before the commit: the wake-up must come with the commit, not before it.
    await new Promise((resolve) => setImmediate(resolve));
    let woken = false;
    const listener = await conveyor.engine.listen({ onInsert: () => (woken = true) });
    try {
      await app.commit();
      await waitFor(() => woken, { timeoutMs: 5000, message: 'a wake-up after the commit' });
    } finally {
      await listener.close();
    }
  });
  it('declares a schedule at every start-up: created once, then kept in line without moving its next run', async () => {
    const declaration = { name: 'nightly-report', cron: '0 3 * * *', taskType: 'report', payload: { kind: 'daily' } };
    const first = await conveyor.schedule(declaration);
    expect(first.created).toBe(true);
    const again = await conveyor.schedule({ ...declaration, payload: { kind: 'weekly' }, priority: 'high' });
    expect(again).toMatchObject({ created: false, schedule: { id: first.schedule.id, nextRunAt: first.schedule.nextRunAt, template: { payload: { kind: 'weekly' }, priority: 'high' } } });
    // Left out now means the default again, not what the last declaration said.
    expect((await conveyor.schedule(declaration)).schedule.template).toEqual({ payload: { kind: 'daily' }, priority: 'normal' });
    const paused = await conveyor.schedule({ ...declaration, enabled: false });
    expect(paused.schedule).toMatchObject({ enabled: false, nextRunAt: null });
    expect((await conveyor.schedules()).map((s) => s.name)).toEqual(['nightly-report']);
    expect(await conveyor.unschedule('nightly-report')).toBe(true);
    expect(await conveyor.unschedule('nightly-report')).toBe(false);
    await expect(conveyor.schedule({ ...declaration, cron: 'often' })).rejects.toMatchObject({ code: ERROR_CODES.VALIDATION, field: 'cron' });
  });
  it('pauses, resumes and limits a task type from the application', async () => {
    await conveyor.enqueue({ taskType: 'email', payload: {} });
    await conveyor.enqueue({ taskType: 'email', payload: {} });
    const claim = () => conveyor.engine.taskClaim({ workerId: 'w', taskTypes: ['email'], limit: 10, now: new Date(), leaseMs: 30_000 });
    expect(await conveyor.pause('email', 'maintenance')).toMatchObject({ taskType: 'email', reason: 'maintenance' });
    expect(await claim()).toEqual([]);
    expect(await conveyor.resume('email')).toBe(true);
    expect(await conveyor.limit('email', 1)).toMatchObject({ taskType: 'email', maxRunning: 1 });
    expect(await claim()).toHaveLength(1);
    expect(await claim()).toEqual([]);
    expect(await conveyor.limit('email', null)).toBeNull();
    expect(await claim()).toHaveLength(1);
  });
});

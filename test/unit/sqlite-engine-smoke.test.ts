import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { ConveyorError, ERROR_CODES } from '../../src/core/errors.ts';
import { newTask } from '../../src/core/new-task.ts';
import type { ClaimedTask, TaskLease } from '../../src/core/task.ts';
import type { Engine } from '../../src/store/engine.ts';
import { openSqliteEngine } from '../../src/store/sqlite/sqlite-engine.ts';
import { sqliteTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { LATEST_MIGRATION } from '../helpers/known-migrations.ts';

/** Quick checks of SQLite-only behaviour; the engine contract suite (test/contract) covers the semantics. */
describe('SQLite engine (smoke)', () => {
  let db: TestDatabase;
  let filename: string;
  let engine: Engine;
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
  const lease = (task: ClaimedTask, workerId = 'w1'): TaskLease => ({ id: task.id, attempt: task.currentAttempt, workerId });

  beforeEach(async () => {
    db = sqliteTestDatabase();
    filename = db.url.slice('sqlite:'.length);
    engine = openSqliteEngine({ filename });
    await engine.migrate();
  });
  afterEach(async () => {
    await engine.close();
    await db.drop();
  });

  it('migrates once, and a second engine on the same file finds nothing to do', async () => {
    const other = openSqliteEngine({ filename });
    const report = await other.migrate();
    expect(report.applied).toEqual([]);
    expect(report.current).toBe(LATEST_MIGRATION);
    await other.close();
  });

  it('refuses a database whose schema is newer than its migrations', async () => {
    const raw = new Database(filename);
    raw.prepare('INSERT INTO conveyor_migrations (version, name, applied_at) VALUES (99, ?, 0)').run('future');
    raw.close();
    await expect(engine.migrate()).rejects.toMatchObject({ code: ERROR_CODES.SCHEMA_TOO_NEW });
  });

  it('runs a task from insert to completion, recording the attempt with ISO timestamps', async () => {
    const { task } = await engine.taskInsert({ task: newTask({ taskType: 'email', payload: { to: 'a@b.c' } }, clock.now()) });
    const [claimed] = await engine.taskClaim({ workerId: 'w1', taskTypes: ['email'], limit: 5, now: clock.now(), leaseMs: 30_000 });
    expect(claimed).toMatchObject({ id: task.id, currentAttempt: 1 });
    expect(await engine.taskGet({ id: task.id })).toMatchObject({ status: 'running', workerId: 'w1' });
    clock.advance(1234);
    expect(await engine.taskComplete({ lease: lease(claimed!), output: { sent: true }, now: clock.now() })).toBe(true);
    expect(await engine.taskComplete({ lease: lease(claimed!), output: { sent: true }, now: clock.now() })).toBe(false);
    const done = await engine.taskGet({ id: task.id });
    expect(done).toMatchObject({ status: 'completed', output: { sent: true }, leaseExpiresAt: null });
    expect(done!.attempts).toEqual([
      { attempt: 1, workerId: 'w1', startedAt: new Date(clock.now().getTime() - 1234), finishedAt: clock.now(), outcome: 'completed', error: null },
    ]);
  });

  it('inserts inside the application transaction, and rolls back with it', async () => {
    const app = new Database(filename);
    const ok = newTask({ taskType: 'email', payload: {} }, clock.now());
    const rolledBack = newTask({ taskType: 'email', payload: {} }, clock.now());
    app.transaction(() => {
      void engine.taskInsert({ task: ok, tx: app });
    })();
    expect(() =>
      app.transaction(() => {
        void engine.taskInsert({ task: rolledBack, tx: app });
        throw new Error('application failure');
      })(),
    ).toThrow('application failure');
    app.close();
    expect(await engine.taskGet({ id: ok.id })).not.toBeNull();
    expect(await engine.taskGet({ id: rolledBack.id })).toBeNull();
  });

  it('maps unique users to CONFLICT naming the field', async () => {
    const user = { id: '0190a4c2-0000-7000-8000-0000000000a1', username: 'Alice', email: 'alice@example.com', passwordHash: 'h', role: 'user' as const, createdAt: clock.now() };
    await engine.userInsert({ user });
    await expect(engine.userInsert({ user: { ...user, id: '0190a4c2-0000-7000-8000-0000000000a2', email: 'other@example.com', username: 'alice' } })).rejects.toMatchObject({ code: ERROR_CODES.CONFLICT, field: 'username' });
    await expect(engine.userInsert({ user: { ...user, id: '0190a4c2-0000-7000-8000-0000000000a3', username: 'bob', email: 'ALICE@example.com' } })).rejects.toMatchObject({ code: ERROR_CODES.CONFLICT, field: 'email' });
    expect((await engine.userFind({ login: 'ALICE' }))?.id).toBe(user.id);
  });

  it('wakes a listener on another engine sharing the file', async () => {
    const other = openSqliteEngine({ filename });
    const woken = new Promise<string | null>((resolve) => {
      void other.listen({ onInsert: resolve });
    });
    // The watch is set up synchronously inside listen(); wait for it before inserting.
    await Promise.resolve();
    await engine.taskInsert({ task: newTask({ taskType: 'email', payload: {} }, clock.now()) });
    await expect(woken).resolves.toBeNull();
    await other.close();
  });

  it('wakes a listener of a :memory: engine with the task type', async () => {
    const memory = openSqliteEngine({ filename: ':memory:' });
    await memory.migrate();
    const woken = new Promise<string | null>((resolve) => void memory.listen({ onInsert: resolve }));
    await memory.taskInsert({ task: newTask({ taskType: 'report', payload: {} }, clock.now()) });
    await expect(woken).resolves.toBe('report');
    await memory.close();
  });

  it('reports a lock held past the busy timeout as DATABASE_UNAVAILABLE, never a raw SQLITE_BUSY', async () => {
    const impatient = openSqliteEngine({ filename, busyTimeoutMs: 20 });
    const holder = new Database(filename);
    holder.exec('BEGIN IMMEDIATE');
    try {
      const error = await impatient.taskInsert({ task: newTask({ taskType: 'email', payload: {} }, clock.now()) }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConveyorError);
      expect((error as ConveyorError).code).toBe(ERROR_CODES.DATABASE_UNAVAILABLE);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
      await impatient.close();
    }
  });

  it('reports a file it cannot open as DATABASE_UNAVAILABLE', () => {
    const folder = filename.slice(0, filename.lastIndexOf('/'));
    expect(() => openSqliteEngine({ filename: folder })).toThrow(expect.objectContaining({ code: ERROR_CODES.DATABASE_UNAVAILABLE }));
  });

  it('creates the folder of a new database file', async () => {
    const nested = openSqliteEngine({ filename: `${filename}.d/deeper/conveyor.db` });
    expect((await nested.migrate()).current).toBe(LATEST_MIGRATION);
    await nested.close();
  });

  it('refuses use after close with CLOSED', async () => {
    await engine.close();
    await engine.close();
    const error = await engine.taskGet({ id: 'x' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConveyorError);
    expect((error as ConveyorError).code).toBe(ERROR_CODES.CLOSED);
    engine = openSqliteEngine({ filename });
  });
});

import Database from 'better-sqlite3';
import pg from 'pg';
import { expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/core/errors.ts';
import { newTask } from '../../src/core/new-task.ts';
import { createEngine } from '../../src/store/create-engine.ts';
import { parseDatabaseUrl } from '../../src/store/database-url.ts';
import type { TestDatabase } from '../helpers/databases.ts';
import { describeEachEngine } from './engine-fixture.ts';

/** Runs one SQL statement on a test database with the raw driver, to set up what the engine must refuse. */
async function rawExec(db: TestDatabase, sql: string): Promise<void> {
  const target = parseDatabaseUrl(db.url);
  if (target.kind === 'sqlite') {
    const raw = new Database(target.filename);
    raw.exec(sql);
    raw.close();
    return;
  }
  const client = new pg.Client({ connectionString: target.connectionString });
  await client.connect();
  try {
    await client.query(`SET search_path TO ${target.schema}`);
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describeEachEngine('migrations and notifications', (f) => {
  it('migrating again applies nothing', async () => {
    const report = await f().engine.migrate();
    expect(report.applied).toEqual([]);
    expect(report.current).toBeGreaterThanOrEqual(1);
  });

  it('lets several connections migrate a fresh database at once, each migration applied once', async () => {
    const { db } = f();
    const freshUrl = db.kind === 'sqlite' ? `${db.url}.fresh.db` : db.url.replace(/schema=(\w+)/, 'schema=$1_fresh');
    const engines = Array.from({ length: 4 }, () => createEngine(freshUrl));
    try {
      const reports = await Promise.all(engines.map((e) => e.migrate()));
      const applied = reports.flatMap((r) => r.applied.map((m) => m.version));
      expect(applied.sort()).toEqual([...new Set(applied)].sort());
      expect(new Set(reports.map((r) => r.current)).size).toBe(1);
      await engines[0]!.taskInsert({ task: newTask({ taskType: 'email', payload: {} }, new Date()) });
    } finally {
      await Promise.all(engines.map((e) => e.close()));
      const target = parseDatabaseUrl(freshUrl);
      if (target.kind === 'postgres') await rawExec(db, `DROP SCHEMA IF EXISTS ${target.schema} CASCADE`);
    }
  });

  it('refuses a database whose schema is newer than this version knows', async () => {
    const { engine, db } = f();
    await rawExec(db, "INSERT INTO conveyor_migrations (version, name, applied_at) VALUES (9999, 'from_the_future', " + (db.kind === 'sqlite' ? '0' : 'now()') + ')');
    await expect(engine.migrate()).rejects.toMatchObject({ code: ERROR_CODES.SCHEMA_TOO_NEW });
  });

  it('wakes a listener in another connection when a task is inserted', async () => {
    const { engine, db, clock } = f();
    const listenerEngine = createEngine(db.url);
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    const listener = await listenerEngine.listen({ onInsert: () => wake() });
    try {
      await engine.taskInsert({ task: newTask({ taskType: 'email', payload: {} }, clock.now()) });
      await woken;
    } finally {
      await listener.close();
      await listenerEngine.close();
    }
  });
});

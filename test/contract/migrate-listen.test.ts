import { expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/core/errors.ts';
import { newTask } from '../../src/core/new-task.ts';
import { createEngine } from '../helpers/create-engine.ts';
import { parseDatabaseUrl } from '../../src/store/database-url.ts';
import { rawExec } from '../helpers/raw-exec.ts';
import { describeEachEngine } from './engine-fixture.ts';
import { KNOWN_MIGRATIONS } from '../helpers/known-migrations.ts';

describeEachEngine('migrations and notifications', (f) => {
  it('migrating again applies nothing', async () => {
    const report = await f().engine.migrate();
    expect(report.applied).toEqual([]);
    expect(report.current).toBeGreaterThanOrEqual(1);
  });

  it('says which migrations a database lacks without applying them', async () => {
    const { engine, db } = f();
    const status = await engine.migrationStatus();
    expect(status).toEqual({ current: status.latest, latest: status.latest, pending: [] });
    await rawExec(db, `DELETE FROM conveyor_migrations WHERE version >= 2`);
    expect(await engine.migrationStatus()).toEqual({ current: 1, latest: status.latest, pending: KNOWN_MIGRATIONS.slice(1).map((m) => ({ version: m.version, name: m.name })) });
    // Still nothing applied: reading the status changes nothing.
    expect((await engine.migrationStatus()).current).toBe(1);
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

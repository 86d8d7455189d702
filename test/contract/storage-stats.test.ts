import Database from 'better-sqlite3';
import pg from 'pg';
import { expect, it } from 'vitest';
import { parseDatabaseUrl } from '../../src/store/database-url.ts';
import { CaptureLogger } from '../../src/testing/capture-logger.ts';
import { StorageWatch } from '../../src/worker/maintenance/storage-watch.ts';
import { describeEachEngine } from './engine-fixture.ts';

describeEachEngine('database health', (f) => {
  it('reports what the engine can see: PostgreSQL its tables and the oldest open transaction, SQLite its log', async () => {
    const { engine, db, insertMany } = f();
    await insertMany(100);
    const target = parseDatabaseUrl(db.url);
    if (target.kind === 'sqlite') {
      const stats = await engine.storageStats({ now: new Date() });
      expect(stats).toMatchObject({ tables: [], oldestTransaction: null });
      expect(stats.walBytes).toBeGreaterThan(0);
      return;
    }
    // Another session leaves a transaction open; seen ten minutes later, it is about that old (the
    // server's clock and ours may differ by a moment).
    const other = new pg.Client({ connectionString: target.connectionString, application_name: 'left-open' });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query('SELECT 1');
      const stats = await engine.storageStats({ now: new Date(Date.now() + 10 * 60_000) });
      expect(stats.walBytes).toBeNull();
      expect(stats.tables.map((t) => t.name)).toContain(`${target.schema}.tasks`);
      expect(stats.oldestTransaction!.ageMs).toBeGreaterThanOrEqual(9 * 60_000);
    } finally {
      await other.end();
    }
  });

  it('the leader warns once while a problem lasts, and says when it is gone', async () => {
    const { engine, clock, db, insertMany } = f();
    const logger = new CaptureLogger();
    // Limits no database meets, so that each engine shows a problem it can really have: on SQLite a
    // log of more than a byte, on PostgreSQL any open transaction (the one opened here, at least).
    const watch = new StorageWatch({ engine, clock, logger, limits: { deadRows: Infinity, vacuumStaleMs: 0, transactionMs: 0, walBytes: 1 } });
    await insertMany(10);
    const target = parseDatabaseUrl(db.url);
    const other = target.kind === 'postgres' ? new pg.Client({ connectionString: target.connectionString }) : null;
    try {
      if (other) {
        await other.connect();
        await other.query('BEGIN');
        await other.query('SELECT 1');
      }
      const key = target.kind === 'postgres' ? 'transaction' : 'wal';
      const warned = () => logger.entries.filter((e) => e.level === 'warn' && e.problem === key);
      expect((await watch.runOnce()).map((w) => w.key)).toEqual([key]);
      expect(warned()).toHaveLength(1);
      expect(String(warned()[0]!.msg)).toMatch(/^database health: /);
      // Still there a minute later: not logged again.
      clock.advance(60_000);
      expect((await watch.runOnce()).map((w) => w.key)).toEqual([key]);
      expect(warned()).toHaveLength(1);
      if (target.kind === 'sqlite') {
        // A checkpoint folds the log back and empties it: the problem is gone, and the log says so.
        const raw = new Database(target.filename);
        raw.pragma('wal_checkpoint(TRUNCATE)');
        raw.close();
        expect(await watch.runOnce()).toEqual([]);
        expect(logger.entries).toContainEqual(expect.objectContaining({ level: 'info', msg: 'database health: resolved', problem: 'wal' }));
      }
    } finally {
      await other?.end();
    }
  });
});

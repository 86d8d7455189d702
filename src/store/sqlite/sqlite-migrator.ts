import { fileURLToPath } from 'node:url';
import type BetterSqlite3 from 'better-sqlite3';
import { ConveyorError, ERROR_CODES } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { MigrationReport, MigrationStatus } from '../engine.ts';
import { migrationStatusOf, readMigrations, type Migration } from '../migration-files.ts';

const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * Applies pending migrations, each in its own BEGIN IMMEDIATE transaction that first checks whether
 * the version is already there. The check runs under the write lock, so when several processes
 * migrate at once exactly one applies each version and the others see it applied.
 */
export function migrateSqlite(db: BetterSqlite3.Database, logger: Logger, migrations: Migration[] = readMigrations(MIGRATIONS_FOLDER)): MigrationReport {
  const latestKnown = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  const currentVersion = (): number =>
    (db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM conveyor_migrations').get() as { v: number }).v;
  const refuseNewer = (current: number): void => {
    if (current > latestKnown) {
      throw new ConveyorError(
        ERROR_CODES.SCHEMA_TOO_NEW,
        `the database has schema version ${current} but this Conveyor knows versions up to ${latestKnown}; upgrade Conveyor`,
        { details: { databaseVersion: current, knownVersion: latestKnown } },
      );
    }
  };

  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS conveyor_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  }).immediate();

  const applied: MigrationReport['applied'] = [];
  const applyOne = db.transaction((migration: Migration) => {
    refuseNewer(currentVersion());
    const done = db.prepare('SELECT 1 FROM conveyor_migrations WHERE version = ?').get(migration.version);
    if (done !== undefined) return false;
    db.exec(migration.sql);
    db.prepare('INSERT INTO conveyor_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(migration.version, migration.name, Date.now());
    return true;
  });
  for (const migration of migrations) {
    if (applyOne.immediate(migration)) {
      applied.push({ version: migration.version, name: migration.name });
      logger.info({ version: migration.version, name: migration.name }, 'applied SQLite migration');
    }
  }
  const current = currentVersion();
  refuseNewer(current);
  return { applied, current };
}

/** The applied and pending migrations, read only (a database never migrated has no table yet). */
export function sqliteMigrationStatus(db: BetterSqlite3.Database, migrations: Migration[] = readMigrations(MIGRATIONS_FOLDER)): MigrationStatus {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'conveyor_migrations'").get();
  const applied = table === undefined ? [] : (db.prepare('SELECT version FROM conveyor_migrations').all() as { version: number }[]).map((row) => row.version);
  return migrationStatusOf(applied, migrations);
}

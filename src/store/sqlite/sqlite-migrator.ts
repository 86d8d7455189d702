import { fileURLToPath } from 'node:url';
import type { Logger } from '../../core/logger.ts';
import type { MigrationReport, MigrationStatus } from '../engine.ts';
import { readMigrations, type Migration } from '../migration-files.ts';
import { migrationStatus, runMigrations, type MigrationAdapter } from '../shared/migrator.ts';
import type { SqliteConnection } from './sqlite-connection.ts';

const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * SQLite's side of the shared migrator. No lock is held across the run: each migration is applied
 * in its own BEGIN IMMEDIATE transaction that first checks whether the version is already there, so
 * when several processes migrate at once exactly one applies each version and the others see it
 * applied. Each step is one synchronous call, retried by the connection when SQLite reports a lock.
 */
export function sqliteMigrationAdapter(c: SqliteConnection): MigrationAdapter {
  const versions = (): number[] => {
    const table = c.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'conveyor_migrations'").get();
    return table === undefined ? [] : (c.db.prepare('SELECT version FROM conveyor_migrations').all() as { version: number }[]).map((row) => row.version);
  };
  return {
    label: 'the database',
    exclusive: (body) => body(),
    prepare: () =>
      c.write('migrate', () => {
        c.db.exec('CREATE TABLE IF NOT EXISTS conveyor_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
      }),
    applied: () => c.run('migrate', versions),
    applyOne: (migration, check) =>
      c.write('migrate', () => {
        const applied = versions();
        check(applied);
        if (applied.includes(migration.version)) return false;
        c.db.exec(migration.sql);
        c.db.prepare('INSERT INTO conveyor_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(migration.version, migration.name, Date.now());
        return true;
      }),
  };
}

export function migrateSqlite(c: SqliteConnection, logger: Logger, migrations: Migration[] = readMigrations(MIGRATIONS_FOLDER)): Promise<MigrationReport> {
  return runMigrations(sqliteMigrationAdapter(c), migrations, logger);
}

/** The applied and pending migrations, read only (a database never migrated has no table yet). */
export function sqliteMigrationStatus(c: SqliteConnection, migrations: Migration[] = readMigrations(MIGRATIONS_FOLDER)): Promise<MigrationStatus> {
  return migrationStatus(sqliteMigrationAdapter(c), migrations);
}

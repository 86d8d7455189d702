import { ConveyorError, ERROR_CODES } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { MigrationReport, MigrationStatus } from '../engine.ts';
import { migrationStatusOf, type Migration } from '../migration-files.ts';

/**
 * What one engine supplies to run migrations. Each method is one whole unit of work, so an engine
 * can retry it on its own (SQLite's busy-retry only works for synchronous work: each SQLite method is
 * one synchronous call inside it, the runner's awaits fall between them).
 */
export interface MigrationAdapter {
  /** Names the database in messages: "the database", "schema x". */
  readonly label: string;
  /** Runs `body` while no other process migrates this database where the engine needs that (PostgreSQL: an advisory lock). */
  exclusive<T>(body: () => Promise<T>): Promise<T>;
  /** Creates what holds the record of applied versions (schema, `conveyor_migrations`) if missing. */
  prepare(): Promise<void>;
  /** The versions applied; [] when the database was never migrated. Changes nothing. */
  applied(): Promise<number[]>;
  /**
   * In one transaction: `check` with the versions then applied, and unless `migration` is one of them,
   * its SQL and its row in `conveyor_migrations`. True when it applied it.
   */
  applyOne(migration: Migration, check: (applied: readonly number[]) => void): Promise<boolean>;
}

/**
 * Applies the pending migrations in version order, each recorded with its change, and refuses a
 * database whose schema is newer than this code. Safe when several processes migrate at once: the
 * lock (PostgreSQL) or the check inside each transaction (SQLite) makes exactly one apply each version.
 */
export async function runMigrations(adapter: MigrationAdapter, migrations: readonly Migration[], logger: Logger): Promise<MigrationReport> {
  const known = migrations.at(-1)?.version ?? 0;
  const refuseNewer = (versions: readonly number[]): void => {
    const current = Math.max(0, ...versions);
    if (current <= known) return;
    throw new ConveyorError(
      ERROR_CODES.SCHEMA_TOO_NEW,
      `${adapter.label} has schema version ${current} but this Conveyor knows versions up to ${known}; upgrade Conveyor`,
      { details: { databaseVersion: current, knownVersion: known } },
    );
  };
  return adapter.exclusive(async () => {
    await adapter.prepare();
    const done = new Set(await adapter.applied());
    refuseNewer([...done]);
    const applied: MigrationReport['applied'] = [];
    for (const migration of migrations) {
      if (done.has(migration.version) || !(await adapter.applyOne(migration, refuseNewer))) continue;
      applied.push({ version: migration.version, name: migration.name });
      logger.info({ database: adapter.label, version: migration.version, name: migration.name }, 'applied migration');
    }
    const now = await adapter.applied();
    refuseNewer(now);
    return { applied, current: Math.max(0, ...now) };
  });
}

/** The applied and pending migrations, read only. */
export async function migrationStatus(adapter: MigrationAdapter, migrations: readonly Migration[]): Promise<MigrationStatus> {
  return migrationStatusOf(await adapter.applied(), migrations);
}

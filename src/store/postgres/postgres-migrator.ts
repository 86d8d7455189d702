import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { ConveyorError, ERROR_CODES } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { MigrationReport, MigrationStatus } from '../engine.ts';
import { migrationStatusOf, readMigrations, type Migration } from '../migration-files.ts';
import { insertChannel, quoteIdentifier, quoteLiteral } from './sql-parts.ts';

const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations/', import.meta.url));

/**
 * The advisory-lock key of a schema's migrations: a stable 64-bit number derived from its name, so
 * that migrators of the same schema wait for each other and those of different schemas do not.
 */
export function migrationLockKey(schema: string): string {
  return createHash('sha256').update(`conveyor:migrate:${schema}`).digest().readBigInt64BE(0).toString();
}

/** The migration's SQL for this schema: `:schema` is the quoted schema, `:channel` the NOTIFY channel literal. */
export function renderMigration(sql: string, schema: string): string {
  return sql.replace(/(?<!:):schema\b/g, quoteIdentifier(schema)).replace(/(?<!:):channel\b/g, quoteLiteral(insertChannel(schema)));
}

/**
 * Applies pending migrations on one dedicated connection. A session advisory lock serialises
 * processes migrating at once (the second waits, then finds nothing left to do); each migration runs
 * in its own transaction together with its row in `conveyor_migrations`, so a failure leaves the
 * schema at the last whole version.
 */
export async function migratePostgres(client: pg.ClientBase, schema: string, logger: Logger, migrations: Migration[] = readMigrations(MIGRATIONS_FOLDER)): Promise<MigrationReport> {
  const s = quoteIdentifier(schema);
  const key = migrationLockKey(schema);
  await client.query('SELECT pg_advisory_lock($1::bigint)', [key]);
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.conveyor_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)`);
    const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${s}.conveyor_migrations ORDER BY version`);
    const done = new Set(rows.map((row) => Number(row.version)));
    const known = migrations.at(-1)?.version ?? 0;
    const newest = Math.max(0, ...done);
    if (newest > known) {
      throw new ConveyorError(
        ERROR_CODES.SCHEMA_TOO_NEW,
        `schema ${schema} is at version ${newest}, but this version of Conveyor knows only up to ${known}; upgrade Conveyor`,
        { details: { schema, databaseVersion: newest, knownVersion: known } },
      );
    }
    const applied: MigrationReport['applied'] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(renderMigration(migration.sql, schema));
        await client.query(`INSERT INTO ${s}.conveyor_migrations (version, name, applied_at) VALUES ($1, $2, $3)`, [migration.version, migration.name, new Date()]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
      applied.push({ version: migration.version, name: migration.name });
      logger.info({ schema, version: migration.version, name: migration.name }, 'applied migration');
    }
    return { applied, current: Math.max(newest, ...applied.map((m) => m.version)) };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]).catch(() => {});
  }
}

/** The applied and pending migrations, read only (a schema never migrated has no table yet). */
export async function postgresMigrationStatus(client: pg.ClientBase | pg.Pool, schema: string, migrations: Migration[] = readMigrations(MIGRATIONS_FOLDER)): Promise<MigrationStatus> {
  const { rows } = await client.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [`${quoteIdentifier(schema)}.conveyor_migrations`]);
  if (!rows[0]!.exists) return migrationStatusOf([], migrations);
  const applied = await client.query<{ version: number }>(`SELECT version FROM ${quoteIdentifier(schema)}.conveyor_migrations`);
  return migrationStatusOf(applied.rows.map((row) => Number(row.version)), migrations);
}

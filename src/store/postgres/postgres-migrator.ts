import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import type { Logger } from '../../core/logger.ts';
import type { MigrationReport, MigrationStatus } from '../engine.ts';
import { readMigrations, type Migration } from '../migration-files.ts';
import { migrationStatus, runMigrations, type MigrationAdapter } from '../shared/migrator.ts';
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
 * PostgreSQL's side of the shared migrator, on one dedicated connection. A session advisory lock
 * serialises processes migrating at once (the second waits, then finds nothing left to do); each
 * migration runs in its own transaction together with its row in `conveyor_migrations`, so a
 * failure leaves the schema at the last whole version.
 */
export function postgresMigrationAdapter(client: pg.ClientBase | pg.Pool, schema: string): MigrationAdapter {
  const s = quoteIdentifier(schema);
  const versions = async (): Promise<number[]> => {
    const { rows } = await client.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [`${s}.conveyor_migrations`]);
    if (!rows[0]!.exists) return [];
    return (await client.query<{ version: number }>(`SELECT version FROM ${s}.conveyor_migrations`)).rows.map((row) => Number(row.version));
  };
  return {
    label: `schema ${schema}`,
    async exclusive(body) {
      const key = migrationLockKey(schema);
      await client.query('SELECT pg_advisory_lock($1::bigint)', [key]);
      try {
        return await body();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]).catch(() => {});
      }
    },
    async prepare() {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${s}.conveyor_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)`);
    },
    applied: versions,
    /** The advisory lock is held: the versions read before the transaction cannot change under it. */
    async applyOne(migration, check) {
      const applied = await versions();
      check(applied);
      if (applied.includes(migration.version)) return false;
      await client.query('BEGIN');
      try {
        await client.query(renderMigration(migration.sql, schema));
        await client.query(`INSERT INTO ${s}.conveyor_migrations (version, name, applied_at) VALUES ($1, $2, $3)`, [migration.version, migration.name, new Date()]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
      return true;
    },
  };
}

export function migratePostgres(client: pg.ClientBase, schema: string, logger: Logger, migrations: Migration[] = readMigrations(MIGRATIONS_FOLDER)): Promise<MigrationReport> {
  return runMigrations(postgresMigrationAdapter(client, schema), migrations, logger);
}

/** The applied and pending migrations, read only (a schema never migrated has no table yet). */
export function postgresMigrationStatus(client: pg.ClientBase | pg.Pool, schema: string, migrations: Migration[] = readMigrations(MIGRATIONS_FOLDER)): Promise<MigrationStatus> {
  return migrationStatus(postgresMigrationAdapter(client, schema), migrations);
}

import { existsSync } from 'node:fs';
import pg from 'pg';
import { createEngine } from './create-engine.ts';
import { quoteIdentifier } from '../../src/store/postgres/sql-parts.ts';
import { appliedMigrations, schemaFingerprint, type SchemaPoolSpec } from './schema-pool.ts';

/**
 * What the global setup migrates once per run, so that tests copy a migrated database instead of
 * running every migration again: a SQLite file (copied), and the first PostgreSQL schema of the
 * run's schema pool (schema-pool.ts), whose fingerprint every pooled schema is compared with.
 */

export async function makeSqliteTemplate(file: string): Promise<string> {
  const engine = createEngine(`sqlite:${file}`);
  await engine.migrate();
  // Closing checkpoints the WAL into the file, so the file alone is the whole database.
  await engine.close();
  return file;
}

/** Pooled schemas are named `cvp_<vitest pid>_<run>_<random>`, so that a later run can tell a dead run's. */
const PREFIX = 'cvp_';

export interface PostgresSchemaPool {
  spec: SchemaPoolSpec;
  /** Drops every schema in the pool (the run's teardown). */
  drop(): Promise<void>;
}

/** Migrates the pool's first schema and measures it; null when a migrated schema is not empty (pooling would lose that data). */
export async function makePostgresSchemaPool(baseUrl: string, runId: string): Promise<PostgresSchemaPool | null> {
  const prefix = `${PREFIX}${runId}_`;
  const first = `${prefix}first`;
  const url = new URL(baseUrl);
  url.searchParams.set('schema', first);
  const engine = createEngine(url.toString());
  try {
    await engine.migrate();
  } finally {
    await engine.close();
  }
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  try {
    const spec: SchemaPoolSpec = { prefix, fingerprint: await schemaFingerprint(client, first), migrations: await appliedMigrations(client, first) };
    const drop = () => dropSchemasStartingWith(baseUrl, prefix);
    const tables = await client.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename <> 'conveyor_migrations'", [first]);
    for (const { tablename } of tables.rows) {
      const { rows } = await client.query(`SELECT 1 FROM ${quoteIdentifier(first)}.${quoteIdentifier(tablename)} LIMIT 1`);
      if (rows.length > 0) {
        console.warn(`the migrations put rows in ${tablename}: PostgreSQL tests migrate schemas of their own instead of reusing emptied ones`);
        await drop();
        return null;
      }
    }
    return { spec, drop };
  } finally {
    await client.end();
  }
}

/**
 * Drops the pooled schemas of earlier runs on this machine whose vitest is gone (killed before its
 * teardown). Only for a server on this machine, where a run's pid tells whether it still runs.
 */
export async function dropStaleSchemaPools(baseUrl: string): Promise<void> {
  if (!['127.0.0.1', 'localhost', '[::1]', ''].includes(new URL(baseUrl).hostname)) return;
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)', [PREFIX]);
    for (const { nspname } of rows) {
      const pid = /^cvp_(\d+)_/.exec(nspname)?.[1];
      if (pid && !existsSync(`/proc/${pid}`)) await client.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(nspname)} CASCADE`).catch(() => {});
    }
  } finally {
    await client.end();
  }
}

async function dropSchemasStartingWith(baseUrl: string, prefix: string): Promise<void> {
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)', [prefix]);
    for (const { nspname } of rows) await client.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(nspname)} CASCADE`);
  } finally {
    await client.end();
  }
}

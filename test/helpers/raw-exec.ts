import Database from 'better-sqlite3';
import pg from 'pg';
import { parseDatabaseUrl } from '../../src/store/database-url.ts';
import type { TestDatabase } from './databases.ts';

/** Runs one SQL statement on a test database with the raw driver, to set up what the engine must refuse. */
export async function rawExec(db: TestDatabase, sql: string): Promise<void> {
  const target = parseDatabaseUrl(db.url);
  if (target.kind === 'sqlite') {
    const raw = new Database(target.filename);
    raw.exec(sql);
    raw.close();
    return;
  }
  await withRawPostgres(db, (client) => client.query(sql));
}

/** The rows of one query on a test database with the raw driver: what the engine stored, as stored. */
export async function rawRows(db: TestDatabase, sql: string): Promise<Record<string, unknown>[]> {
  const target = parseDatabaseUrl(db.url);
  if (target.kind === 'sqlite') {
    const raw = new Database(target.filename, { readonly: true });
    try {
      return raw.prepare(sql).all() as Record<string, unknown>[];
    } finally {
      raw.close();
    }
  }
  return withRawPostgres(db, async (client) => (await client.query(sql)).rows);
}

/** `work` with the raw driver on a PostgreSQL test database's schema (its own connection, closed after). */
export async function withRawPostgres<T>(db: TestDatabase, work: (client: pg.Client, schema: string) => Promise<T>): Promise<T> {
  const target = parseDatabaseUrl(db.url);
  if (target.kind !== 'postgres') throw new Error('not PostgreSQL');
  const client = new pg.Client({ connectionString: target.connectionString });
  await client.connect();
  try {
    await client.query(`SET search_path TO ${target.schema}`);
    return await work(client, target.schema);
  } finally {
    await client.end();
  }
}

import Database from 'better-sqlite3';
import pg from 'pg';
import { parseDatabaseUrl } from '../../src/store/database-url.ts';

/**
 * Plain SQL on a Conveyor database with the raw driver, outside the engine: the invariants are
 * checked in the database's own words, and a poison row can be written that the engine would refuse.
 * Parameters are positional (`?` on SQLite, `$1` on PostgreSQL); each dialect writes its own SQL.
 */
export interface RawDatabase {
  kind: 'sqlite' | 'postgres';
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export async function openRawDatabase(url: string): Promise<RawDatabase> {
  const target = parseDatabaseUrl(url);
  if (target.kind === 'sqlite') {
    const db = new Database(target.filename);
    db.pragma('busy_timeout = 10000');
    return {
      kind: 'sqlite',
      query: async <T>(sql: string, params: unknown[] = []) => {
        const statement = db.prepare(sql);
        return (statement.reader ? statement.all(...params) : (statement.run(...params), [])) as T[];
      },
      close: async () => {
        db.close();
      },
    };
  }
  const client = new pg.Client({ connectionString: target.connectionString });
  // A server restarted under us ends this session; the next query then fails, it must not crash the suite.
  client.on('error', () => {});
  await client.connect();
  await client.query(`SET search_path TO ${target.schema}`);
  return {
    kind: 'postgres',
    query: async <T>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[],
    close: () => client.end(),
  };
}

/** Runs fn on a fresh connection and closes it, so that a restarted server never leaves a dead one behind. */
export async function withRawDatabase<T>(url: string, fn: (db: RawDatabase) => Promise<T>): Promise<T> {
  const db = await openRawDatabase(url);
  try {
    return await fn(db);
  } finally {
    await db.close().catch(() => {});
  }
}

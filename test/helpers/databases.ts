import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';

/** A database a test owns: its URL, and how to throw it away afterwards. */
export interface TestDatabase {
  kind: 'sqlite' | 'postgres';
  url: string;
  drop(): Promise<void>;
}

/** A fresh SQLite file in its own temporary folder (a real file: WAL and several processes need one). */
export function sqliteTestDatabase(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-sqlite-'));
  return {
    kind: 'sqlite',
    url: `sqlite:${join(dir, 'conveyor.db')}`,
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A fresh schema in the suite's PostgreSQL, so that test files running in parallel never meet. */
export function postgresTestDatabase(): TestDatabase {
  const base = inject('postgresUrl');
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const url = new URL(base);
  url.searchParams.set('schema', schema);
  return {
    kind: 'postgres',
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

export const testDatabases: { kind: 'sqlite' | 'postgres'; create(): TestDatabase }[] = [
  { kind: 'sqlite', create: sqliteTestDatabase },
  { kind: 'postgres', create: postgresTestDatabase },
];

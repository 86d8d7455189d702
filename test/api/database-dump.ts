import { readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { TestDatabase } from '../helpers/databases.ts';

/**
 * Everything a test database holds, as text: every row of every table, and for SQLite the raw bytes of
 * the database and WAL files too, so that a secret written anywhere (even in freed pages) is found.
 */
export async function dumpDatabase(db: TestDatabase): Promise<string> {
  if (db.kind === 'sqlite') {
    const filename = db.url.slice('sqlite:'.length);
    const sqlite = new Database(filename, { readonly: true });
    try {
      const tables = sqlite.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[];
      const rows = tables.map((t) => JSON.stringify(sqlite.prepare(`SELECT * FROM "${t.name}"`).all()));
      const files = readdirSync(dirname(filename)).map((f) => readFileSync(`${dirname(filename)}/${f}`).toString('latin1'));
      return [...rows, ...files].join('\n');
    } finally {
      sqlite.close();
    }
  }
  const url = new URL(db.url);
  const schema = url.searchParams.get('schema')!;
  url.searchParams.delete('schema');
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const tables = await client.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [schema]);
    const parts: string[] = [];
    for (const { table_name } of tables.rows) {
      const rows = await client.query(`SELECT * FROM "${schema}"."${table_name}"`);
      parts.push(JSON.stringify(rows.rows));
    }
    return parts.join('\n');
  } finally {
    await client.end();
  }
}

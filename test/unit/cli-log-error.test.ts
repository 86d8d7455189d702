import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createLogger } from '../../src/cli/logger.ts';
import { serializeError } from '../../src/cli/log-error.ts';
import { ConveyorError, ERROR_CODES } from '../../src/core/errors.ts';

/** Log lines written by createLogger, collected as parsed JSON. */
function capturedLogger() {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } });
  return { logger, lines };
}

describe('errors in log lines', () => {
  it('a PostgreSQL connection lost while idle logs its code, message and the server\'s fields, never the pg client', async () => {
    const { logger, lines } = capturedLogger();
    const pool = new pg.Pool({ connectionString: inject('postgresUrl'), max: 1 });
    // What the engine does with an idle connection's death (postgres-engine.ts); pg-pool puts the client on the error.
    let seen: Error | undefined;
    const logged = new Promise<void>((resolve) =>
      pool.on('error', (error) => {
        seen = error;
        logger.warn({ err: error }, 'idle PostgreSQL connection lost; the pool will replace it');
        resolve();
      }),
    );
    const admin = new pg.Client({ connectionString: inject('postgresUrl') });
    await admin.connect();
    try {
      const client = await pool.connect();
      const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      client.release();
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      await logged;
    } finally {
      await admin.end();
      await pool.end();
    }

    expect((seen as Error & { client?: unknown }).client, 'pg-pool attaches the client to the error').toBeDefined();
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line.length).toBeLessThan(2000);
    for (const leak of ['"client"', 'secretKey', 'processID', 'connectionParameters', '_events']) expect(line).not.toContain(leak);
    const entry = JSON.parse(line) as { level: string; msg: string; err: Record<string, unknown> };
    expect(entry).toMatchObject({ level: 'warn', msg: 'idle PostgreSQL connection lost; the pool will replace it' });
    expect(entry.err).toMatchObject({ type: 'DatabaseError', code: '57P01', severity: 'FATAL', message: expect.stringContaining('terminating connection') });
    expect(entry.err.stack).toEqual(expect.stringContaining('terminating connection'));
  });

  it('keeps our own errors\' code, field and details, and the cause\'s message', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED', socket: new (class Socket {})() });
    const error = new ConveyorError(ERROR_CODES.DATABASE_UNAVAILABLE, 'PostgreSQL is unavailable (taskClaim)', { cause, field: 'database.url', details: { attempt: 3, hosts: ['a', 'b'] } });
    expect(serializeError(error)).toMatchObject({
      type: 'ConveyorError',
      code: ERROR_CODES.DATABASE_UNAVAILABLE,
      field: 'database.url',
      details: { attempt: 3, hosts: ['a', 'b'] },
      message: 'PostgreSQL is unavailable (taskClaim): connect ECONNREFUSED 127.0.0.1:5432',
    });
    // A live object on an error (a socket here) is left out; its plain neighbours stay.
    const serialized = serializeError(cause) as Record<string, unknown>;
    expect(serialized).toMatchObject({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:5432' });
    expect(serialized).not.toHaveProperty('socket');
    expect(serializeError('not an error')).toBe('not an error');
  });
});

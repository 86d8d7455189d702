import { existsSync } from 'node:fs';
import { pino } from 'pino';
import type { Logger } from '../core/logger.ts';
import { openEngine } from '../store/create-engine.ts';
import { parseDatabaseUrl, redactDatabaseUrl } from '../store/database-url.ts';
import type { Engine } from '../store/engine.ts';
import { CliError, EXIT } from './cli-error.ts';
import type { Config } from './config.ts';
import { createLogger } from './logger.ts';

/**
 * Operator commands print results on stdout (tables, or JSON for scripts), so their logs go to stderr,
 * and only problems are worth a line unless the operator asked for more. Written synchronously: the
 * CLI ends with process.exit(), which would drop buffered lines.
 */
export function cliLogger(config: Config): Logger {
  const level = config.log.level === 'info' ? 'warn' : config.log.level;
  return createLogger({ level, destination: pino.destination({ dest: 2, sync: true }) });
}

/**
 * Opens the configured engine for an operator command and closes it afterwards. These commands never
 * migrate (that is `conveyor migrate`'s job, or doctor --fix), and for SQLite they refuse a file that
 * does not exist rather than create an empty database where the operator mistyped a path.
 */
export async function withEngine<T>(config: Config, fn: (engine: Engine) => Promise<T>): Promise<T> {
  assertDatabaseExists(config.database.url);
  const engine = await openEngine(config.database.url, { logger: cliLogger(config) });
  try {
    return await fn(engine);
  } finally {
    await engine.close().catch(() => {});
  }
}

/** Throws when the SQLite file of `url` is missing; PostgreSQL is checked by connecting. */
export function assertDatabaseExists(url: string): void {
  const target = parseDatabaseUrl(url);
  if (target.kind !== 'sqlite' || target.filename === ':memory:') return;
  if (!existsSync(target.filename)) {
    throw new CliError(
      `the SQLite database ${redactDatabaseUrl(url)} does not exist yet: run \`conveyor migrate\` or ./scripts/dev.sh (or set database.url; see \`conveyor config\`)`,
      EXIT.FAILURE,
    );
  }
}

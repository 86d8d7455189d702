import { ConveyorError, ERROR_CODES } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { parseDatabaseUrl } from './database-url.ts';
import type { Engine } from './engine.ts';

export interface CreateEngineOptions {
  logger?: Logger;
  /** PostgreSQL pool size. */
  poolSize?: number;
}

/**
 * The only place that knows both engines: the URL's scheme picks one. Each engine module is imported
 * when it is chosen, so a PostgreSQL-only program never loads better-sqlite3's native addon, and a
 * SQLite one never loads pg.
 */
export async function openEngine(databaseUrl: string, options: CreateEngineOptions = {}): Promise<Engine> {
  const target = parseDatabaseUrl(databaseUrl);
  if (target.kind === 'sqlite') {
    const { openSqliteEngine } = await loadDriver('better-sqlite3', () => import('./sqlite/sqlite-engine.ts'));
    return openSqliteEngine({ filename: target.filename, ...options });
  }
  const { openPostgresEngine } = await loadDriver('pg', () => import('./postgres/postgres-engine.ts'));
  return openPostgresEngine({ connectionString: target.connectionString, schema: target.schema, ...options });
}

export interface OpenMigratedOptions extends CreateEngineOptions {
  /** Apply pending migrations after opening (default true; safe with several processes at once). */
  migrate?: boolean;
}

/**
 * Opens the engine and applies pending migrations, closing it again if that fails: how the library
 * (ConveyorClient, ConveyorWorker, the testing helpers) and the CLI's short commands begin.
 */
export async function openMigratedEngine(databaseUrl: string, options: OpenMigratedOptions = {}): Promise<Engine> {
  const { migrate = true, ...engineOptions } = options;
  const engine = await openEngine(databaseUrl, engineOptions);
  try {
    if (migrate) await engine.migrate();
    return engine;
  } catch (error) {
    await engine.close().catch(() => {});
    throw error;
  }
}

/** A driver that cannot load (a native addon built for another Node version) is a setup problem, said so. */
async function loadDriver<T>(driver: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    throw new ConveyorError(ERROR_CODES.CONFIG, `database.url: could not load the ${driver} driver: ${(error as Error).message}`, { field: 'database.url', cause: error });
  }
}

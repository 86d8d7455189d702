import type { Logger } from '../core/logger.ts';
import { parseDatabaseUrl } from './database-url.ts';
import type { Engine } from './engine.ts';
import { openPostgresEngine } from './postgres/postgres-engine.ts';
import { openSqliteEngine } from './sqlite/sqlite-engine.ts';

export interface CreateEngineOptions {
  logger?: Logger;
  /** PostgreSQL pool size. */
  poolSize?: number;
}

/** The only place that knows both drivers: the URL's scheme picks the engine. */
export function createEngine(databaseUrl: string, options: CreateEngineOptions = {}): Engine {
  const target = parseDatabaseUrl(databaseUrl);
  if (target.kind === 'sqlite') return openSqliteEngine({ filename: target.filename, ...options });
  return openPostgresEngine({ connectionString: target.connectionString, schema: target.schema, ...options });
}

import type { CreateEngineOptions } from '../../src/store/create-engine.ts';
import { parseDatabaseUrl } from '../../src/store/database-url.ts';
import type { Engine } from '../../src/store/engine.ts';
import { openPostgresEngine } from '../../src/store/postgres/postgres-engine.ts';
import { openSqliteEngine } from '../../src/store/sqlite/sqlite-engine.ts';

/**
 * An engine opened at once, for tests that build many or open one inside a synchronous callback. The
 * product opens engines with openEngine() (src/store/create-engine.ts), which loads only the chosen driver.
 */
export function createEngine(databaseUrl: string, options: CreateEngineOptions = {}): Engine {
  const target = parseDatabaseUrl(databaseUrl);
  if (target.kind === 'sqlite') return openSqliteEngine({ filename: target.filename, ...options });
  return openPostgresEngine({ connectionString: target.connectionString, schema: target.schema, ...options });
}

import { ConveyorError, ERROR_CODES } from '../core/errors.ts';

export type DatabaseTarget =
  | { kind: 'sqlite'; filename: string }
  | { kind: 'postgres'; connectionString: string; schema: string };

export const DEFAULT_DATABASE_URL = 'sqlite:./data/conveyor.db';
export const DEFAULT_POSTGRES_SCHEMA = 'conveyor';
const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * One URL picks the engine:
 *   sqlite:./data/conveyor.db   a file, relative to the working directory (created if missing)
 *   sqlite:/var/lib/conveyor.db an absolute path
 *   sqlite::memory:             a private in-memory database (one process only)
 *   postgres://user@host:5432/db?schema=conveyor   PostgreSQL; tables live in `schema` (default conveyor)
 */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (url.startsWith('sqlite:')) {
    let filename = url.slice('sqlite:'.length);
    if (filename.startsWith('//')) filename = filename.slice(2); // sqlite:///abs/path and sqlite://./rel
    if (filename === '') throw configError(url, 'names no file (try sqlite:./data/conveyor.db)');
    return { kind: 'sqlite', filename };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw configError(url, 'is not a valid URL');
    }
    const schema = parsed.searchParams.get('schema') ?? DEFAULT_POSTGRES_SCHEMA;
    if (!SCHEMA_PATTERN.test(schema)) throw configError(url, 'has a schema that is not a plain lower-case identifier');
    parsed.searchParams.delete('schema');
    return { kind: 'postgres', connectionString: parsed.toString(), schema };
  }
  throw configError(url, 'must start with sqlite: or postgres://');
}

/** The URL with any password replaced, safe to print and log. */
export function redactDatabaseUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

function configError(url: string, problem: string): ConveyorError {
  return new ConveyorError(ERROR_CODES.CONFIG, `database URL ${redactDatabaseUrl(url)} ${problem}`, { field: 'database.url' });
}

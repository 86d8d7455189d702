import { ConveyorError, ERROR_CODES } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';

/** better-sqlite3's SqliteError carries SQLite's extended result code name, e.g. `SQLITE_BUSY_SNAPSHOT`. */
function sqliteCode(error: unknown): string | null {
  if (error === null || typeof error !== 'object') return null;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : null;
}

/** Another connection holds the lock: the operation may succeed if tried again. */
export function isBusy(error: unknown): boolean {
  const code = sqliteCode(error);
  return code !== null && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

export function isUniqueViolation(error: unknown): boolean {
  const code = sqliteCode(error);
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** Any error out of the driver becomes a catalogued one; ours pass through untouched. */
export function translateSqliteError(error: unknown, operation: string): ConveyorError {
  if (error instanceof ConveyorError) return error;
  const code = sqliteCode(error);
  const message = error instanceof Error ? error.message : String(error);
  const unavailable = code !== null && (isBusy(error) || code.startsWith('SQLITE_CANTOPEN') || code === 'SQLITE_PROTOCOL');
  return new ConveyorError(
    unavailable ? ERROR_CODES.DATABASE_UNAVAILABLE : ERROR_CODES.DATABASE,
    `SQLite ${operation} failed: ${message}`,
    { cause: error, details: code === null ? { operation } : { operation, sqliteCode: code } },
  );
}

const MAX_BUSY_RETRIES = 6;

/**
 * busy_timeout already makes SQLite wait for the lock; this is the last resort for the cases it does
 * not cover (a WAL snapshot that went stale, recovery after a crashed writer). The work is retried
 * from the start, which is safe because it runs in a transaction that SQLite rolled back.
 */
export async function retryWhenBusy<T>(work: () => T, operation: string, logger: Logger, isClosed: () => boolean): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    if (isClosed()) throw closedError();
    try {
      return work();
    } catch (error) {
      if (!isBusy(error) || attempt >= MAX_BUSY_RETRIES) throw translateSqliteError(error, operation);
      const delayMs = Math.min(10 * 2 ** attempt, 500) * (0.5 + Math.random() / 2);
      logger.warn({ operation, attempt: attempt + 1, delayMs: Math.round(delayMs), err: error }, 'SQLite busy; retrying');
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/** The same for work that must stay synchronous (opening the connection). */
export function retryWhenBusySync<T>(work: () => T, operation: string): T {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return work();
    } catch (error) {
      if (!isBusy(error) || attempt >= MAX_BUSY_RETRIES) throw translateSqliteError(error, operation);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.min(10 * 2 ** attempt, 500));
    }
  }
}

export function closedError(): ConveyorError {
  return new ConveyorError(ERROR_CODES.CLOSED, 'the SQLite engine was used after close()');
}

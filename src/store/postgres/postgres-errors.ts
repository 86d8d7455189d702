import { ConveyorError, ERROR_CODES } from '../../core/errors.ts';

/** Node socket errors that mean the server could not be reached (or went away). */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/**
 * SQLSTATEs after which the same call may succeed later: connection exceptions (class 08), the
 * server shutting down or starting up (57P01..57P03), too many connections (53300).
 */
function isUnavailableState(code: string): boolean {
  return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300';
}

/** pg raises these as plain Errors with no code when a connection dies or a pool cannot connect. */
const UNAVAILABLE_MESSAGE = /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect|Client was closed/i;

/** Which input a unique index of the users table protects. */
const CONFLICT_FIELDS: Record<string, string> = {
  users_username_key: 'username',
  users_email_key: 'email',
  users_pkey: 'id',
  tasks_pkey: 'id',
  sessions_pkey: 'tokenHash',
  schedules_owner_name_key: 'name',
};

interface DriverError {
  code?: unknown;
  constraint?: unknown;
  message?: unknown;
}

/** True when the error says the database is unreachable rather than that the request was wrong. */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof ConveyorError) return error.code === ERROR_CODES.DATABASE_UNAVAILABLE;
  const { code, message } = (error ?? {}) as DriverError;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || (code.length === 5 && isUnavailableState(code)))) return true;
  return typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message);
}

/** Turns whatever pg threw into a catalogued ConveyorError; engines never let driver errors out. */
export function toConveyorError(error: unknown, operation: string): ConveyorError {
  if (error instanceof ConveyorError) return error;
  const { code, constraint, message } = (error ?? {}) as DriverError;
  const text = typeof message === 'string' ? message : String(error);
  if (isUnavailable(error)) {
    return new ConveyorError(ERROR_CODES.DATABASE_UNAVAILABLE, `PostgreSQL is unavailable (${operation}): ${text}`, { cause: error });
  }
  if (code === '23505') {
    const field = typeof constraint === 'string' ? CONFLICT_FIELDS[constraint] : undefined;
    return new ConveyorError(ERROR_CODES.CONFLICT, field ? `${field} is already taken` : `a unique value is already taken (${operation})`, {
      ...(field ? { field } : {}),
      cause: error,
    });
  }
  if (code === '23503' && (constraint === 'tasks_created_by_fkey' || constraint === 'schedules_created_by_fkey')) {
    return new ConveyorError(ERROR_CODES.VALIDATION, 'created_by: names no user', { field: 'created_by', cause: error });
  }
  if (code === '23503' && constraint === 'sessions_user_id_fkey') {
    return new ConveyorError(ERROR_CODES.NOT_FOUND, 'userId: names no user', { field: 'userId', cause: error });
  }
  const details = typeof code === 'string' ? { sqlstate: code } : undefined;
  return new ConveyorError(ERROR_CODES.DATABASE, `PostgreSQL error (${operation}): ${text}`, { ...(details ? { details } : {}), cause: error });
}

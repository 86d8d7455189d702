import { ERROR_CODES, isConveyorError } from '../core/errors.ts';

/**
 * SQLSTATEs after which the same write may work when tried again: a serialization failure or a
 * deadlock (the other transaction won), a lock not available, a statement or lock timeout, a query
 * cancelled (57014, the server's statement_timeout).
 */
const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '55P03', '57014']);

/**
 * True when an outcome write failed for a reason that passes (the database is away, restarting, busy,
 * or lost a race), so trying the same write again may work; false when the write itself is refused
 * (the value cannot be stored, the row is unusable): retrying that only keeps the task `running`.
 * Engines map connection loss, 57P01..57P03, class 08 and SQLite's BUSY/LOCKED to
 * DATABASE_UNAVAILABLE; the rest of what passes arrives as DATABASE with its SQLSTATE.
 */
export function isTransientWriteError(error: unknown): boolean {
  if (isConveyorError(error, ERROR_CODES.DATABASE_UNAVAILABLE)) return true;
  if (isConveyorError(error, ERROR_CODES.DATABASE)) {
    const sqlstate = error.details?.sqlstate;
    if (typeof sqlstate === 'string' && (TRANSIENT_SQLSTATES.has(sqlstate) || sqlstate.startsWith('08'))) return true;
    return /timeout|timed out|ECONNRESET|Connection terminated/i.test(error.message);
  }
  return false;
}

import { validationError } from '../../core/errors.ts';
import { isUuid } from '../../core/id.ts';

/** The largest page taskList returns. */
export const MAX_LIST_LIMIT = 1000;

/**
 * Checks on what callers hand the engine, written once so that both engines refuse the same input
 * with the same ConveyorError (CONVEYOR_VALIDATION, naming the field) before any SQL runs: a value
 * the database would refuse must not become a driver error (a 500) on one engine and a 400 on the other.
 */

/** A page size: a whole number from 1 to MAX_LIST_LIMIT. Refused rather than clamped, so a caller's mistake shows. */
export function assertListLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) throw validationError('limit', `must be a whole number from 1 to ${MAX_LIST_LIMIT}`);
}

/** A reference to a user (who paused, who set a limit, who owns): null or a UUID. */
export function assertUserRef(field: string, value: string | null): void {
  if (value !== null && !isUuid(value)) throw validationError(field, 'must be a user id');
}

/** A new row's own id: a UUID. */
export function assertUuid(field: string, value: string): void {
  if (!isUuid(value)) throw validationError(field, 'must be a UUID');
}

/** A concurrency limit: a whole number of at least 1. */
export function assertMaxRunning(value: number): void {
  if (!Number.isInteger(value) || value < 1) throw validationError('max_running', 'must be a whole number of at least 1');
}

/**
 * The error catalogue. Every error Conveyor raises on purpose is a ConveyorError with a stable code,
 * so callers (the API, the CLI, a user's application) branch on `code`, never on message text.
 */
export const ERROR_CODES = {
  /** Input failed validation; `field` names the offending input. */
  VALIDATION: 'CONVEYOR_VALIDATION',
  /** The task (or user, session, ...) does not exist. */
  NOT_FOUND: 'CONVEYOR_NOT_FOUND',
  /** The operation does not apply to the record's current state (retry a running task, ...). */
  INVALID_STATE: 'CONVEYOR_INVALID_STATE',
  /** A unique value is already taken (username, email, ...). */
  CONFLICT: 'CONVEYOR_CONFLICT',
  /** The database could not be reached; the operation may succeed if tried again. */
  DATABASE_UNAVAILABLE: 'CONVEYOR_DATABASE_UNAVAILABLE',
  /** The database answered with an error Conveyor did not expect. */
  DATABASE: 'CONVEYOR_DATABASE',
  /** The database holds a schema newer than this version of Conveyor knows. */
  SCHEMA_TOO_NEW: 'CONVEYOR_SCHEMA_TOO_NEW',
  /** The configuration (database URL, settings) is invalid. */
  CONFIG: 'CONVEYOR_CONFIG',
  /** The engine was used after close(). */
  CLOSED: 'CONVEYOR_CLOSED',
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

export interface ConveyorErrorOptions {
  /** The input field at fault, as a dotted path (`payload.to`, `retry_strategy.max_attempts`). */
  field?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class ConveyorError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: ConveyorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ConveyorError';
    this.code = code;
    this.field = options.field;
    this.details = options.details;
  }
}

export function validationError(field: string, message: string, details?: Record<string, unknown>): ConveyorError {
  return new ConveyorError(ERROR_CODES.VALIDATION, `${field}: ${message}`, details ? { field, details } : { field });
}

export function isConveyorError(error: unknown, code?: ErrorCode): error is ConveyorError {
  return error instanceof ConveyorError && (code === undefined || error.code === code);
}

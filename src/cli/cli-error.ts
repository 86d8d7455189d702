import { ConveyorError, ERROR_CODES } from '../core/errors.ts';

/**
 * The exit codes of `conveyor` commands, so that scripts and supervisors can branch on them (the
 * table in docs/operations.md and `conveyor --help` say the same):
 *   0 ok, 1 failure or problem found, 2 invalid usage or input (a flag, an argument, a payload; a
 *   deletion not confirmed), 3 not found, 4 not possible in the current state, 5 database
 *   unreachable, 6 configuration error (a setting is invalid, or the process cannot run as
 *   configured, such as a port in use).
 * 2 and 6 mean that running the same command again fails the same way: `conveyor start` does not
 * restart a process that exits with them.
 */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  INVALID_STATE: 4,
  UNAVAILABLE: 5,
  CONFIG: 6,
} as const;

/** The one-line summary `conveyor --help` prints. */
export const EXIT_CODES_HELP =
  'Exit codes: 0 ok, 1 failure or problem found, 2 invalid usage or input, 3 not found,\n' +
  '4 not possible in the current state, 5 database unreachable, 6 configuration error (a setting, a port in use).';

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error a command reports to the user as it is, with its exit code (main.ts prints it). */
export class CliError extends Error {
  readonly exitCode: ExitCode;

  constructor(message: string, exitCode: ExitCode) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** A schema that was never migrated shows up as a missing table; say what to do about it. */
const MISSING_TABLE = /no such table|relation "?[\w."]+"? does not exist/i;

/** Translates an error from the engine or the core into a CliError with a meaningful exit code. */
export function toCliError(error: unknown): CliError | unknown {
  if (error instanceof CliError || !(error instanceof ConveyorError)) return error;
  switch (error.code) {
    case ERROR_CODES.VALIDATION:
      return new CliError(error.message, EXIT.USAGE);
    case ERROR_CODES.CONFIG:
      return new CliError(`configuration error: ${error.message}`, EXIT.CONFIG);
    case ERROR_CODES.NOT_FOUND:
      return new CliError(error.message, EXIT.NOT_FOUND);
    case ERROR_CODES.INVALID_STATE:
    case ERROR_CODES.CONFLICT:
      return new CliError(error.message, EXIT.INVALID_STATE);
    case ERROR_CODES.DATABASE_UNAVAILABLE:
      return new CliError(`${error.message}\n  the database did not answer: check database.url (conveyor config) and that the database is running`, EXIT.UNAVAILABLE);
    case ERROR_CODES.DATABASE:
      if (MISSING_TABLE.test(error.message)) {
        return new CliError(`${error.message}\n  the database has no Conveyor tables yet: run \`conveyor migrate\` (or ./scripts/dev.sh)`, EXIT.FAILURE);
      }
      return new CliError(error.message, EXIT.FAILURE);
    default:
      return new CliError(error.message, EXIT.FAILURE);
  }
}

/** Wraps a command's action so engine errors leave with the right exit code. */
export function cliAction<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (error) {
      throw toCliError(error);
    }
  };
}

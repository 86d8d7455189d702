import { ConveyorError, ERROR_CODES } from '../core/errors.ts';
import { CliError, EXIT } from './cli-error.ts';
import { loadConfig } from './config.ts';

/** A command-line flag that sets a setting: `--concurrency` is CONVEYOR__WORKER__CONCURRENCY. */
export interface FlagSetting {
  flag: string;
  env: string;
  value: string | undefined;
}

/**
 * The environment with the flags' values in place of their settings, checked by the same rules as
 * the environment, so errors read the same; but an error about a value given by a flag names the
 * flag (`--concurrency must be ...`), not the environment variable the user never set.
 */
export function envWithFlags(env: NodeJS.ProcessEnv, flags: readonly FlagSetting[]): NodeJS.ProcessEnv {
  const result = { ...env };
  for (const { env: name, value } of flags) if (value !== undefined) result[name] = value;
  try {
    loadConfig(result);
  } catch (error) {
    const given = flags.find((f) => f.value !== undefined && error instanceof ConveyorError && error.code === ERROR_CODES.CONFIG && error.details?.env === f.env);
    if (given && error instanceof ConveyorError) {
      throw new CliError(`${given.flag} must be ${String(error.details?.allowed)}; got ${JSON.stringify(given.value)}`, EXIT.USAGE);
    }
    throw error;
  }
  return result;
}

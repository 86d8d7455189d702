import { pino, type DestinationStream } from 'pino';
import type { Logger } from '../core/logger.ts';
import type { LogLevel } from './config.ts';
import { serializeError } from './log-error.ts';

/**
 * The process's root logger: JSON lines on stdout (pipes and files are written synchronously on
 * Linux, so nothing is lost when the process exits), ISO timestamps, and the level as a word so the
 * lines read well with grep. Components add their own bindings (worker_id, task_id, ...). No logger
 * `name` by default: engines log a migration's `name`, and JSON lines must not repeat a key.
 */
export function createLogger(options: { level: LogLevel; name?: string; bindings?: Record<string, unknown>; destination?: DestinationStream }): Logger {
  const settings = {
    level: options.level,
    ...(options.name ? { name: options.name } : {}),
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    // Errors as code, message and stack: never a driver's client or socket (see log-error.ts).
    serializers: { err: serializeError },
    base: { pid: process.pid, ...options.bindings },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

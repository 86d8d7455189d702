import { pino } from 'pino';
import type { Logger } from '../core/logger.ts';
import type { LogLevel } from './config.ts';

/**
 * The process's root logger: JSON lines on stdout (pipes and files are written synchronously on
 * Linux, so nothing is lost when the process exits), ISO timestamps, and the level as a word so the
 * lines read well with grep. Components add their own bindings (worker_id, task_id, ...). No logger
 * `name` by default: engines log a migration's `name`, and JSON lines must not repeat a key.
 */
export function createLogger(options: { level: LogLevel; name?: string; bindings?: Record<string, unknown> }): Logger {
  const root = pino({
    level: options.level,
    ...(options.name ? { name: options.name } : {}),
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    base: { pid: process.pid, ...options.bindings },
  });
  return root;
}

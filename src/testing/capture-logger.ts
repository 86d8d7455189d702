import type { Logger } from '../core/logger.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One captured log call: level, message, and the fields (bindings of child loggers included). */
export type LogEntry = { level: LogLevel; msg: string | undefined } & Record<string, unknown>;

/**
 * A Logger that keeps every line in memory, so a test can assert on what a handler logged:
 *
 *   expect(run.logs).toContainEqual(expect.objectContaining({ level: 'info', msg: 'sent' }));
 */
export class CaptureLogger implements Logger {
  readonly entries: LogEntry[];
  readonly #bindings: Record<string, unknown>;

  constructor(entries: LogEntry[] = [], bindings: Record<string, unknown> = {}) {
    this.entries = entries;
    this.#bindings = bindings;
  }

  debug(obj: object, msg?: string): void {
    this.#push('debug', obj, msg);
  }

  info(obj: object, msg?: string): void {
    this.#push('info', obj, msg);
  }

  warn(obj: object, msg?: string): void {
    this.#push('warn', obj, msg);
  }

  error(obj: object, msg?: string): void {
    this.#push('error', obj, msg);
  }

  child(bindings: Record<string, unknown>): Logger {
    return new CaptureLogger(this.entries, { ...this.#bindings, ...bindings });
  }

  #push(level: LogLevel, obj: object, msg: string | undefined): void {
    this.entries.push({ ...this.#bindings, ...(obj as Record<string, unknown>), level, msg });
  }
}

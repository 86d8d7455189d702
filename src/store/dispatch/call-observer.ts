import { ERROR_CODES } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { EngineCall } from '../engine.ts';

/** Errors that say the caller asked for something wrong, not that the database misbehaved: logged at debug only. */
const CALLER_ERRORS = new Set<string>([ERROR_CODES.VALIDATION, ERROR_CODES.NOT_FOUND, ERROR_CODES.CONFLICT, ERROR_CODES.INVALID_STATE]);

export const DEFAULT_SLOW_CALL_MS = 1000;

/**
 * Where the dispatch layer reports each engine call: to the listeners (the API's Prometheus
 * histogram), and to the log when it was slow or failed. One place for every engine, so the SQL
 * code stays free of logging (Oban's `with_span`, graphile's `safeEmit`).
 */
/** Calls that take long by design (a VACUUM of the tasks table after a large prune): not logged as slow. */
const LONG_BY_DESIGN = new Set(['taskVacuum']);

export class CallObserver {
  readonly #listeners = new Set<(call: EngineCall) => void>();
  readonly #log: Logger;
  readonly #slowMs: number;

  constructor(log: Logger, slowMs: number = DEFAULT_SLOW_CALL_MS) {
    this.#log = log;
    this.#slowMs = slowMs;
  }

  add(listener: (call: EngineCall) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  report(method: string, durationMs: number, error: unknown): void {
    const errorCode = error === undefined ? null : (((error as { code?: unknown } | null)?.code as string | undefined) ?? 'UNKNOWN');
    if (this.#listeners.size > 0) {
      const call: EngineCall = { method, durationMs, errorCode };
      for (const listener of this.#listeners) {
        try {
          listener(call);
        } catch (listenerError) {
          this.#log.warn({ err: listenerError, method }, 'an engine call listener failed');
        }
      }
    }
    if (errorCode !== null) {
      const fields = { method, durationMs: Math.round(durationMs), errorCode, err: error };
      if (CALLER_ERRORS.has(errorCode)) this.#log.debug(fields, 'engine call refused');
      else this.#log.warn(fields, 'engine call failed');
    } else if (durationMs > this.#slowMs && !LONG_BY_DESIGN.has(method)) {
      this.#log.warn({ method, durationMs: Math.round(durationMs) }, 'slow engine call');
    }
  }
}

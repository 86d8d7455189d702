import type { Logger } from '../core/logger.ts';
import type { Engine } from './engine.ts';

export interface EngineCall {
  method: string;
  durationMs: number;
  /** The error's code (`CONVEYOR_DATABASE_UNAVAILABLE`, ...) when the call failed. */
  errorCode: string | null;
}

export interface InstrumentOptions {
  logger: Logger;
  /** Called after every engine call, e.g. to feed a Prometheus histogram. */
  onCall?: (call: EngineCall) => void;
  /** Calls slower than this are logged at warn level (default 1000 ms). */
  slowMs?: number;
}

const UNWRAPPED = new Set(['kind', 'capabilities', 'listen', 'close']);

/**
 * Wraps every engine method once, so that metrics and logs about database calls come from one place
 * and the SQL code stays free of logging (Oban's `with_span`, graphile's `safeEmit`).
 */
export function instrumentEngine(engine: Engine, options: InstrumentOptions): Engine {
  const slowMs = options.slowMs ?? 1000;
  const log = options.logger.child({ component: 'engine', engine: engine.kind });
  return new Proxy(engine, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      // Engines keep private fields, so methods must run with the engine itself as `this`.
      if (typeof property !== 'string' || UNWRAPPED.has(property)) return value.bind(target);
      return async (...args: unknown[]) => {
        const started = performance.now();
        let errorCode: string | null = null;
        try {
          return await value.apply(target, args);
        } catch (error) {
          errorCode = (error as { code?: string }).code ?? 'UNKNOWN';
          throw error;
        } finally {
          const durationMs = performance.now() - started;
          options.onCall?.({ method: property, durationMs, errorCode });
          if (errorCode !== null) log.warn({ method: property, durationMs: Math.round(durationMs), errorCode }, 'engine call failed');
          else if (durationMs > slowMs) log.warn({ method: property, durationMs: Math.round(durationMs) }, 'slow engine call');
        }
      };
    },
  });
}

import { ConveyorError, type ErrorCode } from '../../core/errors.ts';

/** What the thread opens: the SQLite engine's own options, minus the logger (its lines cross as messages). */
export interface ThreadOptions {
  filename: string;
  busyTimeoutMs?: number | undefined;
}

/** Main thread -> SQLite thread. Calls of one turn travel together. */
export type MainMessage =
  | { type: 'calls'; calls: [id: number, method: string, params: unknown][] }
  | { type: 'listen'; id: number; subscription: number; kind: 'insert' | 'change' }
  | { type: 'unlisten'; id: number; subscription: number }
  | { type: 'close'; id: number };

/** SQLite thread -> main thread. The answers of one turn travel together. */
export type HostMessage =
  | { type: 'results'; results: [id: number, ok: boolean, value: unknown][] }
  | { type: 'event'; subscription: number; arg: unknown }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; bindings: Record<string, unknown>; obj: object; msg: string | undefined };

/** An error as it crosses: structured cloning keeps an Error's message, not its class or code. */
export interface ThreadError {
  name: string;
  message: string;
  stack: string | undefined;
  code: string | undefined;
  field: string | undefined;
  details: Record<string, unknown> | undefined;
  conveyor: boolean;
}

export function encodeThreadError(error: unknown): ThreadError {
  const e = error instanceof Error ? error : new Error(String(error));
  const conveyor = error instanceof ConveyorError;
  let details: Record<string, unknown> | undefined;
  if (conveyor && error.details !== undefined) {
    try {
      details = structuredClone(error.details);
    } catch {
      details = undefined;
    }
  }
  const code = (e as { code?: unknown }).code;
  return { name: e.name, message: e.message, stack: e.stack, code: typeof code === 'string' ? code : undefined, field: conveyor ? error.field : undefined, details, conveyor };
}

/** The error again, of its class where it was a ConveyorError; the thread's stack kept. */
export function decodeThreadError(encoded: ThreadError): Error {
  const error = encoded.conveyor
    ? new ConveyorError(encoded.code as ErrorCode, encoded.message, { ...(encoded.field === undefined ? {} : { field: encoded.field }), ...(encoded.details === undefined ? {} : { details: encoded.details }) })
    : Object.assign(new Error(encoded.message), encoded.code === undefined ? {} : { code: encoded.code });
  error.name = encoded.name;
  if (encoded.stack !== undefined) error.stack = encoded.stack;
  return error;
}

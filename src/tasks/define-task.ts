import type { TSchema, Static } from '@sinclair/typebox';
import type { JsonValue } from '../core/task.ts';
import type { TaskContext } from './task-context.ts';

export const DEFAULT_TASK_TIMEOUT_MS = 300_000;

/** A task type: its name, the payload it accepts, and the handler that does the work. */
export interface TaskDefinition<S extends TSchema = TSchema> {
  name: string;
  description: string;
  /** JSON Schema (TypeBox) of the payload; checked when a task is created and again before it runs. */
  payload: S;
  /** Example payloads, shown in the docs and the dashboard's form. */
  examples?: Static<S>[];
  /** The handler is aborted after this long (default 300 s). */
  timeoutMs?: number;
  /**
   * Where the handler runs. `inline` (the default): in the worker's own thread, the cheapest. `thread`:
   * in a worker thread of its own per attempt, for handlers that may block the CPU (parsing, image or
   * compression work, untrusted code) or end their process: a thread that blocks past its timeout is
   * terminated and its attempt fails, and `process.exit` ends only the thread, while the worker goes on
   * with its other tasks. A thread costs a few milliseconds and its own module loading per attempt;
   * payload, output, progress, logs and the abort cross as messages (JSON only). Needs `module`.
   */
  isolation?: 'inline' | 'thread';
  /**
   * The URL of the module that exports this definition (`module: import.meta.url`); the thread loads
   * the handler from it. Required with `isolation: 'thread'`.
   */
  module?: string;
  /** Returns the task's output (any JSON) or nothing. Throw PermanentTaskError for the dead letter. */
  handler(payload: Static<S>, context: TaskContext): Promise<JsonValue | void>;
}

/** Declares a task type; the payload type flows from the schema into the handler. */
export function defineTask<S extends TSchema>(definition: TaskDefinition<S>): TaskDefinition<S> {
  const { isolation, module } = definition;
  if (isolation !== undefined && isolation !== 'inline' && isolation !== 'thread') {
    throw new TypeError(`defineTask(${definition.name}): isolation must be "inline" or "thread", got ${JSON.stringify(isolation)}`);
  }
  if (isolation === 'thread' && (typeof module !== 'string' || !/^(file|data):/.test(module))) {
    throw new TypeError(`defineTask(${definition.name}): module must be the URL of the module that exports this definition (module: import.meta.url) when isolation is "thread"`);
  }
  return definition;
}

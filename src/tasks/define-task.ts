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
  /** Returns the task's output (any JSON) or nothing. Throw PermanentTaskError for the dead letter. */
  handler(payload: Static<S>, context: TaskContext): Promise<JsonValue | void>;
}

/** Declares a task type; the payload type flows from the schema into the handler. */
export function defineTask<S extends TSchema>(definition: TaskDefinition<S>): TaskDefinition<S> {
  return definition;
}

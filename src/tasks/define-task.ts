import type { TSchema, Static } from '@sinclair/typebox';
import { ConveyorError, ERROR_CODES, isConveyorError } from '../core/errors.ts';
import { TASK_TYPE_PATTERN } from '../core/new-task.ts';
import type { JsonValue } from '../core/task.ts';
import type { TaskContext } from './task-context.ts';
import { payloadCheck } from './payload-validator.ts';

export const DEFAULT_TASK_TIMEOUT_MS = 300_000;
/** setTimeout's ceiling (about 24.8 days); a longer timeout would fire at once. */
const MAX_TIMEOUT_MS = 2_147_483_647;

/** A task type: its name, the payload it accepts, and the handler that does the work. */
export interface TaskDefinition<S extends TSchema = TSchema> {
  name: string;
  /** Shown in `GET /tasks/types`, the dashboard and `conveyor types`; defineTask makes a missing one ''. */
  description: string;
  /** JSON Schema (TypeBox) of the payload; checked when a task is created and again before it runs. */
  payload: S;
  /** Example payloads, shown in the docs and the dashboard's form; each must match the schema. */
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

/** What defineTask() takes: a definition whose description may be left out. */
export type TaskDefinitionInput<S extends TSchema = TSchema> = Omit<TaskDefinition<S>, 'description'> & { description?: string };

/**
 * Declares a task type; the payload type flows from the schema into the handler. The definition is
 * checked here, where the mistake is made, rather than when a worker first registers it: a bad name,
 * a schema the validator cannot compile (an unknown format), an example that breaks the schema, a
 * handler that is not a function, a timeout that is not a positive number of milliseconds.
 */
export function defineTask<S extends TSchema>(definition: TaskDefinitionInput<S>): TaskDefinition<S> {
  return checkTaskDefinition(definition);
}

/** The definition with its defaults filled in, or a ConveyorError (CONVEYOR_VALIDATION) naming what is wrong. */
export function checkTaskDefinition<S extends TSchema>(definition: TaskDefinitionInput<S>): TaskDefinition<S> {
  if (definition === null || typeof definition !== 'object') throw definitionError('(unnamed)', 'definition', 'must be an object');
  const { name } = definition;
  if (typeof name !== 'string' || !TASK_TYPE_PATTERN.test(name)) {
    throw definitionError(String(name), 'name', 'must be 1-128 characters of letters, digits, _ . : - starting with a letter or digit');
  }
  const description = definition.description ?? '';
  if (typeof description !== 'string') throw definitionError(name, 'description', 'must be a string');
  if (typeof definition.handler !== 'function') throw definitionError(name, 'handler', 'must be a function');
  const { timeoutMs } = definition;
  if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS)) {
    throw definitionError(name, 'timeoutMs', `must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}`);
  }
  const { isolation, module } = definition;
  if (isolation !== undefined && isolation !== 'inline' && isolation !== 'thread') {
    throw definitionError(name, 'isolation', `must be "inline" or "thread", got ${JSON.stringify(isolation)}`);
  }
  if (isolation === 'thread' && (typeof module !== 'string' || !/^(file|data):/.test(module))) {
    throw definitionError(name, 'module', 'must be the URL of the module that exports this definition (module: import.meta.url) when isolation is "thread"');
  }
  if (definition.payload === null || typeof definition.payload !== 'object') throw definitionError(name, 'payload', 'must be a schema (Type.Object(...))');
  const check = rethrow(name, () => payloadCheck(definition.payload));
  if (definition.examples !== undefined) {
    if (!Array.isArray(definition.examples)) throw definitionError(name, 'examples', 'must be an array of payloads');
    for (const [index, example] of definition.examples.entries()) {
      const problem = check(example, `examples[${index}]`);
      if (problem) throw definitionError(name, problem.field, problem.message);
    }
  }
  return definition.description === description ? (definition as TaskDefinition<S>) : { ...definition, description };
}

function definitionError(name: string, field: string, message: string): ConveyorError {
  return new ConveyorError(ERROR_CODES.VALIDATION, `task type "${name}": ${field}: ${message}`, { field });
}

function rethrow<T>(name: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (isConveyorError(error)) throw definitionError(name, 'payload', error.message.replace(/^payload schema: /, ''));
    throw error;
  }
}

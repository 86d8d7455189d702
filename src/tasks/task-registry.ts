import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { validationError } from '../core/errors.ts';
import { TASK_TYPE_PATTERN } from '../core/new-task.ts';
import { describeSchemaError } from './schema-error.ts';
import { DEFAULT_TASK_TIMEOUT_MS, type TaskDefinition } from './define-task.ts';

interface Entry {
  definition: TaskDefinition;
  check: TypeCheck<TSchema>;
}

/** The task types a process knows, with their compiled payload validators. */
export class TaskRegistry {
  readonly #entries = new Map<string, Entry>();

  register(...definitions: TaskDefinition<any>[]): this {
    for (const definition of definitions) {
      if (!TASK_TYPE_PATTERN.test(definition.name)) throw validationError('name', `"${definition.name}" is not a valid task type name`);
      if (this.#entries.has(definition.name)) throw validationError('name', `task type "${definition.name}" is registered twice`);
      this.#entries.set(definition.name, { definition, check: TypeCompiler.Compile(definition.payload) });
    }
    return this;
  }

  get(name: string): TaskDefinition | undefined {
    return this.#entries.get(name)?.definition;
  }

  has(name: string): boolean {
    return this.#entries.has(name);
  }

  names(): string[] {
    return [...this.#entries.keys()].sort();
  }

  list(): TaskDefinition[] {
    return this.names().map((name) => this.#entries.get(name)!.definition);
  }

  timeoutMs(name: string): number {
    return this.get(name)?.timeoutMs ?? DEFAULT_TASK_TIMEOUT_MS;
  }

  /**
   * Throws a validation error naming the first offending field (`payload.to`) when the payload does
   * not match the type's schema.
   */
  validatePayload(name: string, payload: unknown, field = 'payload'): void {
    const entry = this.#entries.get(name);
    if (!entry) throw validationError('task_type', `"${name}" is not a registered task type; known: ${this.names().join(', ')}`);
    if (entry.check.Check(payload)) return;
    const { field: path, message } = describeSchemaError(entry.check.Errors(payload).First(), field);
    throw validationError(path, message);
  }
}

import { validationError } from '../core/errors.ts';
import { checkTaskDefinition, DEFAULT_TASK_TIMEOUT_MS, type TaskDefinition, type TaskDefinitionInput } from './define-task.ts';
import { payloadCheck, type PayloadCheck } from './payload-validator.ts';

interface Entry {
  definition: TaskDefinition;
  check: PayloadCheck;
}

/** The task types a process knows, with their compiled payload validators. */
export class TaskRegistry {
  readonly #entries = new Map<string, Entry>();

  /** Checks each definition as defineTask() does (so a plain object literal is held to the same rules). */
  register(...definitions: TaskDefinitionInput<any>[]): this {
    for (const input of definitions) {
      const definition = checkTaskDefinition(input);
      if (this.#entries.has(definition.name)) throw validationError('name', `task type "${definition.name}" is registered twice`);
      this.#entries.set(definition.name, { definition, check: payloadCheck(definition.payload) });
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
   * not match the type's schema (the one validator of src/tasks/payload-validator.ts).
   */
  validatePayload(name: string, payload: unknown, field = 'payload'): void {
    const entry = this.#entries.get(name);
    if (!entry) throw validationError('task_type', `"${name}" is not a registered task type; known: ${this.names().join(', ')}`);
    const problem = entry.check(payload, field);
    if (problem) throw validationError(problem.field, problem.message, problem.details);
  }
}

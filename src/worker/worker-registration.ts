import { hostname } from 'node:os';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { JsonObject, JsonValue } from '../core/task.ts';
import type { Engine, TaskTypeInfo } from '../store/engine.ts';
import type { TaskRegistry } from '../tasks/task-registry.ts';

/**
 * Tells the database who this worker is: the task types it handles (name, description, payload
 * schema, examples, timeout), and a periodic heartbeat (host, pid, concurrency, running count) that
 * the API and dashboard show. Removed again on a clean shutdown.
 */
export class WorkerRegistration {
  readonly #engine: Engine;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #registry: TaskRegistry;
  readonly #info: { id: string; concurrency: number; taskTypes: string[]; startedAt: Date };
  readonly #running: () => number;

  constructor(deps: { engine: Engine; clock: Clock; logger: Logger; registry: TaskRegistry; workerId: string; concurrency: number; taskTypes: string[]; running: () => number }) {
    this.#engine = deps.engine;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#registry = deps.registry;
    this.#info = { id: deps.workerId, concurrency: deps.concurrency, taskTypes: deps.taskTypes, startedAt: deps.clock.now() };
    this.#running = deps.running;
  }

  async registerTypes(): Promise<void> {
    for (const name of this.#info.taskTypes) {
      await this.#engine.typeRegister({ type: this.typeInfo(name), now: this.#clock.now() });
    }
    this.#logger.debug({ task_types: this.#info.taskTypes }, 'task types registered');
  }

  typeInfo(name: string): TaskTypeInfo {
    const definition = this.#registry.get(name);
    if (!definition) throw new Error(`task type ${name} is not registered`);
    return {
      name,
      description: definition.description,
      // A round trip through JSON drops TypeBox's symbol keys, leaving plain JSON Schema.
      payloadSchema: JSON.parse(JSON.stringify(definition.payload)) as JsonObject,
      examples: JSON.parse(JSON.stringify(definition.examples ?? [])) as JsonValue[],
      timeoutMs: this.#registry.timeoutMs(name),
    };
  }

  async heartbeat(): Promise<void> {
    await this.#engine.workerHeartbeat({
      worker: { ...this.#info, host: hostname(), pid: process.pid, running: this.#running() },
      now: this.#clock.now(),
    });
  }

  async remove(): Promise<void> {
    await this.#engine.workerRemove({ id: this.#info.id });
  }
}

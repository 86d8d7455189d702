import { hostname } from 'node:os';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { JsonObject, JsonValue } from '../core/task.ts';
import type { Engine, TaskTypeInfo } from '../store/engine.ts';
import type { TaskRegistry } from '../tasks/task-registry.ts';
import { WorkerService } from './worker-service.ts';

/**
 * Tells the database who this worker is: the task types it handles (name, description, payload
 * schema, examples, timeout), and a periodic heartbeat (host, pid, concurrency, running count) that
 * the API and dashboard show, every `heartbeatMs` while started. Removed again on a clean shutdown.
 */
export class WorkerRegistration extends WorkerService {
  protected readonly name = 'worker heartbeat';
  readonly #engine: Engine;
  readonly #registry: TaskRegistry;
  readonly #heartbeatMs: number;
  readonly #info: { id: string; concurrency: number; taskTypes: string[]; startedAt: Date };
  readonly #running: () => number;

  constructor(deps: {
    engine: Engine;
    clock: Clock;
    logger: Logger;
    registry: TaskRegistry;
    workerId: string;
    concurrency: number;
    taskTypes: string[];
    heartbeatMs: number;
    /** How many tasks run now, for the heartbeat. */
    running: () => number;
  }) {
    super(deps);
    this.#engine = deps.engine;
    this.#registry = deps.registry;
    this.#heartbeatMs = deps.heartbeatMs;
    this.#info = { id: deps.workerId, concurrency: deps.concurrency, taskTypes: deps.taskTypes, startedAt: deps.clock.now() };
    this.#running = deps.running;
  }

  async registerTypes(): Promise<void> {
    for (const name of this.#info.taskTypes) {
      await this.#engine.typeRegister({ type: this.typeInfo(name), now: this.clock.now() });
    }
    this.logger.debug({ task_types: this.#info.taskTypes }, 'task types registered');
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

  protected maxBackoffMs(): number {
    return this.#heartbeatMs;
  }

  protected override crashMessage(): string {
    return 'could not write the worker heartbeat; retrying';
  }

  /** A heartbeat every heartbeatMs; the first is the caller's (start writes one before the loop). */
  protected async loop(): Promise<void> {
    while (!this.stopping) {
      await this.wait(this.#heartbeatMs);
      if (this.stopping) return;
      await this.runOnce();
      this.recovered();
    }
  }

  /** One heartbeat. */
  async runOnce(): Promise<void> {
    await this.#engine.workerHeartbeat({
      worker: { ...this.#info, host: hostname(), pid: process.pid, running: this.#running() },
      now: this.clock.now(),
    });
  }

  /** The first heartbeat, then a change notification: open dashboards list the new worker at once, not at their next heartbeat. */
  async announce(): Promise<void> {
    await this.runOnce();
    await this.#engine.changeNotify();
  }

  async remove(): Promise<void> {
    await this.#engine.workerRemove({ id: this.#info.id });
  }
}

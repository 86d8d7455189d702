import type { Clock } from '../core/clock.ts';
import { validationError } from '../core/errors.ts';
import type { JsonObject, JsonValue } from '../core/task.ts';
import { payloadCheck } from './payload-validator.ts';
import type { TaskRegistry } from './task-registry.ts';

export interface CatalogEntry {
  name: string;
  description: string;
  payloadSchema: JsonObject | null;
  examples: JsonValue[];
  timeoutMs: number;
  /** Null for a type known only from this process's registry (no worker has registered it yet). */
  createdAt: Date | null;
  updatedAt: Date | null;
  lastSeenAt: Date | null;
}

/** Where the registered task types are read from: the engine's `typeList()` (the task_types rows workers wrote). */
export interface TaskTypeSource {
  typeList(): Promise<Array<Omit<CatalogEntry, 'createdAt' | 'updatedAt' | 'lastSeenAt'> & { createdAt: Date; updatedAt: Date; lastSeenAt: Date }>>;
}

interface Snapshot {
  at: number;
  entries: Map<string, CatalogEntry>;
}

/** On a miss, look again at most this often, so a stream of unknown types cannot hammer the database. */
const MISS_REFRESH_MS = 1_000;

/**
 * The task types a producer (the API, the CLI, the library client) accepts: those workers registered
 * in the database, plus any in this process's registry (so `conveyor start` accepts tasks before its
 * worker's first heartbeat). The list is read at most every `cacheMs`; payloads are checked by the one
 * payload validator (compiled checks are cached by schema), with the messages workers would give.
 *
 * `acceptWhenEmpty`: on a database where no worker has registered any type yet, accept any type
 * unchecked (the library client: an application may enqueue before its first worker ever ran).
 */
export class TaskTypeCatalog {
  readonly #engine: TaskTypeSource;
  readonly #clock: Clock;
  readonly #cacheMs: number;
  readonly #registry: TaskRegistry | undefined;
  readonly #acceptWhenEmpty: boolean;
  #snapshot: Snapshot | null = null;
  #loading: Promise<Snapshot> | null = null;

  constructor(p: { engine: TaskTypeSource; clock: Clock; cacheMs: number; registry?: TaskRegistry | undefined; acceptWhenEmpty?: boolean }) {
    this.#engine = p.engine;
    this.#clock = p.clock;
    this.#cacheMs = p.cacheMs;
    this.#registry = p.registry;
    this.#acceptWhenEmpty = p.acceptWhenEmpty ?? false;
  }

  async list(): Promise<CatalogEntry[]> {
    const snapshot = await this.#current(this.#cacheMs);
    return [...snapshot.entries.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Throws a validation error when the type is unknown (listing the known ones) or the payload does
   * not match its schema (naming the first offending field, e.g. `payload.to`).
   */
  async validate(taskType: string, payload: unknown, field = 'payload', typeField = 'task_type'): Promise<void> {
    await this.validateMany([{ taskType, payload }], () => ({ field, typeField }));
  }

  /**
   * `validate` for a batch: the list is read (or refreshed after a miss) once for all of them, then
   * each payload is checked synchronously, so a batch of thousands costs its checks and no more.
   * `fieldsOf(index)` names an item's fields (`tasks[3].payload`); it is called only for an item
   * that fails, so a valid batch builds no names.
   */
  async validateMany(items: readonly { taskType: string; payload: unknown }[], fieldsOf: (index: number) => { field: string; typeField: string }): Promise<void> {
    let snapshot = await this.#current(this.#cacheMs);
    if (items.some((item) => !snapshot.entries.has(item.taskType))) snapshot = await this.#current(MISS_REFRESH_MS);
    // No worker has registered any type yet: a client that accepts any type then checks nothing.
    if (this.#acceptWhenEmpty && snapshot.entries.size === 0) return;
    for (let i = 0; i < items.length; i++) this.#check(snapshot, items[i]!.taskType, items[i]!.payload, i, fieldsOf);
  }

  #check(snapshot: Snapshot, taskType: string, payload: unknown, index: number, fieldsOf: (index: number) => { field: string; typeField: string }): void {
    const entry = snapshot.entries.get(taskType);
    if (!entry) {
      const { typeField } = fieldsOf(index);
      const known = [...snapshot.entries.keys()].sort();
      const list = known.length > 0 ? known.join(', ') : 'none yet (start a worker to register its task types)';
      throw validationError(typeField, `"${taskType}" is not a registered task type; registered: ${list}`, { registered: known });
    }
    if (entry.payloadSchema === null) return;
    let check;
    try {
      check = payloadCheck(entry.payloadSchema);
    } catch (error) {
      // Only a schema written by another version of Conveyor gets here: defineTask() compiles every schema.
      throw validationError(fieldsOf(index).typeField, `"${taskType}" has a payload schema this process cannot check (${(error as Error).message})`);
    }
    if (check(payload) === null) return;
    const problem = check(payload, fieldsOf(index).field)!;
    throw validationError(problem.field, problem.message, problem.details);
  }

  async #current(maxAgeMs: number): Promise<Snapshot> {
    const age = this.#clock.now().getTime() - (this.#snapshot?.at ?? 0);
    // A clock that went backwards (a test, an NTP step) also refreshes.
    if (this.#snapshot && age >= 0 && age < maxAgeMs) return this.#snapshot;
    // Concurrent requests share one read.
    this.#loading ??= this.#load().finally(() => {
      this.#loading = null;
    });
    return this.#loading;
  }

  async #load(): Promise<Snapshot> {
    const entries = new Map<string, CatalogEntry>();
    for (const definition of this.#registry?.list() ?? []) {
      entries.set(definition.name, {
        name: definition.name,
        description: definition.description,
        payloadSchema: JSON.parse(JSON.stringify(definition.payload)) as JsonObject,
        examples: (definition.examples ?? []) as JsonValue[],
        timeoutMs: this.#registry!.timeoutMs(definition.name),
        createdAt: null,
        updatedAt: null,
        lastSeenAt: null,
      });
    }
    // The database wins: it holds what the running workers declared.
    for (const type of await this.#engine.typeList()) {
      entries.set(type.name, { ...type, createdAt: type.createdAt, updatedAt: type.updatedAt, lastSeenAt: type.lastSeenAt });
    }
    this.#snapshot = { at: this.#clock.now().getTime(), entries };
    return this.#snapshot;
  }
}

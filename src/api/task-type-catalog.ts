import type { Clock } from '../core/clock.ts';
import { validationError } from '../core/errors.ts';
import type { JsonObject, JsonValue } from '../core/task.ts';
import type { Engine } from '../store/engine.ts';
import type { TaskRegistry } from '../tasks/task-registry.ts';
import { compilePayloadSchema, type PayloadCheck } from './json-schema-check.ts';

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

interface Snapshot {
  at: number;
  entries: Map<string, CatalogEntry>;
}

/** On a miss, look again at most this often, so a stream of unknown types cannot hammer the database. */
const MISS_REFRESH_MS = 1_000;

/**
 * The task types the API accepts: those workers registered in the database, plus any in this
 * process's registry (so `conveyor start` accepts tasks before its worker's first heartbeat). The
 * list is read at most every `cacheMs`; compiled payload checks are kept while the schema is unchanged.
 */
export class TaskTypeCatalog {
  readonly #engine: Engine;
  readonly #clock: Clock;
  readonly #cacheMs: number;
  readonly #registry: TaskRegistry | undefined;
  readonly #checks = new Map<string, { schemaJson: string; check: PayloadCheck }>();
  #snapshot: Snapshot | null = null;
  #loading: Promise<Snapshot> | null = null;

  constructor(p: { engine: Engine; clock: Clock; cacheMs: number; registry?: TaskRegistry | undefined }) {
    this.#engine = p.engine;
    this.#clock = p.clock;
    this.#cacheMs = p.cacheMs;
    this.#registry = p.registry;
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
    let snapshot = await this.#current(this.#cacheMs);
    let entry = snapshot.entries.get(taskType);
    if (!entry) {
      snapshot = await this.#current(MISS_REFRESH_MS);
      entry = snapshot.entries.get(taskType);
    }
    if (!entry) {
      const known = [...snapshot.entries.keys()].sort();
      const list = known.length > 0 ? known.join(', ') : 'none yet (start a worker to register its task types)';
      throw validationError(typeField, `"${taskType}" is not a registered task type; registered: ${list}`, { registered: known });
    }
    if (entry.payloadSchema === null) return;
    const result = this.#check(entry)(payload);
    if (!result.ok) {
      const path = result.path ? `${field}${result.path.replaceAll('/', '.')}` : field;
      throw validationError(path, result.message);
    }
  }

  #check(entry: CatalogEntry): PayloadCheck {
    const schemaJson = JSON.stringify(entry.payloadSchema);
    const cached = this.#checks.get(entry.name);
    if (cached && cached.schemaJson === schemaJson) return cached.check;
    const check = compilePayloadSchema(entry.payloadSchema);
    this.#checks.set(entry.name, { schemaJson, check });
    return check;
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

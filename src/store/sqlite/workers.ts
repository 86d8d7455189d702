import type { TaskTypeInfo, TaskTypeRecord, WorkerInfo, WorkerRecord } from '../engine.ts';
import type { SqliteConnection } from './sqlite-connection.ts';
import { rowToTaskType, rowToWorker, type TaskTypeRow, type WorkerRow } from './sqlite-rows.ts';

/** Registered task types and live workers. */
export class WorkerStore {
  readonly #c: SqliteConnection;

  constructor(c: SqliteConnection) {
    this.#c = c;
  }

  async typeRegister(p: { type: TaskTypeInfo; now: Date }): Promise<void> {
    const params = {
      name: p.type.name,
      description: p.type.description,
      payloadSchema: p.type.payloadSchema === null ? null : JSON.stringify(p.type.payloadSchema),
      examples: JSON.stringify(p.type.examples),
      timeoutMs: p.type.timeoutMs,
      now: p.now.getTime(),
    };
    await this.#c.write('typeRegister', () => this.#c.prepare(TYPE_UPSERT).run(params));
  }

  typeList(): Promise<TaskTypeRecord[]> {
    return this.#c.run('typeList', () => (this.#c.prepare(TYPE_LIST).all() as TaskTypeRow[]).map(rowToTaskType));
  }

  async workerHeartbeat(p: { worker: WorkerInfo; now: Date }): Promise<void> {
    const w = p.worker;
    const params = {
      id: w.id,
      host: w.host,
      pid: w.pid,
      concurrency: w.concurrency,
      running: w.running,
      taskTypes: JSON.stringify(w.taskTypes),
      startedAt: w.startedAt.getTime(),
      now: p.now.getTime(),
    };
    await this.#c.write('workerHeartbeat', () => this.#c.prepare(WORKER_UPSERT).run(params));
  }

  workerList(): Promise<WorkerRecord[]> {
    return this.#c.run('workerList', () => (this.#c.prepare(WORKER_LIST).all() as WorkerRow[]).map(rowToWorker));
  }

  async workerRemove(p: { id: string }): Promise<void> {
    await this.#c.write('workerRemove', () => this.#c.prepare(WORKER_DELETE).run(p.id));
  }
}

const TYPE_UPSERT = `
  INSERT INTO task_types (name, description, payload_schema, examples, timeout_ms, created_at, updated_at, last_seen_at)
  VALUES (@name, @description, @payloadSchema, @examples, @timeoutMs, @now, @now, @now)
  ON CONFLICT (name) DO UPDATE SET
    updated_at = CASE
      WHEN task_types.description IS NOT excluded.description OR task_types.payload_schema IS NOT excluded.payload_schema
        OR task_types.examples IS NOT excluded.examples OR task_types.timeout_ms IS NOT excluded.timeout_ms
      THEN excluded.updated_at ELSE task_types.updated_at END,
    description = excluded.description, payload_schema = excluded.payload_schema, examples = excluded.examples,
    timeout_ms = excluded.timeout_ms, last_seen_at = excluded.last_seen_at`;

const TYPE_LIST = `SELECT * FROM task_types ORDER BY name`;

const WORKER_UPSERT = `
  INSERT INTO workers (id, host, pid, concurrency, running, task_types, started_at, last_heartbeat_at)
  VALUES (@id, @host, @pid, @concurrency, @running, @taskTypes, @startedAt, @now)
  ON CONFLICT (id) DO UPDATE SET
    host = excluded.host, pid = excluded.pid, concurrency = excluded.concurrency, running = excluded.running,
    task_types = excluded.task_types, started_at = excluded.started_at, last_heartbeat_at = excluded.last_heartbeat_at`;

const WORKER_LIST = `SELECT * FROM workers ORDER BY started_at, id`;

const WORKER_DELETE = `DELETE FROM workers WHERE id = ?`;

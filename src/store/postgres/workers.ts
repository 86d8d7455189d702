import type { TaskTypeInfo, TaskTypeRecord, WorkerInfo, WorkerRecord } from '../engine.ts';
import { type PostgresConnection, WORKER } from './postgres-connection.ts';
import { taskTypeFromRow, type TaskTypeRow, workerFromRow, type WorkerRow } from './record-rows.ts';
import { type SqlContext, TYPE_COLUMNS, WORKER_COLUMNS } from './sql-parts.ts';

/** Registered task types and live workers. */
export class WorkerStore {
  readonly #c: PostgresConnection;
  readonly #sql: ReturnType<typeof workersSql>;

  constructor(c: PostgresConnection) {
    this.#c = c;
    this.#sql = workersSql(c.sql);
  }

  async typeRegister(p: { type: TaskTypeInfo; now: Date }): Promise<void> {
    const { type } = p;
    await this.#c.run(
      'typeRegister',
      this.#sql.typeRegister,
      [type.name, type.description, type.payloadSchema === null ? null : JSON.stringify(type.payloadSchema), JSON.stringify(type.examples), type.timeoutMs, p.now],
      WORKER,
    );
  }

  async typeList(): Promise<TaskTypeRecord[]> {
    const { rows } = await this.#c.run<TaskTypeRow>('typeList', this.#sql.typeList, []);
    return rows.map(taskTypeFromRow);
  }

  async workerHeartbeat(p: { worker: WorkerInfo; now: Date }): Promise<void> {
    const { worker } = p;
    await this.#c.run(
      'workerHeartbeat',
      this.#sql.workerHeartbeat,
      [worker.id, worker.host, worker.pid, worker.concurrency, worker.running, JSON.stringify(worker.taskTypes), worker.startedAt, p.now],
      WORKER,
    );
  }

  async workerList(): Promise<WorkerRecord[]> {
    const { rows } = await this.#c.run<WorkerRow>('workerList', this.#sql.workerList, [], WORKER);
    return rows.map(workerFromRow);
  }

  async workerRemove(p: { id: string }): Promise<void> {
    await this.#c.run('workerRemove', this.#sql.workerRemove, [p.id], WORKER);
  }
}

function workersSql({ s, statement }: SqlContext) {
  return {
    // updated_at moves only when the definition changed; last_seen_at on every registration.
    typeRegister: statement('type_register', `
      INSERT INTO ${s}.task_types (${TYPE_COLUMNS})
      VALUES ($1::text, $2::text, $3::jsonb, $4::jsonb, $5::int, $6::timestamptz, $6::timestamptz, $6::timestamptz)
      ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description, payload_schema = EXCLUDED.payload_schema,
        examples = EXCLUDED.examples, timeout_ms = EXCLUDED.timeout_ms, last_seen_at = EXCLUDED.last_seen_at,
        updated_at = CASE
          WHEN (task_types.description, task_types.payload_schema, task_types.examples, task_types.timeout_ms)
               IS DISTINCT FROM (EXCLUDED.description, EXCLUDED.payload_schema, EXCLUDED.examples, EXCLUDED.timeout_ms)
          THEN EXCLUDED.updated_at ELSE task_types.updated_at END`),
    typeList: statement('type_list', `SELECT ${TYPE_COLUMNS} FROM ${s}.task_types ORDER BY name`),
    workerHeartbeat: statement('worker_heartbeat', `
      INSERT INTO ${s}.workers (${WORKER_COLUMNS})
      VALUES ($1::text, $2::text, $3::int, $4::int, $5::int, $6::jsonb, $7::timestamptz, $8::timestamptz)
      ON CONFLICT (id) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid, concurrency = EXCLUDED.concurrency,
        running = EXCLUDED.running, task_types = EXCLUDED.task_types, started_at = EXCLUDED.started_at,
        last_heartbeat_at = EXCLUDED.last_heartbeat_at`),
    workerList: statement('worker_list', `SELECT ${WORKER_COLUMNS} FROM ${s}.workers ORDER BY started_at, id`),
    workerRemove: statement('worker_remove', `DELETE FROM ${s}.workers WHERE id = $1::text`),
  };
}

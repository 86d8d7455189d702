import pg from 'pg';
import { ConveyorError, ERROR_CODES, validationError } from '../../core/errors.ts';
import type { NewTask } from '../../core/new-task.ts';
import type { TaskRecord } from '../../core/task.ts';
import type { EngineTransaction, TaskInsertResult } from '../engine.ts';
import { insertedTask } from '../shared/inserted-task.ts';
import type { PostgresConnection, Queryable } from './postgres-connection.ts';
import type { SqlContext } from './sql-parts.ts';
import { taskFromRow, type TaskRow } from './task-row.ts';

/** Rows per statement of a large insert batch (see #insertChunks). */
const INSERT_CHUNK_ROWS = 2000;

/** Producers: one task or a batch, in the engine's own statement or the application's transaction. */
export class InsertStore {
  readonly #c: PostgresConnection;
  readonly #sql: ReturnType<typeof insertSql>;

  constructor(c: PostgresConnection) {
    this.#c = c;
    this.#sql = insertSql(c.sql);
  }

  async taskInsert(p: { task: NewTask; tx?: EngineTransaction | null }): Promise<TaskInsertResult> {
    const [result] = await this.insertTasks('taskInsert', [p.task], p.tx);
    return result!;
  }

  async taskInsertMany(p: { tasks: NewTask[]; tx?: EngineTransaction | null }): Promise<TaskInsertResult[]> {
    return this.insertTasks('taskInsertMany', p.tasks, p.tx);
  }

  /**
   * One INSERT for the batch (a batch of more than INSERT_CHUNK_ROWS without idempotency keys goes in
   * chunks, in one transaction), with ON CONFLICT DO NOTHING when keys are given, then, only for keys
   * that were already taken, one SELECT of the tasks holding them. The records of new tasks are built
   * from what was written, so a batch costs no full-row read back.
   */
  async insertTasks(operation: string, tasks: NewTask[], tx: EngineTransaction | null | undefined): Promise<TaskInsertResult[]> {
    this.#c.assertOpen();
    if (tasks.length === 0) return [];
    const client = tx === undefined || tx === null ? this.#c.pool : asClient(tx);
    // The first task of the batch with a key is the one written; later ones with that key get it back.
    const firstWithKey = new Map<string, NewTask>();
    let toWrite: NewTask[] = [];
    tasks.forEach((task) => {
      if (task.idempotencyKey !== null) {
        if (firstWithKey.has(task.idempotencyKey)) return;
        firstWithKey.set(task.idempotencyKey, task);
      }
      toWrite.push(task);
    });

    const created = new Set<string>();
    const holders = new Map<string, TaskRecord>();
    // A key's holder is normally found at once; it can vanish between the two statements only if it
    // was deleted meanwhile, and then the key is free again: write once more.
    for (let round = 0; toWrite.length > 0; round++) {
      if (round === 3) throw new ConveyorError(ERROR_CODES.DATABASE, `${operation}: idempotency keys kept changing hands; try again`);
      if (firstWithKey.size === 0) {
        // No keys: every row is written or the statement fails, so nothing needs reading back.
        if (toWrite.length > INSERT_CHUNK_ROWS) {
          const rows = toWrite;
          await (client === this.#c.pool ? this.#c.transaction(operation, (own) => this.#insertChunks(operation, rows, own)) : this.#insertChunks(operation, rows, client));
        } else {
          const statement = toWrite.length === 1 ? this.#sql.taskInsertOnePlain : this.#sql.taskInsertManyPlain;
          await this.#c.run(operation, statement, toWrite.length === 1 ? insertOneValues(toWrite[0]!) : insertBatch(toWrite), client);
        }
        // Every task was written: no id set to build and look up, 5,000 times over.
        return tasks.map((task) => ({ task: insertedTask(task), created: true }));
      }
      const statement = toWrite.length === 1 ? this.#sql.taskInsertOne : this.#sql.taskInsertMany;
      const result = await this.#c.run<{ id: string }>(operation, statement, toWrite.length === 1 ? insertOneValues(toWrite[0]!) : insertBatch(toWrite), client);
      for (const row of result.rows) created.add(row.id);
      const taken = toWrite.filter((task) => !created.has(task.id));
      if (taken.length === 0) break;
      const keys = taken.map((task) => task.idempotencyKey!);
      const { rows } = await this.#c.run<TaskRow>(operation, this.#sql.taskGetByKeys, [keys], client);
      for (const row of rows) holders.set(row.idempotency_key!, taskFromRow(row));
      toWrite = taken.filter((task) => !holders.has(task.idempotencyKey!));
    }

    return tasks.map((task) => {
      if (created.has(task.id)) return { task: insertedTask(task), created: true };
      const first = firstWithKey.get(task.idempotencyKey!)!;
      if (created.has(first.id)) return { task: insertedTask(first), created: false };
      return { task: holders.get(task.idempotencyKey!)!, created: false };
    });
  }

  /**
   * A large batch as several statements in one transaction, each chunk's parameters built while the
   * database writes the one before: the worker's CPU and the database's overlap instead of taking
   * turns, which is most of what a bulk insert of many thousands costs.
   */
  async #insertChunks(operation: string, tasks: NewTask[], client: Queryable): Promise<void> {
    let writing: Promise<unknown> | null = null;
    for (let start = 0; start < tasks.length; start += INSERT_CHUNK_ROWS) {
      const values = insertBatch(tasks.slice(start, start + INSERT_CHUNK_ROWS));
      await writing;
      writing = this.#c.run(operation, this.#sql.taskInsertManyPlain, values, client);
    }
    await writing;
  }
}

function insertSql({ s, statement, taskColumns }: SqlContext) {
  const insertColumns = 'id, task_type, payload, status, priority_rank, retry_strategy, max_attempts, metadata, idempotency_key, created_by, created_at, updated_at, scheduled_at, run_at, breaker_scope';
  const onIdempotencyConflict = 'ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING';
  // A batch travels as one compact JSON array of arrays (see insertBatch): one parameter to encode and
  // parse, instead of thirteen text arrays whose every element pg must quote and PostgreSQL unquote.
  // What most rows share is sent once: $2 the batch's creation time; a row's null stands for it (and
  // for empty metadata, and run_at = created_at). Positions: 0 id,
  // 1 type, 2 payload, 3 status, 4 priority rank, 5 strategy, 6 max attempts, 7 metadata,
  // 8 idempotency key, 9 created by, 10 created at, 11 scheduled at, 12 run at, 13 breaker scope (left out when null).
  const insertFromJson = `
      SELECT (r->>0)::uuid, r->>1, r->2, r->>3, (r->>4)::smallint, r->5, (r->>6)::int,
        coalesce(nullif(r->7, 'null'::jsonb), '{}'::jsonb), r->>8, (r->>9)::uuid, c.created_at, c.created_at, (r->>11)::timestamptz,
        coalesce((r->>12)::timestamptz, (r->>11)::timestamptz, c.created_at), r->>13
      FROM jsonb_array_elements($1::jsonb) AS r
      CROSS JOIN LATERAL (SELECT coalesce((r->>10)::timestamptz, $2::timestamptz) AS created_at) AS c`;
  const oneRow = `VALUES ($1::uuid, $2::text, $3::jsonb, $4::text, $5::smallint, $6::jsonb, $7::int, $8::jsonb, $9::text, $10::uuid, $11::timestamptz, $11::timestamptz, $12::timestamptz, $13::timestamptz, $14::text)`;
  return {
    // With idempotency keys: a key already taken skips its row, and RETURNING says which were written.
    taskInsertOne: statement('task_insert_one', `INSERT INTO ${s}.tasks (${insertColumns}) ${oneRow} ${onIdempotencyConflict} RETURNING id`),
    taskInsertMany: statement('task_insert_many', `INSERT INTO ${s}.tasks (${insertColumns}) ${insertFromJson} ${onIdempotencyConflict} RETURNING id`),
    // Without keys nothing can be skipped (a duplicate id is an error), so every row is written and
    // neither the conflict check (a speculative insertion per row) nor RETURNING is needed.
    taskInsertOnePlain: statement('task_insert_one_plain', `INSERT INTO ${s}.tasks (${insertColumns}) ${oneRow}`),
    taskInsertManyPlain: statement('task_insert_many_plain', `INSERT INTO ${s}.tasks (${insertColumns}) ${insertFromJson}`),
    taskGetByKeys: statement('task_get_by_keys', `SELECT ${taskColumns} FROM ${s}.tasks WHERE idempotency_key = ANY($1::text[])`),
  };
}

/** The application's own client for a transactional insert: anything with pg's `query`. */
function asClient(tx: unknown): pg.ClientBase {
  if (typeof tx === 'object' && typeof (tx as { query?: unknown }).query === 'function') return tx as pg.ClientBase;
  throw validationError('tx', 'must be a pg client (pg.Client or a pooled client) with a transaction open');
}

/** The parameters of taskInsertOne / taskInsertOnePlain. */
function insertOneValues(t: NewTask): unknown[] {
  return [t.id, t.taskType, t.payloadJson, t.status, t.priorityRank, t.retryStrategyJson, t.maxAttempts, t.metadataJson, t.idempotencyKey, t.createdBy, t.createdAt, t.scheduledAt, t.runAt, t.breakerScope];
}

/**
 * A batch as the parameters of taskInsertMany: one compact JSON array of arrays (the positions are
 * listed with the SQL) and the batch's creation time. The JSON of payload,
 * strategy and metadata was made once by newTask and is spliced in as it is; what most rows share
 * is left out of them (null), so 5,000 tasks are a fifth of the bytes to send and parse.
 */
function insertBatch(tasks: NewTask[]): unknown[] {
  const createdAt = tasks[0]!.createdAt;
  const createdMs = createdAt.getTime();
  const parts = new Array<string>(tasks.length);
  for (let i = 0; i < tasks.length; i++) {
    const t = tasks[i]!;
    const ownCreated = t.createdAt.getTime() !== createdMs;
    const metadata = t.metadataJson === '{}' ? 'null' : t.metadataJson;
    const scheduled = t.scheduledAt === null ? 'null' : `"${t.scheduledAt.toISOString()}"`;
    // run_at is the schedule, or else the creation time: sent only when it is neither.
    const runAtMs = t.runAt.getTime();
    const runAt = runAtMs === (t.scheduledAt === null ? t.createdAt.getTime() : t.scheduledAt.getTime()) ? 'null' : `"${t.runAt.toISOString()}"`;
    parts[i] =
      `["${t.id}",${JSON.stringify(t.taskType)},${t.payloadJson},"${t.status}",${t.priorityRank},${t.retryStrategyJson},${t.maxAttempts},${metadata},` +
      `${t.idempotencyKey === null ? 'null' : JSON.stringify(t.idempotencyKey)},${t.createdBy === null ? 'null' : JSON.stringify(t.createdBy)},` +
      `${ownCreated ? `"${t.createdAt.toISOString()}"` : 'null'},${scheduled},${runAt}${t.breakerScope === null ? '' : `,${JSON.stringify(t.breakerScope)}`}]`;
  }
  return [`[${parts.join(',')}]`, createdAt];
}

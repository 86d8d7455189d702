/**
 * The benchmark's direct hand on a Conveyor database, for what the product has no call for: marking a
 * batch of just-inserted tasks finished in one set-based statement (the history builder), the table's
 * size, and the row counts the stats are checked against. Everything else goes through the product.
 */
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Location } from '../systems/system.ts';
import type { FinishedRow } from './history-rows.ts';

export interface TableSize {
  /** PostgreSQL: pg_total_relation_size(tasks); SQLite: the database file plus its WAL. */
  totalBytes: number;
  /** PostgreSQL: the heap (with TOAST); SQLite: the whole database's pages in use (page_count - freelist_count) times the page size. */
  tableBytes: number;
  /** PostgreSQL: pg_indexes_size(tasks); SQLite: null. */
  indexBytes: number | null;
  /** SQLite's free pages (left by deletes until a VACUUM); PostgreSQL: null. */
  freelistPages: number | null;
  /** PostgreSQL: each index of tasks by name, bytes (which one grows, if the total does); SQLite: null. */
  indexes: Record<string, number> | null;
}

export interface HistoryStore {
  finish(rows: readonly FinishedRow[]): Promise<number>;
  /** Reclaims the dead row versions the finishing left (PostgreSQL's VACUUM FULL, ANALYZE; a WAL checkpoint on SQLite). */
  settle(): Promise<void>;
  size(): Promise<TableSize>;
  countsByStatus(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export async function openHistoryStore(location: Location): Promise<HistoryStore> {
  if (location.kind === 'postgres') return PostgresHistory.open(location.url, location.schema);
  if (location.kind === 'sqlite') return new SqliteHistory(location.file);
  throw new Error('Conveyor runs on PostgreSQL or SQLite');
}

const columns = (rows: readonly FinishedRow[]) => [
  rows.map((r) => r.id),
  rows.map((r) => r.status),
  rows.map((r) => r.createdMs),
  rows.map((r) => r.startedMs),
  rows.map((r) => r.completedMs),
  rows.map((r) => r.output),
  rows.map((r) => r.error),
];

class PostgresHistory implements HistoryStore {
  readonly #client: pg.Client;
  readonly #s: string;

  private constructor(client: pg.Client, schema: string) {
    this.#client = client;
    this.#s = schema;
  }

  static async open(url: string, schema: string): Promise<PostgresHistory> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return new PostgresHistory(client, schema);
  }

  async finish(rows: readonly FinishedRow[]): Promise<number> {
    const ts = (column: string) => `to_timestamp(v.${column} / 1000.0)`;
    const result = await this.#client.query(
      `UPDATE ${this.#s}.tasks t SET status = v.status,
              current_attempt = CASE v.status WHEN 'cancelled' THEN 0 WHEN 'failed' THEN t.max_attempts ELSE 1 END,
              created_at = ${ts('created')}, run_at = ${ts('created')}, updated_at = ${ts('completed')},
              started_at = ${ts('started')}, completed_at = ${ts('completed')},
              worker_id = CASE WHEN v.started IS NULL THEN NULL ELSE 'history-worker' END,
              output = v.output::jsonb, last_error = v.error
         FROM unnest($1::uuid[], $2::text[], $3::float8[], $4::float8[], $5::float8[], $6::text[], $7::text[])
              AS v(id, status, created, started, completed, output, error)
        WHERE t.id = v.id AND t.status = 'pending'`,
      columns(rows),
    );
    return result.rowCount ?? 0;
  }

  async settle(): Promise<void> {
    // Rewritten compact: finishing each batch left a dead version of every row, and a plain VACUUM
    // would leave half of every page free, so new tasks would be written all over the history (cold
    // pages) instead of at its end as in a history that grew task by task.
    await this.#client.query(`VACUUM (FULL) ${this.#s}.tasks`);
    // A full vacuum leaves the visibility map empty: the plain one sets it, so index-only scans (the
    // lists' capped counts) skip the heap as they would once autovacuum had passed.
    await this.#client.query(`VACUUM (ANALYZE) ${this.#s}.tasks`);
  }

  async size(): Promise<TableSize> {
    const { rows } = await this.#client.query<{ total: string; heap: string; indexes: string }>(
      `SELECT pg_total_relation_size($1) AS total, pg_table_size($1) AS heap, pg_indexes_size($1) AS indexes`,
      [`${this.#s}.tasks`],
    );
    const each = await this.#client.query<{ name: string; bytes: string }>(
      `SELECT i.indexrelid::regclass::text AS name, pg_relation_size(i.indexrelid) AS bytes FROM pg_index i WHERE i.indrelid = $1::regclass ORDER BY 1`,
      [`${this.#s}.tasks`],
    );
    const row = rows[0]!;
    const indexes = Object.fromEntries(each.rows.map((index) => [index.name.slice(index.name.lastIndexOf('.') + 1), Number(index.bytes)]));
    return { totalBytes: Number(row.total), tableBytes: Number(row.heap), indexBytes: Number(row.indexes), freelistPages: null, indexes };
  }

  async countsByStatus(): Promise<Record<string, number>> {
    const { rows } = await this.#client.query<{ status: string; n: string }>(`SELECT status, count(*) AS n FROM ${this.#s}.tasks GROUP BY status`);
    return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]));
  }

  async close(): Promise<void> {
    await this.#client.end();
  }
}

class SqliteHistory implements HistoryStore {
  readonly #db: Database.Database;
  readonly #file: string;
  readonly #finish: Database.Statement;

  constructor(file: string) {
    this.#file = file;
    this.#db = new Database(file);
    this.#db.pragma('busy_timeout = 30000');
    const at = (n: number) => `json_extract(j.value, '$[${n}]')`;
    this.#finish = this.#db.prepare(
      `UPDATE tasks SET status = v.status,
              current_attempt = CASE v.status WHEN 'cancelled' THEN 0 WHEN 'failed' THEN tasks.max_attempts ELSE 1 END,
              created_at = v.created, run_at = v.created, updated_at = v.completed, started_at = v.started, completed_at = v.completed,
              worker_id = CASE WHEN v.started IS NULL THEN NULL ELSE 'history-worker' END,
              output = v.output, last_error = v.error
         FROM (SELECT ${at(0)} AS id, ${at(1)} AS status, ${at(2)} AS created, ${at(3)} AS started, ${at(4)} AS completed, ${at(5)} AS output, ${at(6)} AS error
                 FROM json_each(?) AS j) AS v
        WHERE tasks.id = v.id AND tasks.status = 'pending'`,
    );
  }

  async finish(rows: readonly FinishedRow[]): Promise<number> {
    const tuples = rows.map((r) => [r.id, r.status, r.createdMs, r.startedMs, r.completedMs, r.output, r.error]);
    return this.#finish.run(JSON.stringify(tuples)).changes;
  }

  async settle(): Promise<void> {
    this.#db.pragma('wal_checkpoint(TRUNCATE)');
  }

  async size(): Promise<TableSize> {
    const pageSize = Number(this.#db.pragma('page_size', { simple: true }));
    const pages = Number(this.#db.pragma('page_count', { simple: true }));
    const free = Number(this.#db.pragma('freelist_count', { simple: true }));
    const bytes = (path: string) => {
      try {
        return statSync(path).size;
      } catch {
        return 0;
      }
    };
    return { totalBytes: bytes(this.#file) + bytes(`${this.#file}-wal`), tableBytes: (pages - free) * pageSize, indexBytes: null, freelistPages: free, indexes: null };
  }

  async countsByStatus(): Promise<Record<string, number>> {
    const rows = this.#db.prepare('SELECT status, count(*) AS n FROM tasks GROUP BY status').all() as { status: string; n: number }[];
    return Object.fromEntries(rows.map((row) => [row.status, row.n]));
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}

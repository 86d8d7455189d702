import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

/** The PostgreSQL the benchmarks use: BENCH_DATABASE_URL, else the machine's local server. */
export const BENCH_POSTGRES = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The Redis BullMQ uses: BENCH_REDIS_URL, else the machine's local server. */
export const BENCH_REDIS = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A fresh schema for one benchmark run, so runs never see each other's rows. */
export function benchPostgresUrl(): { url: string; schema: string } {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const url = new URL(BENCH_POSTGRES);
  url.searchParams.set('schema', schema);
  return { url: url.toString(), schema };
}

export async function dropPostgresSchema(schema: string): Promise<void> {
  await withAdmin((client) => client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
}

/**
 * A fresh database for one system's run. Each system gets its own so that pg_stat_database counts
 * only that system's transactions (other processes use the shared `test` database meanwhile), and so
 * that LISTEN/NOTIFY channels, which are per database, cannot cross between systems.
 */
export async function createBenchDatabase(label: string): Promise<{ name: string; url: string }> {
  const name = `bench_${label.replace(/[^a-z0-9]/g, '_')}_${randomBytes(3).toString('hex')}`;
  await withAdmin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(BENCH_POSTGRES);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

/**
 * Drops a benchmark database. Pools that were closed may still be saying goodbye: give them a moment,
 * then force out whatever is left (a leaked connection then sees a termination error).
 */
export async function dropBenchDatabase(name: string): Promise<void> {
  for (let tries = 0; tries < 40 && (await databaseConnections(name)) > 0; tries++) await sleep(50);
  await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

/** Committed plus rolled-back transactions of one database, as the statistics collector has them now. */
export async function databaseTransactions(name: string): Promise<number> {
  return withAdmin(async (client) => {
    const { rows } = await client.query<{ n: string | null }>('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1', [name]);
    return Number(rows[0]?.n ?? 0);
  });
}

/** The server's current WAL insert position (cluster-wide: every database's writes move it). */
export async function walPosition(): Promise<string> {
  return withAdmin(async (client) => {
    const { rows } = await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    return rows[0]!.lsn;
  });
}

/** Bytes of WAL written from one position to a later one (pg_wal_lsn_diff). */
export async function walBytesBetween(from: string, to: string): Promise<number> {
  return withAdmin(async (client) => {
    const { rows } = await client.query<{ n: string }>('SELECT pg_wal_lsn_diff($2::pg_lsn, $1::pg_lsn) AS n', [from, to]);
    return Number(rows[0]!.n);
  });
}

/**
 * Bytes of the WAL records from one position to a later one that touch a block of one database's
 * relations (full-page images included), read with pg_walinspect; null when the server has not that
 * extension. Records without a block (commits) are left out: a batching worker commits rarely.
 */
export async function databaseWalBytesBetween(database: string, from: string, to: string): Promise<number | null> {
  return withDatabase(database, async (client) => {
    try {
      await client.query('CREATE EXTENSION IF NOT EXISTS pg_walinspect');
      const { rows } = await client.query<{ n: string }>(
        `SELECT coalesce(sum(record_length), 0) AS n FROM pg_get_wal_records_info($1::pg_lsn, $2::pg_lsn)
          WHERE block_ref ~ ('rel \\d+/' || (SELECT oid FROM pg_database WHERE datname = current_database()) || '/')`,
        [from, to],
      );
      return Number(rows[0]!.n);
    } catch {
      return null;
    }
  });
}

/** Row writes to the tables of one schema of one database, summed over its tables (pg_stat_user_tables). */
export interface TableWrites {
  inserted: number;
  updated: number;
  /** Of `updated`, those that were heap-only (HOT): no new index entries. */
  hotUpdated: number;
  deleted: number;
}

/**
 * The row writes the statistics system has for a schema's tables. Flush the writers' pending
 * statistics first (pg-clients.ts), or this lags by up to 10 s.
 */
export async function tableWrites(database: string, schema: string): Promise<TableWrites> {
  return withDatabase(database, async (client) => {
    const { rows } = await client.query<Record<keyof TableWrites, string | null>>(
      `SELECT sum(n_tup_ins) AS inserted, sum(n_tup_upd) AS updated, sum(n_tup_hot_upd) AS "hotUpdated", sum(n_tup_del) AS deleted
         FROM pg_stat_user_tables WHERE schemaname = $1`,
      [schema],
    );
    const row = rows[0];
    return { inserted: Number(row?.inserted ?? 0), updated: Number(row?.updated ?? 0), hotUpdated: Number(row?.hotUpdated ?? 0), deleted: Number(row?.deleted ?? 0) };
  });
}

/**
 * Statement calls recorded by pg_stat_statements for one database, or null when the extension is
 * not loaded by the server (it must be in shared_preload_libraries; a plain PostgreSQL has not).
 */
export async function databaseStatements(name: string): Promise<number | null> {
  return withAdmin(async (client) => {
    const preload = await client.query<{ setting: string }>("SELECT current_setting('shared_preload_libraries') AS setting");
    if (!preload.rows[0]?.setting.includes('pg_stat_statements')) return null;
    try {
      await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
      const { rows } = await client.query<{ n: string | null }>(
        'SELECT sum(calls) AS n FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = $1',
        [name],
      );
      return Number(rows[0]?.n ?? 0);
    } catch {
      return null;
    }
  });
}

/** Connections other sessions hold to one database (to wait until a stopped worker has really left). */
export async function databaseConnections(name: string): Promise<number> {
  return withAdmin(async (client) => {
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
    return rows[0]?.n ?? 0;
  });
}

/** Clock ticks per second of /proc/<pid>/stat's CPU times (USER_HZ: 100 on every Linux Node supports). */
const TICKS_PER_SECOND = 100;

/** CPU time (ms, user + system) used so far by each server process of a store, by pid. */
export type ServerCpuSample = Map<string, number>;

/**
 * The CPU time of each server process of a store on this machine (`postgres` backends, or
 * `redis-server`), or null when that server is not local (or there is no /proc). Two samples around a
 * workload give what it cost the server, whatever drove it (see serverCpuBetween).
 */
export function sampleServerCpu(store: 'postgres' | 'redis'): ServerCpuSample | null {
  const host = new URL(store === 'postgres' ? BENCH_POSTGRES : BENCH_REDIS).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]', ''].includes(host)) return null;
  const processName = store === 'postgres' ? 'postgres' : 'redis-server';
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return null;
  }
  const sample: ServerCpuSample = new Map();
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    // The name is in parentheses and may hold spaces; the fields after it are space-separated.
    const close = stat.lastIndexOf(')');
    if (stat.slice(stat.indexOf('(') + 1, close) !== processName) continue;
    const fields = stat.slice(close + 2).split(' ');
    sample.set(pid, ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND);
  }
  return sample.size > 0 ? sample : null;
}

/**
 * Server CPU (ms) spent between two samples: each process's growth, a process that started meanwhile
 * counting whole. A process that ended meanwhile has no second reading and is left out, so the
 * figure can only err low, never below zero.
 */
export function serverCpuBetween(before: ServerCpuSample, after: ServerCpuSample): number {
  let total = 0;
  for (const [pid, ms] of after) total += Math.max(0, ms - (before.get(pid) ?? 0));
  return total;
}

export async function postgresVersion(): Promise<string> {
  return withAdmin(async (client) => {
    const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return rows[0]?.v ?? 'unknown';
  });
}

/** Runs `fn` on a short-lived connection to the shared database (never to a benchmark database). */
async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  return withDatabase(null, fn);
}

/** Runs `fn` on a short-lived connection to one database of the bench server (null: the shared one). */
async function withDatabase<T>(database: string | null, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const url = new URL(BENCH_POSTGRES);
  if (database !== null) url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

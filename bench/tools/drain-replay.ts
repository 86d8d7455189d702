/**
 * Diagnostic: a drain's statements replayed on PostgreSQL without a worker, so that what the database
 * spends per task can be read apart from the worker's own CPU and from its timing. N tasks are
 * inserted (each design's own way), then claimed 250 at a time and completed 250 at a time, with
 * about 500 claimed and not yet completed, as a worker with a prefetch queue runs them. By default
 * one statement after the other on one connection; with `--overlap` the completions go on a second
 * connection while the next claim runs, as a worker sends them. Reports the server's CPU (all its
 * processes, from /proc: run it on a quiet machine), the WAL and the share of heap-only updates, per task.
 *
 *   node --import tsx bench/tools/drain-replay.ts [conveyor|graphile-worker|record-and-queue] [tasks] [--overlap]
 *
 * - `conveyor`: the product's migrations, insert (enqueueMany), claim and batched completion, with the
 *   worker connections' planner settings.
 * - `graphile-worker`: its migrations and addJobs; the claim (lock up to 250 available jobs, then set
 *   their lock) and the completion (delete by id) are written here as graphile-worker runs them.
 * - `record-and-queue`: a design measured for issue 17, not the product. Each task's record (the
 *   `tasks` columns) is written at insert and once more at its end, and no index of it names a column
 *   that changes, so that the end is a heap-only update when the page has room (FILLFACTOR=<n>, default
 *   50); waiting and running live in a narrow queue table (the claim updates it, the completion deletes
 *   from it). The history reads would need other indexes than today's (finished time, status).
 */
import pg from 'pg';
import { makeWorkerUtils, runMigrations } from 'graphile-worker';
import { ConveyorClient } from '../../src/client/conveyor-client.ts';
import { claimSql } from '../../src/store/postgres/claim.ts';
import { finishSql } from '../../src/store/postgres/finish.ts';
import { WORKER_PLANNER_SETTINGS } from '../../src/store/postgres/postgres-connection.ts';
import { sqlContext } from '../../src/store/postgres/sql-parts.ts';
import { createBenchDatabase, dropBenchDatabase, sampleServerCpu, serverCpuBetween } from '../bench-databases.ts';

const BATCH = 250;
const AHEAD = 500;

interface Design {
  /** Creates the tables and inserts `tasks` ready tasks. */
  setup(url: string, db: pg.Client, tasks: number): Promise<void>;
  /** Claims up to BATCH tasks: their ids and attempt numbers. */
  claim(db: pg.Client): Promise<{ id: string; attempt: number }[]>;
  /** Completes these claimed tasks; answers how many it completed. */
  complete(db: pg.Client, batch: readonly { id: string; attempt: number }[]): Promise<number>;
}

const WORKER_ID = 'replay';
const lease = () => {
  const now = new Date();
  return { now, until: new Date(now.getTime() + 60_000) };
};

const conveyorDesign = (): Design => {
  const ctx = sqlContext('conveyor');
  const claim = claimSql(ctx).taskClaim;
  const complete = finishSql(ctx).taskCompleteMany;
  return {
    async setup(url, _db, tasks) {
      const client = await ConveyorClient.open({ databaseUrl: `${url}?schema=conveyor` });
      for (let i = 0; i < tasks; i += 5000) {
        await client.enqueueMany(Array.from({ length: Math.min(5000, tasks - i) }, (_, k) => ({ taskType: 'work', payload: { w: 'p', i: i + k, t: 0 } })));
      }
      await client.close();
    },
    async claim(db) {
      const { now, until } = lease();
      const { rows } = await db.query<{ id: string; current_attempt: number }>({ ...claim, values: [now, ['work'], BATCH, WORKER_ID, until, BATCH] });
      return rows.map((row) => ({ id: row.id, attempt: row.current_attempt }));
    },
    async complete(db, batch) {
      const { rowCount } = await db.query({ ...complete, values: [batch.map((b) => b.id), batch.map((b) => b.attempt), [WORKER_ID], [], batch.map(() => Date.now())] });
      return rowCount ?? 0;
    },
  };
};

const graphileDesign = (): Design => {
  const CLAIM = `
    WITH j AS (
      SELECT id FROM gw._private_jobs AS jobs
      WHERE is_available = true AND run_at <= now() AND task_id = $1::int AND job_queue_id IS NULL
      ORDER BY priority ASC, run_at ASC LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)
    UPDATE gw._private_jobs AS jobs SET attempts = jobs.attempts + 1, locked_by = $2::text, locked_at = now()
    FROM j WHERE jobs.id = j.id RETURNING jobs.id, jobs.attempts`;
  const COMPLETE = 'DELETE FROM gw._private_jobs AS jobs USING unnest($1::bigint[]) AS n(n) WHERE id = n';
  let taskId = 0;
  return {
    async setup(url, db, tasks) {
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      pool.on('error', () => {});
      await runMigrations({ pgPool: pool, schema: 'gw' });
      const utils = await makeWorkerUtils({ pgPool: pool, schema: 'gw' });
      for (let i = 0; i < tasks; i += 5000) await utils.addJobs(Array.from({ length: Math.min(5000, tasks - i) }, (_, k) => ({ identifier: 'work', payload: { w: 'p', i: i + k, t: 0 } })));
      await utils.release();
      await pool.end();
      taskId = (await db.query<{ id: number }>(`SELECT id FROM gw._private_tasks WHERE identifier = 'work'`)).rows[0]!.id;
    },
    async claim(db) {
      const { rows } = await db.query<{ id: string; attempts: number }>({ name: 'gw_claim', text: CLAIM, values: [taskId, WORKER_ID] });
      return rows.map((row) => ({ id: row.id, attempt: row.attempts }));
    },
    async complete(db, batch) {
      const { rowCount } = await db.query({ name: 'gw_complete', text: COMPLETE, values: [batch.map((b) => b.id)] });
      return rowCount ?? 0;
    },
  };
};

const recordAndQueueDesign = (fillfactor: number): Design => {
  const CLAIM = `
    WITH picked AS (
      SELECT id FROM queue WHERE state = 0 AND run_at <= $1 AND task_type = ANY($2::text[])
      ORDER BY priority_rank, run_at, id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED),
    taken AS (
      UPDATE queue q SET state = 1, attempt = q.attempt + 1, worker_id = $3, started_at = $1, lease_expires_at = $4
      FROM picked WHERE q.id = picked.id RETURNING q.id, q.attempt)
    SELECT t.id, taken.attempt, t.task_type, t.payload, t.priority_rank, t.run_at, t.max_attempts, t.metadata, t.idempotency_key, t.created_by, t.created_at
    FROM taken JOIN tasks t ON t.id = taken.id`;
  const COMPLETE = `
    WITH c AS MATERIALIZED (SELECT * FROM unnest($1::uuid[], $2::int[], $3::bigint[]) AS c(id, attempt, finished_ms)),
    done AS (
      DELETE FROM queue q USING c WHERE q.id = c.id AND q.state = 1 AND q.attempt = c.attempt AND q.worker_id = $4
      RETURNING q.id, q.attempt, q.worker_id, q.started_at, 'epoch'::timestamptz + c.finished_ms * interval '1 millisecond' AS finished_at)
    UPDATE tasks t SET status = 'completed', completed_at = done.finished_at, updated_at = done.finished_at,
      current_attempt = done.attempt, worker_id = done.worker_id, started_at = done.started_at
    FROM done WHERE t.id = done.id`;
  return {
    async setup(url, db, tasks) {
      // The product's tasks table (its columns, defaults and checks, from its migrations), without its indexes; then the design's own.
      await conveyorDesign().setup(url, db, 0);
      await db.query(`
        CREATE TABLE tasks (LIKE conveyor.tasks INCLUDING DEFAULTS INCLUDING CONSTRAINTS) WITH (fillfactor = ${fillfactor});
        ALTER TABLE tasks ADD PRIMARY KEY (id);
        DROP TABLE conveyor.tasks CASCADE;
        CREATE UNIQUE INDEX tasks_idempotency_key ON tasks (idempotency_key) WHERE idempotency_key IS NOT NULL;
        CREATE INDEX tasks_created_by_idx ON tasks (created_by, id) WHERE created_by IS NOT NULL;
        CREATE INDEX tasks_type_idx ON tasks (task_type, id);
        CREATE TABLE queue (
          id uuid PRIMARY KEY, task_type text NOT NULL, priority_rank smallint NOT NULL, run_at timestamptz NOT NULL, owner uuid,
          state smallint NOT NULL DEFAULT 0, attempt integer NOT NULL DEFAULT 0, worker_id text, started_at timestamptz, lease_expires_at timestamptz);
        CREATE INDEX queue_ready_idx ON queue (priority_rank, run_at, id) WHERE state = 0;
        CREATE INDEX queue_fair_ready_idx ON queue (coalesce(owner, '00000000-0000-0000-0000-000000000000'::uuid), priority_rank, run_at, id) WHERE state = 0;
        CREATE INDEX queue_lease_idx ON queue (lease_expires_at) WHERE state = 1;`);
      // UUIDv7-like ids in insertion order, as the product makes them.
      await db.query(
        `INSERT INTO tasks (id, task_type, payload, status, priority_rank, retry_strategy, max_attempts, created_at, updated_at, run_at)
         SELECT (lpad(to_hex((extract(epoch FROM now()) * 1000)::bigint), 12, '0') || '7' || lpad(to_hex(n), 19, '0'))::uuid, 'work',
                jsonb_build_object('w', 'p', 'i', n, 't', 0), 'pending', 2, '{}', 3, now(), now(), now()
         FROM generate_series(1, $1::int) AS n`,
        [tasks],
      );
      await db.query('INSERT INTO queue (id, task_type, priority_rank, run_at) SELECT id, task_type, priority_rank, run_at FROM tasks');
    },
    async claim(db) {
      const { now, until } = lease();
      const { rows } = await db.query<{ id: string; attempt: number }>({ name: 'rq_claim', text: CLAIM, values: [now, ['work'], WORKER_ID, until] });
      return rows.map((row) => ({ id: row.id, attempt: row.attempt }));
    },
    async complete(db, batch) {
      const { rowCount } = await db.query({ name: 'rq_complete', text: COMPLETE, values: [batch.map((b) => b.id), batch.map((b) => b.attempt), batch.map(() => Date.now()), WORKER_ID] });
      return rowCount ?? 0;
    },
  };
};

const args = process.argv.slice(2);
const overlap = args.includes('--overlap');
const [name = 'conveyor', tasksArg = '20000'] = args.filter((arg) => !arg.startsWith('--'));
const tasks = Number(tasksArg);
const designs: Record<string, () => Design> = {
  conveyor: conveyorDesign,
  'graphile-worker': graphileDesign,
  'record-and-queue': () => recordAndQueueDesign(Number(process.env.FILLFACTOR ?? 50)),
};
const design = designs[name]?.();
if (!design) throw new Error(`usage: drain-replay.ts [${Object.keys(designs).join('|')}] [tasks] [--overlap]`);

const database = await createBenchDatabase('replay');
const connect = async () => {
  const db = new pg.Client({ connectionString: database.url });
  await db.connect();
  await db.query(WORKER_PLANNER_SETTINGS);
  return db;
};
const db = await connect();
const second = overlap ? await connect() : db;
try {
  await design.setup(database.url, db, tasks);
  const lsn = async () => (await db.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
  const writes = async () => (await db.query<{ upd: string; hot: string }>('SELECT coalesce(sum(n_tup_upd), 0) AS upd, coalesce(sum(n_tup_hot_upd), 0) AS hot FROM pg_stat_user_tables')).rows[0]!;
  // Each backend sends its table statistics at its next transaction once asked to (PostgreSQL 15+).
  const settle = async () => {
    for (const connection of new Set([db, second])) await connection.query('SELECT pg_stat_force_next_flush()');
    for (const connection of new Set([db, second])) await connection.query('SELECT 1');
  };
  await settle();
  const writesBefore = await writes();
  const walBefore = await lsn();
  const cpuBefore = sampleServerCpu('postgres');
  const started = performance.now();

  const claimed: { id: string; attempt: number }[] = [];
  let claimedCount = 0;
  let completed = 0;
  // Each loop waits for the other by a promise, never by spinning: this process shares the cores.
  let room: (() => void) | null = null;
  let arrived: (() => void) | null = null;
  const claimOne = async () => {
    const got = await design.claim(db);
    if (got.length === 0) throw new Error(`a claim found nothing with ${tasks - claimedCount} tasks left`);
    claimed.push(...got);
    claimedCount += got.length;
    const wake = arrived as (() => void) | null;
    arrived = null;
    wake?.();
  };
  const completeOne = async () => {
    const batch = claimed.splice(0, BATCH);
    const wake = room as (() => void) | null;
    room = null;
    wake?.();
    const done = await design.complete(second, batch);
    if (done !== batch.length) throw new Error(`completed ${done} of ${batch.length}`);
    completed += done;
  };
  if (overlap) {
    const claimLoop = async () => {
      while (claimedCount < tasks) {
        if (claimed.length >= AHEAD) await new Promise<void>((resolve) => (room = resolve));
        else await claimOne();
      }
    };
    const completeLoop = async () => {
      while (completed < tasks) {
        if (claimed.length >= BATCH || (claimedCount === tasks && claimed.length > 0)) await completeOne();
        else await new Promise<void>((resolve) => (arrived = resolve));
      }
    };
    await Promise.all([claimLoop(), completeLoop()]);
  } else {
    while (completed < tasks) {
      if (claimedCount < tasks && claimed.length < AHEAD) await claimOne();
      else await completeOne();
    }
  }

  const wallMs = performance.now() - started;
  const cpuAfter = sampleServerCpu('postgres');
  const walBytes = Number((await db.query<{ n: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1) AS n', [walBefore])).rows[0]!.n);
  await settle();
  const writesAfter = await writes();
  const upd = Number(writesAfter.upd) - Number(writesBefore.upd);
  const hot = Number(writesAfter.hot) - Number(writesBefore.hot);
  const perTask = (value: number) => (value / tasks).toFixed(1);
  process.stdout.write(
    `${name}${overlap ? ' (overlapped)' : ''}: ${tasks} tasks; server CPU ${cpuBefore && cpuAfter ? perTask(serverCpuBetween(cpuBefore, cpuAfter) * 1000) : '?'} µs/task; ` +
      `WAL ${Math.round(walBytes / tasks)} B/task; heap-only updates ${upd === 0 ? 0 : Math.round((100 * hot) / upd)} % of ${upd}; wall ${perTask(wallMs * 1000)} µs/task\n`,
  );
} finally {
  if (second !== db) await second.end();
  await db.end();
  await dropBenchDatabase(database.name);
}

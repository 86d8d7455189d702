/**
 * The tasks table's size over prune cycles (issue 16: pruning without bloat). Keeps `--days` days of
 * finished tasks, `--per-day` each, then repeats `--cycles` times: insert the next day's tasks, let
 * the rollup catch up, prune the oldest day with the leader's Pruner (calling runOnce until it returns
 * 0, then waiting for the VACUUM it starts), and print the table's size and the prune's rate.
 *
 *   node --import tsx bench/tools/prune-cycles.ts --engine postgres [--per-day 200000] [--days 3] [--cycles 5] [--no-vacuum]
 *   node --import tsx bench/tools/prune-cycles.ts --engine sqlite [--per-day 50000] ...
 *
 * The history is written by SQL (INSERT ... SELECT, copies of one task a real engine ran, with
 * UUIDv7-ordered ids and completion times spread over the day; 5 % failed, 30 % with an owner), so
 * building it costs seconds, not a drain. `--no-vacuum` prunes with the engine's taskVacuum made a
 * no-op, to show what the table does without it (the local server runs with autovacuum off).
 * PostgreSQL runs in a schema of its own, SQLite in a temporary file; both are dropped at the end.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { type Clock, systemClock } from '../../src/core/clock.ts';
import type { Logger } from '../../src/core/logger.ts';
import { newTask } from '../../src/core/new-task.ts';
import type { Engine } from '../../src/store/engine.ts';
import { Pruner } from '../../src/worker/maintenance/pruner.ts';
import { createEngine } from '../../test/helpers/create-engine.ts';
import { benchPostgresUrl, BENCH_POSTGRES, dropPostgresSchema } from '../bench-databases.ts';

const { values } = parseArgs({
  options: {
    engine: { type: 'string', default: 'postgres' },
    'per-day': { type: 'string' },
    days: { type: 'string', default: '3' },
    cycles: { type: 'string', default: '5' },
    'no-vacuum': { type: 'boolean', default: false },
    explain: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const kind = values.engine === 'sqlite' ? 'sqlite' : 'postgres';
const perDay = Number(values['per-day'] ?? (kind === 'sqlite' ? 50_000 : 200_000));
const days = Number(values.days);
const cycles = Number(values.cycles);
const noVacuum = values['no-vacuum']!;
const DAY = 86_400_000;
const BASE = Date.UTC(2026, 0, 1);
const OWNER = '0190a4c2-0000-7000-8000-0000000000ee';
const CHUNK = 50_000;

const logger: Logger = {
  debug: () => undefined,
  info: (fields, msg) => console.error(`  [pruner] ${msg} ${JSON.stringify(fields)}`),
  warn: (fields, msg) => console.error(`  [pruner] WARN ${msg} ${JSON.stringify(fields)}`),
  error: (fields, msg) => console.error(`  [pruner] ERROR ${msg} ${JSON.stringify(fields)}`),
  child: () => logger,
};

interface Target {
  url: string;
  /** Inserts `count` finished copies of the template task, completing over [fromMs, fromMs + DAY). */
  fill(templateId: string, fromMs: number, count: number): Promise<void>;
  size(): Promise<Record<string, number | string>>;
  /** PostgreSQL: EXPLAIN ANALYZE of one prune batch (the engine's statement, rolled back), trigger time included. */
  explain?(finishedBefore: Date, limit: number): Promise<string[]>;
  drop(): Promise<void>;
}

function postgresTarget(): Target {
  const { url, schema } = benchPostgresUrl();
  const admin = new pg.Pool({ connectionString: BENCH_POSTGRES, max: 1 });
  const s = `"${schema}"`;
  return {
    url,
    fill: async (templateId, fromMs, count) => {
      for (let offset = 0; offset < count; offset += CHUNK) {
        await admin.query(
          `INSERT INTO ${s}.tasks (id, task_type, payload, status, priority_rank, retry_strategy, max_attempts, current_attempt, last_error, output, metadata,
                                   created_by, created_at, updated_at, run_at, started_at, completed_at, worker_id, attempts)
           SELECT (lpad(to_hex(x.ms), 12, '0') || '7' || lpad(to_hex(g % 4096), 3, '0') || '8' || lpad(to_hex(g), 15, '0'))::uuid,
                  t.task_type, jsonb_set(t.payload, '{n}', to_jsonb(g)), CASE WHEN g % 20 = 0 THEN 'failed' ELSE 'completed' END, t.priority_rank,
                  t.retry_strategy, t.max_attempts, t.current_attempt, CASE WHEN g % 20 = 0 THEN 'boom' END, t.output, t.metadata,
                  CASE WHEN g % 10 < 3 THEN t.created_by END, x.at - interval '3 s', x.at, x.at - interval '3 s', x.at - interval '1 s', x.at, t.worker_id, t.attempts
             FROM generate_series($2::bigint, $3::bigint - 1) AS g
            CROSS JOIN LATERAL (SELECT $4::bigint + g * ${DAY}::bigint / $5::bigint AS ms) AS m
            CROSS JOIN LATERAL (SELECT m.ms, to_timestamp(m.ms / 1000.0) AS at) AS x
            CROSS JOIN (SELECT * FROM ${s}.tasks WHERE id = $1::uuid) AS t`,
          [templateId, offset, Math.min(count, offset + CHUNK), fromMs, count],
        );
      }
    },
    size: async () => {
      const { rows } = await admin.query<{ heap: string; total: string; live: string; dead: string }>(
        `SELECT pg_relation_size('${s}.tasks') AS heap, pg_total_relation_size('${s}.tasks') AS total,
                (SELECT count(*) FROM ${s}.tasks) AS live,
                (SELECT n_dead_tup FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'tasks') AS dead`,
        [schema],
      );
      const row = rows[0]!;
      return { rows: Number(row.live), heap_mb: mb(Number(row.heap)), total_mb: mb(Number(row.total)), dead_rows_stat: Number(row.dead) };
    },
    explain: async (finishedBefore, limit) => {
      const client = await admin.connect();
      try {
        await client.query('BEGIN');
        // The worker pool's planner settings (postgres-connection.ts), which the engine's prune runs with.
        await client.query('SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; SET LOCAL jit = off');
        const { rows } = await client.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN (ANALYZE, BUFFERS)
           WITH gone AS (
             DELETE FROM ${s}.tasks t
              WHERE t.id IN (SELECT id FROM ${s}.tasks WHERE status IN ('completed', 'failed', 'cancelled') AND completed_at < $1::timestamptz
                              ORDER BY completed_at LIMIT $2::int FOR UPDATE SKIP LOCKED)
                AND t.status IN ('completed', 'failed', 'cancelled')
             RETURNING t.task_type, t.priority_rank, t.status, t.created_by, t.completed_at),
           counted AS (SELECT task_type, priority_rank, status, created_by FROM gone
                        WHERE completed_at < (SELECT rolled_through FROM ${s}.task_rollup_state WHERE id = 1 FOR SHARE)),
           subtracted AS (
             UPDATE ${s}.task_counts c SET count = c.count - g.n FROM (
               SELECT '*' AS owner, task_type, priority_rank, status, count(*) AS n FROM counted GROUP BY task_type, priority_rank, status
               UNION ALL
               SELECT created_by::text, task_type, priority_rank, status, count(*) FROM counted WHERE created_by IS NOT NULL GROUP BY created_by, task_type, priority_rank, status) AS g
              WHERE c.owner = g.owner AND c.task_type = g.task_type AND c.priority_rank = g.priority_rank AND c.status = g.status)
           SELECT count(*)::integer AS deleted FROM gone`,
          [finishedBefore, limit],
        );
        return rows.map((row) => row['QUERY PLAN']);
      } finally {
        await client.query('ROLLBACK');
        client.release();
      }
    },
    drop: async () => {
      await admin.end();
      await dropPostgresSchema(schema);
    },
  };
}

function sqliteTarget(): Target {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-prune-cycles-'));
  const file = join(dir, 'conveyor.db');
  let raw: Database.Database | null = null;
  const db = () => {
    if (!raw) {
      raw = new Database(file);
      raw.pragma('busy_timeout = 10000');
    }
    return raw;
  };
  return {
    url: `sqlite:${file}`,
    fill: async (templateId, fromMs, count) => {
      const insert = db().prepare(`
        INSERT INTO tasks (id, task_type, payload, status, priority_rank, retry_strategy, max_attempts, current_attempt, last_error, output, metadata,
                           created_by, created_at, updated_at, run_at, started_at, completed_at, worker_id, attempts)
        WITH RECURSIVE g(n) AS (SELECT @first UNION ALL SELECT n + 1 FROM g WHERE n + 1 < @last),
             x AS (SELECT n, @from + n * ${DAY} / @count AS ms FROM g)
        SELECT substr(printf('%012x', x.ms), 1, 8) || '-' || substr(printf('%012x', x.ms), 9, 4) || '-7' || printf('%03x', x.n % 4096) || '-8'
                 || substr(printf('%015x', x.n), 1, 3) || '-' || substr(printf('%015x', x.n), 4, 12),
               t.task_type, json_set(t.payload, '$.n', x.n), CASE WHEN x.n % 20 = 0 THEN 'failed' ELSE 'completed' END, t.priority_rank,
               t.retry_strategy, t.max_attempts, t.current_attempt, CASE WHEN x.n % 20 = 0 THEN 'boom' END, t.output, t.metadata,
               CASE WHEN x.n % 10 < 3 THEN t.created_by END, x.ms - 3000, x.ms, x.ms - 3000, x.ms - 1000, x.ms, t.worker_id, t.attempts
          FROM x CROSS JOIN (SELECT * FROM tasks WHERE id = @template) AS t`);
      for (let offset = 0; offset < count; offset += CHUNK) {
        insert.run({ template: templateId, first: offset, last: Math.min(count, offset + CHUNK), from: fromMs, count });
      }
    },
    size: async () => {
      const pageSize = db().pragma('page_size', { simple: true }) as number;
      const pages = db().pragma('page_count', { simple: true }) as number;
      const free = db().pragma('freelist_count', { simple: true }) as number;
      const rows = (db().prepare('SELECT count(*) AS n FROM tasks').get() as { n: number }).n;
      let wal = 0;
      try {
        wal = statSync(`${file}-wal`).size;
      } catch {
        wal = 0;
      }
      return { rows, file_mb: mb(pages * pageSize), free_mb: mb(free * pageSize), used_mb: mb((pages - free) * pageSize), wal_mb: mb(wal) };
    },
    drop: async () => {
      raw?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

/** The real engine, its taskVacuum a no-op (--no-vacuum). */
function withoutVacuum(engine: Engine): Engine {
  return new Proxy(engine, { get: (target, key, receiver) => (key === 'taskVacuum' ? async () => false : Reflect.get(target, key, receiver)) });
}

/** The real time, moved to a chosen date: the Pruner's budget and log lines see real durations. */
class ShiftedClock implements Clock {
  #offsetMs = 0;
  set(ms: number): void {
    this.#offsetMs = ms - Date.now();
  }
  nowMs(): number {
    return Date.now() + this.#offsetMs;
  }
  now(): Date {
    return new Date(this.nowMs());
  }
  setTimeout: Clock['setTimeout'] = (fn, ms, ...args) => systemClock.setTimeout(fn, ms, ...args);
  clearTimeout: Clock['clearTimeout'] = (timer) => systemClock.clearTimeout(timer);
  sleep: Clock['sleep'] = (ms, signal) => systemClock.sleep(ms, signal);
}

async function rollUp(engine: Engine, clock: ShiftedClock): Promise<number> {
  const started = performance.now();
  // Until a call makes neither minutes nor hours (an upgraded database's hours come after its minutes).
  let done: { minutes: number; hours: number };
  do done = await engine.taskRollup({ now: clock.now() });
  while (done.minutes > 0 || done.hours > 0);
  return performance.now() - started;
}

async function main(): Promise<void> {
  const target = kind === 'sqlite' ? sqliteTarget() : postgresTarget();
  const clock = new ShiftedClock();
  clock.set(BASE);
  const engine = createEngine(target.url);
  try {
    await engine.migrate();
    await engine.userInsert({ user: { id: OWNER, username: 'prune-bench', email: 'prune@example.com', passwordHash: 'x', role: 'user', createdAt: clock.now() } });
    // The template: a task a real engine ran (payload, output, attempt history), finished a year
    // ahead so that no cycle prunes it; the history is copies of it.
    const later = new Date(BASE + 365 * DAY);
    const payload = { to: 'someone@example.com', subject: 'Your weekly report', body: 'x'.repeat(120), n: 0 };
    await engine.taskInsert({ task: newTask({ taskType: 'email', createdBy: OWNER, payload }, later) });
    const [claimed] = await engine.taskClaim({ workerId: 'bench-worker-1', taskTypes: ['email'], limit: 1, now: later, leaseMs: 30_000 });
    await engine.taskStartRecord({ workerId: 'bench-worker-1', starts: [{ lease: { id: claimed!.id, attempt: claimed!.currentAttempt, workerId: 'bench-worker-1' }, startedAt: later }] });
    await engine.taskComplete({ lease: { id: claimed!.id, attempt: claimed!.currentAttempt, workerId: 'bench-worker-1' }, output: { messageId: 'abc123', accepted: 1 }, now: later });
    const template = { task: claimed! };

    console.log(`# ${kind}: ${days} days of ${perDay} finished tasks kept; ${cycles} cycles of insert a day, prune a day${noVacuum ? ' (VACUUM disabled)' : ''}`);
    console.log(`# machine: ${cpus().length} cores, load average at start ${loadavg().map((n) => n.toFixed(2)).join(' ')}`);
    const fill = async (day: number) => {
      const started = performance.now();
      await target.fill(template.task.id, BASE + day * DAY, perDay);
      return performance.now() - started;
    };
    for (let day = 0; day < days; day++) await fill(day);
    clock.set(BASE + days * DAY);
    const rollupMs = await rollUp(engine, clock);
    console.log(`start: ${JSON.stringify(await target.size())} (rollup caught up in ${(rollupMs / 1000).toFixed(1)} s)`);
    const pruner = new Pruner({ engine: noVacuum ? withoutVacuum(engine) : engine, clock, logger, retentionMs: days * DAY });
    for (let cycle = 1; cycle <= cycles; cycle++) {
      const fillMs = await fill(days + cycle - 1);
      clock.set(BASE + (days + cycle) * DAY);
      const cycleRollupMs = await rollUp(engine, clock);
      const started = performance.now();
      let deleted = 0;
      let runs = 0;
      for (let n = await pruner.runOnce(); n > 0; n = await pruner.runOnce()) {
        deleted += n;
        runs++;
      }
      const pruneMs = performance.now() - started;
      await pruner.idle();
      const vacuumMs = performance.now() - started - pruneMs;
      const size = await target.size();
      console.log(
        `cycle ${cycle}: inserted ${perDay} in ${(fillMs / 1000).toFixed(1)} s, rollup ${(cycleRollupMs / 1000).toFixed(1)} s; ` +
          `pruned ${deleted} in ${(pruneMs / 1000).toFixed(1)} s (${Math.round(deleted / (pruneMs / 1000))}/s, ${runs} run${runs === 1 ? '' : 's'}), ` +
          `vacuum ${(vacuumMs / 1000).toFixed(1)} s; ${JSON.stringify(size)}; load ${loadavg()[0]!.toFixed(2)}`,
      );
    }
    // GET /tasks/stats's engine call on the history left: its last-hour figures read the rollups.
    const timings: number[] = [];
    for (let n = 0; n < 50; n++) {
      const started = performance.now();
      await engine.taskStats({ now: clock.now() });
      timings.push(performance.now() - started);
    }
    timings.sort((a, b) => a - b);
    console.log(`taskStats over ${JSON.stringify(await target.size())}: p50 ${timings[24]!.toFixed(1)} ms, p99 ${timings[49]!.toFixed(1)} ms (50 calls)`);
    if (values.explain && target.explain) {
      // One batch of the next day's prune, rolled back: what the statement and its trigger cost.
      await fill(days + cycles);
      clock.set(BASE + (days + cycles + 1) * DAY);
      await rollUp(engine, clock);
      for (const limit of [5000, 10_000]) {
        console.log(`explain, a batch of ${limit}:`);
        for (const line of await target.explain(new Date(BASE + (cycles + 1) * DAY), limit)) console.log(`  ${line}`);
      }
    }
  } finally {
    await engine.close();
    if (values.keep) console.log(`kept: ${target.url} (drop it yourself)`);
    else await target.drop();
  }
}

await main();

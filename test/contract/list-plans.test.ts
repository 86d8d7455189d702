import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import { parseDatabaseUrl } from '../../src/store/database-url.ts';
import type { TaskListParams } from '../../src/store/engine.ts';
import { taskListQuery } from '../../src/store/postgres/task-list-query.ts';
import { TASK_COLUMN_NAMES } from '../../src/store/postgres/sql-parts.ts';
import { buildListQuery } from '../../src/store/sqlite/task-list-query.ts';
import { rawExec, withRawPostgres } from '../helpers/raw-exec.ts';
import { describeEachEngine, type EngineFixture } from './engine-fixture.ts';

/**
 * Every list filter and its order is served by an index (issue 16): the plans of the page and of its
 * capped count, read with EXPLAIN (PostgreSQL) and EXPLAIN QUERY PLAN (SQLite), never scan the tasks
 * table. PostgreSQL is told to avoid sequential scans where it can (enable_seqscan = off), because on
 * a test-sized table a scan is cheaper; a filter no index serves still shows one, and fails.
 */
const OWNER = '0190a4c2-0000-7000-8000-00000000000a';

/** Each case: the list's filters, and the index that must serve it (by name), or null for "any index". */
const CASES: { name: string; params: Omit<TaskListParams, 'limit'>; index: string | null; primaryKeyWalk?: boolean; sqliteIndexOrder?: string }[] = [
  // The primary key walked newest first, stopping after the page (SQLite shows this walk of its table as "SCAN tasks").
  { name: 'everything, newest first', params: {}, index: null, primaryKeyWalk: true },
  { name: 'the dead letter', params: { status: ['failed'] }, index: 'tasks_unsuccessful_idx' },
  { name: 'cancelled', params: { status: ['cancelled'] }, index: 'tasks_unsuccessful_idx' },
  // Completed tasks are most of the history: the primary key's walk finds a page of them at once.
  { name: 'completed', params: { status: ['completed'] }, index: null, primaryKeyWalk: true },
  // Either index over waiting tasks (the claim's, or the fair-share claim's): both hold only them.
  { name: 'waiting', params: { status: ['pending', 'scheduled', 'retrying'] }, index: 'ready_idx' },
  { name: 'one type, running', params: { taskType: ['report'], status: ['running'] }, index: 'tasks_lease_idx' },
  { name: 'running', params: { status: ['running'] }, index: 'tasks_lease_idx' },
  // A rare type: a common one is found as fast by the primary key's walk, which a planner may rightly prefer.
  { name: 'one type', params: { taskType: ['audit'] }, index: 'tasks_history_type_idx' },
  { name: 'two types, dead letter', params: { taskType: ['report', 'email'], status: ['failed'] }, index: null },
  // A common type (PostgreSQL may rightly walk the primary key for it). SQLite, which has no
  // statistics, must read its finished branches from the type index in id order: no sort of every
  // finished task of the type (it did, at 1,000,000 tasks, when the guard named the status list first).
  { name: 'a common type', params: { taskType: ['email'] }, index: null, sqliteIndexOrder: 'tasks_history_type_idx' },
  { name: "a common type's dead letter", params: { taskType: ['email'], status: ['failed'] }, index: null, sqliteIndexOrder: 'tasks_history_type_idx' },
  { name: 'one owner', params: { createdBy: OWNER }, index: 'tasks_created_by_idx' },
  { name: "one owner's dead letter", params: { createdBy: OWNER, status: ['failed'] }, index: 'tasks_owner_unsuccessful_idx' },
  { name: 'a time range', params: { createdAfter: new Date(Date.UTC(2026, 0, 1, 12)), createdBefore: new Date(Date.UTC(2026, 0, 1, 13)) }, index: null },
  { name: 'a time range of the dead letter', params: { status: ['failed'], createdAfter: new Date(Date.UTC(2026, 0, 1, 12)) }, index: null },
];

describeEachEngine('list query plans', (f) => {
  it('serves every list filter, its order and its capped total from an index', async () => {
    await history(f());
    const plans = f().db.kind === 'postgres' ? await postgresPlans(f()) : sqlitePlans(f());
    for (const { name, page, count } of plans) {
      const testCase = CASES.find((c) => c.name === name)!;
      for (const [which, lines] of [['page', page], ['count', count]] as const) {
        const text = lines.join('\n');
        if (process.env.SHOW_PLANS) console.log(`${name} (${which})\n${text}`);
        // SQLite shows the walk of its primary key (the table itself) as "SCAN tasks": right for the unfiltered list only.
        expect(lines.some((line) => scansTable(line) && !(testCase.primaryKeyWalk && line.trim() === 'SCAN tasks')), `${name} (${which}) scans tasks:\n${text}`).toBe(false);
        expect(lines.some((line) => /tasks_|tasks \(|PRIMARY KEY|tasks_pkey|SCAN tasks/.test(line)), `${name} (${which}) reads no index:\n${text}`).toBe(true);
        if (testCase.index) expect(text, `${name} (${which})`).toContain(testCase.index);
        if (testCase.sqliteIndexOrder && f().db.kind === 'sqlite') {
          // Each finished branch reads the index by (type, status) and takes its id order as it is.
          const reads = lines.filter((line) => line.includes(testCase.sqliteIndexOrder!));
          expect(reads.length, `${name} (${which}) reads ${testCase.sqliteIndexOrder}:\n${text}`).toBeGreaterThan(0);
          for (const read of reads) expect(read, `${name} (${which})`).toMatch(/\(task_type=\? AND status=\?\)$/);
          expect(sortsAfter(lines, testCase.sqliteIndexOrder), `${name} (${which}) sorts what it read from ${testCase.sqliteIndexOrder}:\n${text}`).toBe(false);
        }
      }
    }
  });

  it('reports a total above the cap as a lower bound, and an exact one below it', async () => {
    const { engine } = f();
    await history(f());
    const small = await engine.taskList({ limit: 5, status: ['failed'], withTotal: true });
    expect(small).toMatchObject({ total: 100, totalIsExact: true });
    // Several branches: their capped counts are added up (they hold different statuses), not merged.
    expect(await engine.taskList({ limit: 5, status: ['failed', 'cancelled'], withTotal: true })).toMatchObject({ total: 120, totalIsExact: true });
    const byType = await engine.taskList({ limit: 5, taskType: ['email', 'report'], status: ['failed', 'running'], withTotal: true });
    let separately = 0;
    for (const taskType of ['email', 'report']) {
      for (const status of ['failed', 'running'] as const) separately += (await engine.taskList({ limit: 1, taskType: [taskType], status: [status], withTotal: true })).total!;
    }
    expect(separately).toBeGreaterThan(20);
    expect(byType).toMatchObject({ total: separately, totalIsExact: true });
    // The cap itself is 10,000; what matters here is the flag and the figure around it, on both engines.
    const { cappedTotal } = await import('../../src/store/shared/task-list-branches.ts');
    expect(cappedTotal(10_000)).toEqual({ total: 10_000, totalIsExact: true });
    expect(cappedTotal(10_001)).toEqual({ total: 10_000, totalIsExact: false });
  });
});

/** 3,060 tasks: most completed, some failed, cancelled, running and waiting, over two types (and a rare third) and an owner. */
async function history({ engine, clock, insertMany, db }: EngineFixture): Promise<void> {
  await engine.userInsert({ user: { id: OWNER, username: 'ann', email: 'ann@example.com', passwordHash: 'x', role: 'user', createdAt: clock.now() } });
  for (let batch = 0; batch < 6; batch++) {
    await insertMany(250, { taskType: 'email' });
    await insertMany(250, { taskType: 'report', createdBy: OWNER });
    await insertMany(10, { taskType: 'audit' });
    clock.advance(60_000);
  }
  const finishedAt = db.kind === 'postgres' ? 'created_at' : 'created_at';
  // Statuses set directly: the plans depend on the rows' shape, not on how they got there.
  await rawExec(db, `UPDATE tasks SET status = 'completed', completed_at = ${finishedAt}, started_at = created_at WHERE substr(CAST(id AS text), 36, 1) NOT IN ('0', '1')`);
  await rawExec(db, `UPDATE tasks SET status = 'failed', completed_at = ${finishedAt}, started_at = created_at WHERE id IN (SELECT id FROM tasks WHERE status = 'pending' ORDER BY id LIMIT 100)`);
  await rawExec(db, `UPDATE tasks SET status = 'cancelled', completed_at = ${finishedAt} WHERE id IN (SELECT id FROM tasks WHERE status = 'pending' ORDER BY id LIMIT 20)`);
  await rawExec(db, `UPDATE tasks SET status = 'running', worker_id = 'w', current_attempt = 1, started_at = created_at, lease_expires_at = created_at WHERE id IN (SELECT id FROM tasks WHERE status = 'pending' ORDER BY id LIMIT 20)`);
  // VACUUM too: with autovacuum off (as on some servers) the dead versions the updates above left
  // would otherwise steer PostgreSQL's planner differently from one machine to the next. SQLite has no
  // statistics unless someone runs ANALYZE, and the product runs none, so its plans are checked
  // without them (as at 100,000 rows in `npm run bench -- --scale`, where a waiting-task list walked
  // the whole history).
  if (db.kind === 'postgres') await rawExec(db, 'VACUUM ANALYZE');
}

/** Whether SQLite's plan sorts the rows of a read of `index` (a temp B-tree for ORDER BY right after it). */
function sortsAfter(lines: string[], index: string): boolean {
  return lines.some((line, i) => line.includes(index) && /TEMP B-TREE FOR (LAST TERM OF )?ORDER BY/.test(lines[i + 1] ?? ''));
}

function scansTable(line: string): boolean {
  return /Seq Scan on tasks/.test(line) || /^SCAN tasks$/.test(line.trim());
}

interface CasePlan {
  name: string;
  page: string[];
  count: string[];
}

async function postgresPlans({ db }: EngineFixture): Promise<CasePlan[]> {
  return withRawPostgres(db, async (client, schema) => {
    await client.query('SET enable_seqscan = off');
    const explain = async (q: { text: string; values: unknown[] }) =>
      (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${q.text}`, q.values)).rows.map((row) => row['QUERY PLAN']);
    const plans: CasePlan[] = [];
    for (const c of CASES) {
      const query = taskListQuery({ ...c.params, limit: 20, withTotal: true }, schema, TASK_COLUMN_NAMES.join(', '))!;
      plans.push({ name: c.name, page: await explain(query.page), count: await explain(query.count!) });
    }
    return plans;
  });
}

function sqlitePlans({ db }: EngineFixture): CasePlan[] {
  const target = parseDatabaseUrl(db.url);
  if (target.kind !== 'sqlite') throw new Error('not SQLite');
  const raw = new Database(target.filename, { readonly: true });
  try {
    const explain = (sql: string, params: Record<string, unknown>) =>
      (raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as { detail: string }[]).map((row) => row.detail);
    return CASES.map((c) => {
      const query = buildListQuery({ ...c.params, limit: 20, withTotal: true });
      return { name: c.name, page: explain(query.pageSql, query.params), count: explain(query.countSql, query.countParams) };
    });
  } finally {
    raw.close();
  }
}

import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { newTask } from '../../src/core/new-task.ts';
import { parseDatabaseUrl } from '../../src/store/database-url.ts';
import type { Engine } from '../../src/store/engine.ts';
import { claimSql } from '../../src/store/postgres/claim.ts';
import { fairClaimSql } from '../../src/store/postgres/fair-claim.ts';
import { finishSql } from '../../src/store/postgres/finish.ts';
import { WORKER_PLANNER_SETTINGS } from '../../src/store/postgres/postgres-connection.ts';
import { sqlContext } from '../../src/store/postgres/sql-parts.ts';
import { createEngine } from '../helpers/create-engine.ts';
import { testDatabases, type TestDatabase } from '../helpers/databases.ts';
import { rawExec } from '../helpers/raw-exec.ts';

/**
 * The fair-share probe every claim makes (is another owner waiting?) must walk tasks_fair_ready_idx
 * whatever PostgreSQL's statistics say. Taken while no task waited (normal with a long history), they
 * made the planner read every waiting task from tasks_ready_idx and sort them, twice per claim: 20 ms
 * with 20,000 waiting, and a drain with history at a third of its speed (bench --scale). PostgreSQL
 * only: SQLite's probes are separate statements, each an index walk.
 */
const postgres = testDatabases.find((d) => d.kind === 'postgres')!;

describe('claim plans on PostgreSQL', () => {
  let db: TestDatabase | undefined;
  let engine: Engine | undefined;
  afterEach(async () => {
    await engine?.close();
    await db?.drop();
  });

  it('the fair-share probe walks the fair index backwards, and batches find running tasks by primary key, with statistics taken while nothing waited or ran', async () => {
    db = postgres.create();
    engine = createEngine(db.url);
    await engine.migrate();
    const now = new Date();
    const tasks = (n: number) => Array.from({ length: n }, () => newTask({ taskType: 'report', payload: {} }, now));
    await engine.taskInsertMany({ tasks: tasks(2000) });
    await rawExec(db, `UPDATE tasks SET status = 'completed', completed_at = created_at, started_at = created_at`);
    await rawExec(db, 'VACUUM ANALYZE');
    await engine.taskInsertMany({ tasks: tasks(2000) });

    const target = parseDatabaseUrl(db.url);
    if (target.kind !== 'postgres') throw new Error('not PostgreSQL');
    const client = new pg.Client({ connectionString: target.connectionString });
    await client.connect();
    try {
      await client.query(WORKER_PLANNER_SETTINGS);
      const { contended } = fairClaimSql(sqlContext(target.schema));
      // Prepared, as the worker's connections run it (generic plans).
      await client.query({ name: 'probe', text: `EXPLAIN ${contended.text}`, values: [now, ['report']] });
      const plan = (await client.query<{ 'QUERY PLAN': string }>({ name: 'probe', text: `EXPLAIN ${contended.text}`, values: [now, ['report']] })).rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(plan).toContain('Index Scan Backward using tasks_fair_ready_idx');
      expect(plan).not.toContain('tasks_ready_idx');
      expect(plan).not.toMatch(/Sort/);

      // The statements that find running tasks by id take the primary key, never the lease index
      // (whose dead entries a drain leaves behind): statistics there say no task runs.
      const context = sqlContext(target.schema);
      const byId = [
        [finishSql(context).taskComplete, ['00000000-0000-7000-8000-000000000001', 1, 'w', null, now]],
        [finishSql(context).taskCompleteMany, [[], [], [], [], []]],
        [claimSql(context).taskHeartbeat, [[], [], 'w', now, [], []]],
        [claimSql(context).taskStartRecord, [[], [], 'w', []]],
        [claimSql(context).taskUnclaim, [[], [], [], [], 'w', now, false]],
      ] as const;
      for (const [statement, values] of byId) {
        const explain = { name: `explain_${statement.name}`, text: `EXPLAIN ${statement.text}`, values: [...values] };
        await client.query(explain);
        const lines = (await client.query<{ 'QUERY PLAN': string }>(explain)).rows.map((r) => r['QUERY PLAN']).join('\n');
        expect(lines, statement.name).toContain('tasks_pkey');
        expect(lines, statement.name).not.toContain('tasks_lease_idx');
      }
    } finally {
      await client.end();
    }
  });
});

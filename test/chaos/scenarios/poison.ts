import { uuidv7 } from '../../../src/core/id.ts';
import type { TaskInput } from '../../../src/core/new-task.ts';
import { checkInvariants, type PoisonExpectation } from '../invariants.ts';
import { CHAOS_WORKER_ENV, Fleet, FLEET_INVARIANTS } from '../fleet.ts';
import { withRawDatabase } from '../raw-database.ts';
import { heartbeatsByPid, IMMEDIATE, innocentTasks, insertTasks, openEngine, until, workersRegistered, unfinishedCount, type Scenario } from '../scenario.ts';

const WORKERS = 3;
const INNOCENTS = 200;
/** The workers' own heartbeat is written every 10 s: silent for this long means frozen. */
const FROZEN_AFTER_MS = 25_000;

const POISONS: readonly { taskType: string; label: string; mayComplete?: boolean }[] = [
  { taskType: 'chaos_busy_loop', label: 'busy loop (while (true) {})' },
  { taskType: 'chaos_exit', label: 'process.exit(3)' },
  // Stored escaped would be as good as refused with a clear error.
  { taskType: 'chaos_nul_output', label: 'NUL character in the output', mayComplete: true },
  { taskType: 'chaos_nul_error', label: 'NUL character in the error' },
];

/**
 * Poison tasks among 200 innocent ones, through three workers: a handler that never yields, one that
 * exits its process, a NUL character in an output and in an error, and on SQLite a row whose payload
 * is not JSON (written by SQL, as a bad migration or a hand edit would). All innocents complete; the
 * poisons end in the dead letter with an error saying why; no worker dies or freezes.
 */
export const poison: Scenario = {
  name: 'poison',
  engines: ['sqlite', 'postgres'],
  description: `${POISONS.length} poison tasks (+ a malformed JSON row on SQLite) among ${INNOCENTS} innocent ones, ${WORKERS} workers`,
  async run(context) {
    const settleMs = (context.options.seconds ?? (context.options.short ? 90 : 150)) * 1000;
    const engine = await openEngine(context.url);
    const fleet = new Fleet({ command: 'work', count: WORKERS, cwd: context.dir, env: { ...CHAOS_WORKER_ENV, CONVEYOR__DATABASE__URL: context.url, CONVEYOR__DATA__DIR: context.dir } });
    try {
      fleet.start();
      if (!(await workersRegistered(engine, WORKERS))) throw new Error(`the ${WORKERS} workers did not register within 90 s`);
      // The poisons sit among the innocents, so that claims take both in one batch.
      const half = innocentTasks(INNOCENTS / 2, 20);
      const poisonInputs: TaskInput[] = POISONS.map((p) => ({ taskType: p.taskType, payload: {}, retryStrategy: { ...IMMEDIATE, max_attempts: 3 } }));
      const first = await insertTasks(engine, half);
      const poisons = await insertTasks(engine, poisonInputs);
      const expectations: PoisonExpectation[] = poisons.map((task, i) => ({ id: task.id, label: POISONS[i]!.label, ...(POISONS[i]!.mayComplete ? { mayComplete: true } : {}) }));
      if (context.engine === 'sqlite') expectations.push({ id: await insertMalformedRow(context.url, first[0]!.id), label: 'malformed JSON payload (written by SQL)' });
      await insertTasks(engine, innocentTasks(INNOCENTS / 2, 20));

      // Until every task is finished (or the time is up), freezes are noticed and the frozen worker replaced.
      const settled = await until(async () => {
        fleet.reapFrozen(await heartbeatsByPid(engine), FROZEN_AFTER_MS);
        return (await unfinishedCount(engine)) === 0;
      }, settleMs, 1000);
      context.log(`settled: ${settled}; ${fleet.unexpectedExits.length} workers died, ${fleet.frozen.length} froze`);
      const report = await withRawDatabase(context.url, (db) => checkInvariants(db, expectations));
      const stopViolations = await fleet.stop();
      return {
        tasks: report.tasks,
        kills: 0,
        restarts: 0,
        invariantsChecked: report.checked + FLEET_INVARIANTS,
        violations: [...report.violations, ...fleet.findings(), ...stopViolations],
        figures: { poisons: expectations.length, worker_deaths: fleet.unexpectedExits.length, worker_freezes: fleet.frozen.length, worker_restarts: fleet.restarts, settled: settled ? 'yes' : 'no' },
      };
    } finally {
      await fleet.stop(5000).catch(() => []);
      await engine.close();
    }
  },
};

/** A copy of an innocent row whose payload is not JSON, written with plain SQL (SQLite only: jsonb would refuse it). */
async function insertMalformedRow(url: string, modelId: string): Promise<string> {
  const id = uuidv7();
  await withRawDatabase(url, async (db) => {
    const columns = (await db.query<{ name: string }>(`SELECT name FROM pragma_table_info('tasks')`)).map((c) => c.name);
    // The model may be running or done by now: the copy starts afresh, due now.
    const now = Date.now();
    const fresh: Record<string, string> = {
      id: '?', payload: `'{"delay_ms": 20,'`, status: `'pending'`, current_attempt: '0', worker_id: 'NULL', lease_expires_at: 'NULL',
      started_at: 'NULL', completed_at: 'NULL', output: 'NULL', last_error: 'NULL', progress: 'NULL', attempts: `'[]'`, rescue_count: '0',
      idempotency_key: 'NULL', cancel_requested_at: 'NULL', run_at: String(now), created_at: String(now), updated_at: String(now),
    };
    const copied = columns.map((c) => fresh[c] ?? c);
    await db.query(`INSERT INTO tasks (${columns.join(', ')}) SELECT ${copied.join(', ')} FROM tasks WHERE id = ?`, [id, modelId]);
  });
  return id;
}

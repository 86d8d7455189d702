import { uuidv7 } from '../../../src/core/id.ts';
import type { TaskInput } from '../../../src/core/new-task.ts';
import type { PoisonExpectation } from '../invariants.ts';
import { DEFAULT_WORKER_SETTINGS } from '../../../src/worker/worker-config.ts';
import { Fleet, FLEET_INVARIANTS, type ExitRecord, type ExpectedDeaths } from '../fleet.ts';
import { withRawDatabase } from '../raw-database.ts';
import { checkScenario, heartbeatsByPid, IMMEDIATE, innocentTasks, insertTasks, openEngine, until, workersRegistered, unfinishedCount, type Scenario } from '../scenario.ts';

const WORKERS = 3;
const INNOCENTS = 200;
/** The workers' own heartbeat is written every 10 s: silent for this long means frozen. */
const FROZEN_AFTER_MS = 25_000;

interface PoisonKind {
  taskType: string;
  label: string;
  /** Stored escaped would be as good as refused with a clear error. */
  mayComplete?: boolean;
  /** It runs inline and takes its worker down by design: how that death looks. */
  killsItsWorker?: (exit: ExitRecord) => boolean;
}

const BUSY_LOOP: PoisonKind = { taskType: 'chaos_busy_loop', label: 'busy loop (while (true) {})', killsItsWorker: (exit) => exit.watchdog && exit.signal === 'SIGKILL' };
const EXIT: PoisonKind = { taskType: 'chaos_exit', label: 'process.exit(3)', killsItsWorker: (exit) => exit.code === 3 };
const NUL_OUTPUT: PoisonKind = { taskType: 'chaos_nul_output', label: 'NUL character in the output', mayComplete: true };
const NUL_ERROR: PoisonKind = { taskType: 'chaos_nul_error', label: 'NUL character in the error' };
const POISONS: readonly PoisonKind[] = [BUSY_LOOP, EXIT, NUL_OUTPUT, NUL_ERROR];

/**
 * The worker deaths inline poisons may cause: each kills its worker at most max_rescues times while
 * its start is recorded (then it is dead-lettered), plus once in the moment between a claimed-ahead
 * start and its record (that loss is free, and its next start is recorded before it runs).
 */
function expectedDeaths(poisons: readonly PoisonKind[]): ExpectedDeaths | null {
  const killers = poisons.filter((p) => p.killsItsWorker !== undefined);
  if (killers.length === 0) return null;
  return { causedByPoison: (exit) => killers.some((p) => p.killsItsWorker!(exit)), max: killers.length * (DEFAULT_WORKER_SETTINGS.max_rescues + 1) };
}

/**
 * Poison tasks among 200 innocent ones, through three workers: a handler that never yields, one that
 * exits its process, a NUL character in an output and in an error. All innocents complete; the poisons
 * end in the dead letter with an error saying why; no worker dies or freezes.
 */
export const poison: Scenario = poisonScenario({
  name: 'poison',
  engines: ['sqlite', 'postgres'],
  description: `${POISONS.length} poison tasks (busy loop, process.exit, NUL in output, NUL in error) among ${INNOCENTS} innocent ones, ${WORKERS} workers`,
  poisons: POISONS,
  malformedRow: false,
});

/*
 * The same with one kind of poison at a time: together, the first poison to take its worker down takes
 * the others' claims with it, so they may never run at all. Alone, each shows its own defect (or fix).
 */
export const poisonExit: Scenario = poisonScenario({
  name: 'poison-exit',
  engines: ['sqlite', 'postgres'],
  description: `one process.exit task among ${INNOCENTS} innocent ones, ${WORKERS} workers`,
  poisons: [EXIT],
  malformedRow: false,
});

export const poisonBusyLoop: Scenario = poisonScenario({
  name: 'poison-busy-loop',
  engines: ['sqlite', 'postgres'],
  description: `one while (true) {} task among ${INNOCENTS} innocent ones, ${WORKERS} workers`,
  poisons: [BUSY_LOOP],
  malformedRow: false,
});

export const poisonNul: Scenario = poisonScenario({
  name: 'poison-nul',
  engines: ['sqlite', 'postgres'],
  description: `a NUL character in one task's output and in another's error, among ${INNOCENTS} innocent ones, ${WORKERS} workers`,
  poisons: [NUL_OUTPUT, NUL_ERROR],
  malformedRow: false,
});

/**
 * SQLite only (jsonb refuses it): a row whose payload is not JSON, written by SQL as a bad migration
 * or a hand edit would, among 200 innocent tasks. It alone ends in the dead letter.
 */
export const malformedRow: Scenario = poisonScenario({
  name: 'malformed-row',
  engines: ['sqlite'],
  description: `a task row with a malformed JSON payload (written by SQL) among ${INNOCENTS} innocent ones, ${WORKERS} workers`,
  poisons: [],
  malformedRow: true,
});

function poisonScenario(spec: { name: string; engines: Scenario['engines']; description: string; poisons: readonly PoisonKind[]; malformedRow: boolean }): Scenario {
  return {
    name: spec.name,
    engines: spec.engines,
    description: spec.description,
    async run(context) {
      const settleMs = (context.options.seconds ?? (context.options.short ? 90 : 150)) * 1000;
      const engine = await openEngine(context.url);
      const fleet = new Fleet({ command: 'work', count: WORKERS, cwd: context.dir, env: context.workerEnv });
      try {
        fleet.start();
        if (!(await workersRegistered(engine, WORKERS))) throw new Error(`the ${WORKERS} workers did not register within 90 s`);
        // The poisons sit among the innocents, so that claims take both in one batch.
        const first = await insertTasks(engine, innocentTasks(INNOCENTS / 2, 20));
        const poisonInputs: TaskInput[] = spec.poisons.map((p) => ({ taskType: p.taskType, payload: {}, retryStrategy: { ...IMMEDIATE, max_attempts: 3 } }));
        const poisons = await insertTasks(engine, poisonInputs);
        const expectations: PoisonExpectation[] = poisons.map((task, i) => ({ id: task.id, label: spec.poisons[i]!.label, ...(spec.poisons[i]!.mayComplete ? { mayComplete: true } : {}) }));
        if (spec.malformedRow) expectations.push({ id: await insertMalformedRow(context.url, first[0]!.id), label: 'malformed JSON payload (written by SQL)' });
        await insertTasks(engine, innocentTasks(INNOCENTS / 2, 20));

        // Until every task is finished (or the time is up), freezes are noticed and the frozen worker replaced.
        const settled = await until(async () => {
          fleet.reapFrozen(await heartbeatsByPid(engine), FROZEN_AFTER_MS);
          return (await unfinishedCount(engine)) === 0;
        }, settleMs, 1000);
        // A poison that blocks its worker is dead-lettered when its last lease expires, while that worker
        // is still blocked: its watchdog ends it within its bound and the supervisor starts a fresh one.
        // Every worker must be alive and live at the end, so the check waits for that (bounded).
        const killers = poisons.filter((_, i) => spec.poisons[i]!.killsItsWorker !== undefined);
        const replaced = await until(async () => {
          if (fleet.live().length < WORKERS) return false;
          for (const task of killers) {
            const last = (await engine.taskGet({ id: task.id }))?.attempts.at(-1);
            const pid = Number(last?.workerId?.split(':').at(-2));
            if (fleet.live().some((member) => member.process.pid === pid)) return false;
          }
          return true;
        }, 60_000, 500);
        const expected = expectedDeaths(spec.poisons);
        const poisonDeaths = fleet.poisonDeaths(expected).length;
        context.log(`settled: ${settled}; ${fleet.unexpectedExits.length} workers died (${poisonDeaths} of a poison's own doing), ${fleet.frozen.length} froze`);
        const report = await checkScenario(context, expectations);
        for (const outcome of report.poisonOutcomes) context.log(`poison ${outcome}`);
        const stopViolations = await fleet.stop();
        return {
          tasks: report.tasks,
          kills: 0,
          restarts: 0,
          invariantsChecked: report.checked + FLEET_INVARIANTS,
          violations: [...report.violations, ...fleet.findings(expected), ...stopViolations],
          figures: {
            poisons: expectations.length,
            worker_deaths: fleet.unexpectedExits.length,
            poison_worker_deaths: poisonDeaths,
            worker_freezes: fleet.frozen.length,
            worker_restarts: fleet.restarts,
            settled: settled ? 'yes' : 'no',
            poison_workers_replaced: replaced ? 'yes' : 'no',
            poison_outcomes: report.poisonOutcomes.join(' | '),
          },
        };
      } finally {
        await fleet.stop(5000).catch(() => []);
        await engine.close();
      }
    },
  };
}

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

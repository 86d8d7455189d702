import { attemptHistory } from '../../../src/store/attempt-json.ts';
import type { Engine } from '../../../src/store/engine.ts';
import { violation, type Violation } from '../invariants.ts';
import { CHAOS_WORKER_ENV, Fleet, FLEET_INVARIANTS } from '../fleet.ts';
import { withRawDatabase } from '../raw-database.ts';
import { checkScenario, innocentTasks, insertTasks, openEngine, pause, unfinishedCount, until, workersRegistered, type Scenario } from '../scenario.ts';

const WORKERS = 3;
const LEASE_MS = Number(CHAOS_WORKER_ENV.CONVEYOR__WORKER__LEASE_MS);

interface Held {
  id: string;
  attempt: number;
  workerId: string;
  /** When the suite stopped its worker (0 while unknown). */
  stoppedAt: number;
}

/**
 * SIGSTOP a worker that holds tasks, past its lease: the rescuer hands its tasks to the others. Then
 * SIGCONT: the frozen worker finishes what it was running and reports it late; every such report must
 * be refused (the attempt that took over stands), and the worker must go on working.
 */
export const sigstop: Scenario = {
  name: 'sigstop',
  engines: ['sqlite', 'postgres'],
  description: `SIGSTOP a worker holding tasks past its lease (${LEASE_MS / 1000} s), then SIGCONT: its late reports are refused`,
  async run(context) {
    const batch = 300;
    const cycles = context.options.short ? 2 : 10;
    const chaosMs = (context.options.seconds ?? (context.options.short ? 60 : 300)) * 1000;
    const engine = await openEngine(context.url);
    const fleet = new Fleet({ command: 'work', count: WORKERS, cwd: context.dir, env: context.workerEnv });
    const held: Held[] = [];
    const found: Violation[] = [];
    let stops = 0;
    try {
      fleet.start();
      if (!(await workersRegistered(engine, WORKERS))) throw new Error(`the ${WORKERS} workers did not register within 90 s`);
      await insertTasks(engine, innocentTasks(batch, 400));
      const started = Date.now();
      let inserted = batch;
      for (let cycle = 0; cycle < cycles && Date.now() - started < chaosMs; cycle++) {
        // A backlog for every cycle, so that the worker stopped is in the middle of work.
        if (((await unfinishedCount(engine)) ?? 0) < batch / 2) {
          await insertTasks(engine, innocentTasks(batch, 400));
          inserted += batch;
        }
        // A worker holding running tasks right now.
        let victim: { member: (typeof fleet.members)[number]; tasks: Held[] } | undefined;
        await until(async () => {
          const running = await runningTasks(context.url);
          for (const member of fleet.live()) {
            const mine = running.filter((task) => task.workerId.split(':').at(-2) === String(member.process.pid));
            if (mine.length > 0) victim = { member, tasks: mine };
          }
          return victim !== undefined;
        }, 30_000, 100);
        if (!victim) break;
        fleet.pause(victim.member);
        const stoppedAt = Date.now();
        stops += 1;
        // Held at the moment of the stop (a row read just before may have finished meanwhile).
        const stillHeld = (await runningTasks(context.url)).filter((task) => task.workerId === victim!.tasks[0]!.workerId).map((task) => ({ ...task, stoppedAt }));
        held.push(...stillHeld);
        // Past the lease: every task it held is taken back by the rescuer.
        const rescued = await until(async () => {
          const running = await runningTasks(context.url);
          return !running.some((task) => task.workerId === victim!.tasks[0]!.workerId);
        }, LEASE_MS * 4 + 10_000, 250);
        if (!rescued) found.push(violation('frozen-worker-tasks-rescued', stillHeld.map((t) => t.id), 'tasks of a stopped worker were not rescued within 4 leases'));
        const mark = victim.member.process.lines.length;
        fleet.resume(victim.member);
        // Its handlers end and it tries to report: each report must be refused.
        await until(() => victim!.member.process.lines.slice(mark).some((line) => /lease was gone|lease lost/.test(line.msg ?? '')), 10_000, 100);
        context.log(`cycle ${cycle + 1}: stopped pid ${victim.member.process.pid} holding ${stillHeld.length} tasks; rescued: ${rescued}`);
        await pause(1000);
      }
      const settled = await until(async () => (await unfinishedCount(engine)) === 0, 180_000, 500);
      const report = await checkScenario(context);
      found.push(...(await lateReportsRefused(engine, held)));
      const refused = fleet.linesMatching((line) => /lease was gone|lease lost/.test(line.msg ?? '')).length;
      const stopViolations = await fleet.stop();
      return {
        tasks: report.tasks,
        kills: stops,
        restarts: 0,
        invariantsChecked: report.checked + FLEET_INVARIANTS + 2,
        violations: [...report.violations, ...found, ...fleet.findings(), ...stopViolations],
        figures: { inserted, stops, tasks_held_when_stopped: held.length, late_reports_refused_logged: refused, settled: settled ? 'yes' : 'no' },
      };
    } finally {
      await fleet.stop(5000).catch(() => []);
      await engine.close();
    }
  },
};

async function runningTasks(url: string): Promise<Held[]> {
  return withRawDatabase(url, async (db) => {
    const sql = db.kind === 'sqlite'
      ? `SELECT id, current_attempt AS attempt, worker_id FROM tasks WHERE status = 'running'`
      : `SELECT id::text AS id, current_attempt AS attempt, worker_id FROM tasks WHERE status = 'running'`;
    const rows = await db.query<{ id: string; attempt: number; worker_id: string }>(sql);
    return rows.map((row) => ({ id: row.id, attempt: Number(row.attempt), workerId: row.worker_id, stoppedAt: 0 }));
  });
}

/**
 * For every attempt a stopped worker held: no outcome of it was recorded after the stop (a handler
 * cannot end while its process is stopped, so such an outcome is a late report that was accepted).
 * An outcome from before the stop is a write that was already on its way, and stands.
 */
async function lateReportsRefused(engine: Engine, held: Held[]): Promise<Violation[]> {
  const accepted: string[] = [];
  for (const attempt of held) {
    const task = await engine.taskGet({ id: attempt.id });
    if (!task) continue;
    const history = attemptHistory([...task.attempts], task);
    const entry = history.find((a) => a.attempt === attempt.attempt && a.workerId === attempt.workerId);
    if (entry && entry.outcome !== 'lease_expired' && entry.finishedAt.getTime() >= attempt.stoppedAt) accepted.push(attempt.id);
  }
  return accepted.length > 0 ? [violation('late-reports-refused', accepted, `${accepted.length} attempts of a stopped worker were recorded after their lease expired`)] : [];
}

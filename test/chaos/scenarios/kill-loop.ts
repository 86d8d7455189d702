import { Fleet, FLEET_INVARIANTS } from '../fleet.ts';
import { checkScenario, heldByPid, innocentTasks, insertTasks, openEngine, pause, unfinishedCount, until, workersRegistered, type Scenario } from '../scenario.ts';

const WORKERS = 3;
const KILL_EVERY_MS = 2000;

/**
 * Issue 14's kill loop: three workers drain a backlog while the suite SIGKILLs a random busy one
 * every two seconds; the suite's supervisor restarts each killed worker. Every task must still
 * complete exactly as the lifecycle says: no innocent task in the dead letter, no overlapping attempts.
 */
export const killLoop: Scenario = {
  name: 'kill-loop',
  engines: ['sqlite', 'postgres'],
  description: `SIGKILL a random busy worker every ${KILL_EVERY_MS / 1000} s during a drain (${WORKERS} workers, restarted by the suite)`,
  async run(context) {
    const tasks = context.options.short ? 1000 : 10_000;
    const chaosMs = (context.options.seconds ?? (context.options.short ? 20 : 300)) * 1000;
    const engine = await openEngine(context.url);
    const fleet = new Fleet({ command: 'work', count: WORKERS, cwd: context.dir, env: context.workerEnv });
    try {
      fleet.start();
      if (!(await workersRegistered(engine, WORKERS))) throw new Error(`the ${WORKERS} workers did not register within 90 s`);
      // 100 ms each: at most 300 tasks/s through 30 slots, so the drain lasts long enough for many kills.
      await insertTasks(engine, innocentTasks(tasks, 100));
      const started = Date.now();
      let drained = false;
      while (Date.now() - started < chaosMs) {
        await pause(KILL_EVERY_MS);
        const left = await unfinishedCount(engine);
        if (left === 0) {
          drained = true;
          break;
        }
        const held = await heldByPid(context.url);
        const busy = fleet.live().filter((member) => !member.doomed && (held.get(member.process.pid) ?? 0) > 0);
        const candidates = busy.length > 0 ? busy : fleet.live().filter((member) => !member.doomed);
        const victim = candidates[Math.floor(Math.random() * candidates.length)];
        if (victim) fleet.kill(victim);
      }
      const chaosSeconds = Math.round((Date.now() - started) / 1000);
      context.log(`${drained ? 'drained' : 'chaos phase over'} after ${chaosSeconds} s, ${fleet.kills} kills; letting the workers finish`);
      // Without kills, the rest drains; a lease (5 s) and the rescuer bring back what the last kill held.
      const settled = await until(async () => (await unfinishedCount(engine)) === 0, 120_000, 500);
      const report = await checkScenario(context);
      const stopViolations = await fleet.stop();
      return {
        tasks: report.tasks,
        kills: fleet.kills,
        restarts: 0,
        invariantsChecked: report.checked + FLEET_INVARIANTS,
        violations: [...report.violations, ...fleet.findings(), ...stopViolations],
        figures: { chaos_seconds: chaosSeconds, drained_under_chaos: drained ? 'yes' : 'no', settled: settled ? 'yes' : 'no', worker_restarts: fleet.restarts },
      };
    } finally {
      await fleet.stop(5000).catch(() => []);
      await engine.close();
    }
  },
};

import { freePort } from '../../helpers/free-port.ts';
import type { StopMode } from '../chaos-postgres.ts';
import { violation, type Violation } from '../invariants.ts';
import { Fleet, FLEET_INVARIANTS } from '../fleet.ts';
import { withRawDatabase } from '../raw-database.ts';
import { checkScenario, openEngine, pause, unfinishedCount, until, workersRegistered, type Scenario } from '../scenario.ts';

const WORKERS = 2;
const CLIENTS = 4;
const DOWN_MS = 2000;
const BETWEEN_MS = 5000;
const ADMIN_PASSWORD = 'Chaos-Admin-9431';

interface LoadFigures {
  requests: number;
  byStatus: Map<number, number>;
  networkErrors: number;
  created: Set<string>;
}

/**
 * PostgreSQL restarted under API load, fast (sessions ended with 57P01) and immediate (crash, then
 * recovery), while an API server takes task creations and reads and two workers drain them. The API
 * may answer 503 while the database is away, never another 5xx; no task it acknowledged may be lost;
 * no process may die; every task completes once the server is back.
 */
export const pgRestart: Scenario = {
  name: 'pg-restart',
  engines: ['postgres'],
  description: `fast and immediate PostgreSQL restarts (${DOWN_MS / 1000} s down) under API load (${CLIENTS} clients, 1 API server, ${WORKERS} workers)`,
  async run(context) {
    const server = context.postgres!;
    const chaosMs = (context.options.seconds ?? (context.options.short ? 20 : 90)) * 1000;
    const engine = await openEngine(context.url);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const workers = new Fleet({ command: 'work', count: WORKERS, cwd: context.dir, env: context.workerEnv });
    const api = new Fleet({
      command: 'serve',
      count: 1,
      cwd: context.dir,
      env: { ...context.workerEnv, CONVEYOR__SERVER__PORT: String(port), CONVEYOR__AUTH__INITIAL_ADMIN_PASSWORD: ADMIN_PASSWORD, CONVEYOR__SERVER__TASK_CREATE_PER_MINUTE: '0' },
    });
    const load: LoadFigures = { requests: 0, byStatus: new Map(), networkErrors: 0, created: new Set() };
    let restarts = 0;
    let loading = true;
    try {
      workers.start();
      api.start();
      if (!(await workersRegistered(engine, WORKERS))) throw new Error(`the ${WORKERS} workers did not register within 90 s`);
      if (!(await until(async () => (await fetch(`${base}/health/live`).catch(() => null))?.ok === true, 60_000, 250))) throw new Error('the API server did not answer within 60 s');
      const login = await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username_or_email: 'admin', password: ADMIN_PASSWORD }) });
      const token = ((await login.json()) as { data?: { session_token?: string } }).data?.session_token;
      if (!token) throw new Error(`could not log in as admin (HTTP ${login.status})`);

      const clients = Array.from({ length: CLIENTS }, () => client(base, token, load, () => loading));
      // Load first, then the restarts, alternating fast and immediate.
      await pause(BETWEEN_MS);
      const started = Date.now();
      const modes: StopMode[] = ['fast', 'immediate'];
      while (Date.now() - started < chaosMs || restarts < 2) {
        const mode = modes[restarts % 2]!;
        await server.stop(mode);
        await pause(DOWN_MS);
        await server.start();
        restarts += 1;
        context.log(`restart ${restarts} (${mode}) done`);
        await pause(BETWEEN_MS);
      }
      loading = false;
      await Promise.all(clients);

      const settled = await until(async () => (await unfinishedCount(engine)) === 0, 120_000, 500);
      const report = await checkScenario(context);
      const found: Violation[] = [];
      const present = new Set(await withRawDatabase(context.url, async (db) => (await db.query<{ id: string }>('SELECT id::text AS id FROM tasks')).map((row) => row.id)));
      const lost = [...load.created].filter((id) => !present.has(id));
      if (lost.length > 0) found.push(violation('no-acknowledged-task-lost', lost, `${lost.length} tasks the API acknowledged (201) are not in the database`));
      const other5xx = [...load.byStatus].filter(([status]) => status >= 500 && status !== 503);
      if (other5xx.length > 0) {
        found.push(violation('api-5xx-only-503', other5xx.map(([status]) => String(status)), `API answered ${other5xx.map(([status, n]) => `${n} × ${status}`).join(', ')} (only 503 is allowed while the database is away)`));
      }
      const stopViolations = [...(await workers.stop()), ...(await api.stop())];
      return {
        tasks: report.tasks,
        kills: 0,
        restarts,
        invariantsChecked: report.checked + 2 * FLEET_INVARIANTS + 2,
        violations: [...report.violations, ...found, ...workers.findings(), ...api.findings(), ...stopViolations],
        figures: {
          requests: load.requests,
          acknowledged: load.created.size,
          status_503: load.byStatus.get(503) ?? 0,
          other_5xx: other5xx.reduce((sum, [, n]) => sum + n, 0),
          status_4xx: [...load.byStatus].filter(([status]) => status >= 400 && status < 500).reduce((sum, [, n]) => sum + n, 0),
          network_errors: load.networkErrors,
          settled: settled ? 'yes' : 'no',
          worker_restarts: workers.restarts,
        },
      };
    } finally {
      loading = false;
      await workers.stop(5000).catch(() => []);
      await api.stop(5000).catch(() => []);
      await engine.close();
    }
  },
};

/** One API client: creates tasks, and every fifth request reads the stats, until told to stop. */
async function client(base: string, token: string, load: LoadFigures, going: () => boolean): Promise<void> {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  for (let i = 0; going(); i++) {
    load.requests += 1;
    try {
      const response =
        i % 5 === 4
          ? await fetch(`${base}/tasks/stats`, { headers, signal: AbortSignal.timeout(15_000) })
          : await fetch(`${base}/tasks`, {
              method: 'POST',
              headers,
              body: JSON.stringify({ task_type: 'chaos_work', payload: { delay_ms: 10 }, max_attempts: 25, retry_strategy: { type: 'fixed', interval_ms: 0, jitter: 0 } }),
              signal: AbortSignal.timeout(15_000),
            });
      load.byStatus.set(response.status, (load.byStatus.get(response.status) ?? 0) + 1);
      const body = (await response.json().catch(() => null)) as { data?: { id?: string } } | null;
      if (response.status === 201 && body?.data?.id) load.created.add(body.data.id);
    } catch {
      load.networkErrors += 1;
    }
    // The clients' pace: a steady load, not a flood that starves the workers of the two cores.
    await pause(25);
  }
}

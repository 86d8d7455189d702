import { isWorkerLive } from '../api/views/worker-view.ts';
import { breakerLabel } from '../core/breaker-scope.ts';
import { breakerStateAt } from '../core/circuit-breaker.ts';
import { storageWarnings } from '../core/storage-health.ts';
import { readyCount } from '../core/task.ts';
import { unhandledTypes } from '../core/type-handling.ts';
import type { Engine, MigrationStatus, WorkerRecord } from '../store/engine.ts';
import { formatAgo, formatDuration } from './output.ts';

/** ok: fine; warn: worth a look; fail: a problem (doctor exits 1); skip: not checked (an earlier check failed). */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface Finding {
  check: 'database' | 'schema' | 'workers' | 'task types' | 'breakers' | 'queue' | 'leases' | 'schedules' | 'storage' | 'failures';
  status: CheckStatus;
  /** What was found, in one line. */
  summary: string;
  /** What to do about it. */
  fix?: string;
  details?: Record<string, unknown>;
}

export interface DoctorOptions {
  now: Date;
  /** A worker whose last heartbeat is older than this has stopped (server.worker_live_ms: 3 of its 10 s heartbeats). */
  workerLiveMs: number;
  /** A ready task that waited longer than this means workers are missing or not keeping up. */
  maxWaitMs: number;
  /** How often the leader rescues expired leases (worker.maintenance_interval_ms). */
  maintenanceIntervalMs: number;
  /** Apply pending migrations (the only read-write step). */
  fix: boolean;
  /** Where the workers' logs are, for the hints (log-locations.ts); a general description by default. */
  workerLogs?: string;
}

/**
 * Looks at a Conveyor installation the way an operator would and says what is wrong and what to do.
 * Read-only unless `fix` is set (then it applies pending migrations). Checks that need the schema are
 * skipped when the database or the schema is not there.
 */
export async function runDoctorChecks(engine: Engine, options: DoctorOptions): Promise<Finding[]> {
  const findings: Finding[] = [];
  const logs = options.workerLogs ?? 'the worker\'s log';
  const skipRest = (after: Finding['check']) => {
    for (const check of ['schema', 'workers', 'task types', 'breakers', 'queue', 'leases', 'schedules', 'storage', 'failures'] as const) {
      if (!findings.some((f) => f.check === check) && check !== after) findings.push({ check, status: 'skip', summary: `not checked: see ${after}` });
    }
  };

  // 1. The database answers.
  const pingStart = performance.now();
  try {
    await engine.ping();
    findings.push({ check: 'database', status: 'ok', summary: `reachable (${engine.kind}, ${Math.round(performance.now() - pingStart)} ms round trip)` });
  } catch (error) {
    findings.push({
      check: 'database',
      status: 'fail',
      summary: `unreachable: ${messageOf(error)}`,
      fix: engine.kind === 'postgres'
        ? 'Check that PostgreSQL runs and database.url is right (conveyor config shows it and where it came from).'
        : 'Check database.url (conveyor config) and that the file and its folder are readable and writable.',
    });
    skipRest('database');
    return findings;
  }

  // 2. The schema: applied with --fix, otherwise compared with the migrations this Conveyor knows.
  if (options.fix) {
    const report = await engine.migrate();
    findings.push({
      check: 'schema',
      status: 'ok',
      summary: report.applied.length === 0
        ? `up to date (schema version ${report.current})`
        : `applied ${report.applied.map(migrationName).join(', ')}; now at version ${report.current}`,
      details: { applied: report.applied, current: report.current },
    });
  } else {
    const status = await engine.migrationStatus();
    const problem = schemaProblem(status);
    if (problem) {
      findings.push({ check: 'schema', status: 'fail', ...problem, details: { current: status.current, latest: status.latest, pending: status.pending } });
      skipRest('schema');
      return findings;
    }
    findings.push({ check: 'schema', status: 'ok', summary: `up to date (schema version ${status.current})` });
  }
  const stats = await engine.taskStats({ now: options.now });

  // 3. Workers: alive by heartbeat.
  const workers = await engine.workerList();
  const live = workers.filter((w) => isWorkerLive(w, options.now, options.workerLiveMs));
  const stopped = workers.filter((w) => !isWorkerLive(w, options.now, options.workerLiveMs));
  const describe = (w: WorkerRecord) => `${w.id} (pid ${w.pid} on ${w.host}, last heartbeat ${formatAgo(w.lastHeartbeatAt, options.now)})`;
  if (stopped.length > 0) {
    findings.push({
      check: 'workers',
      status: 'fail',
      summary: `${stopped.length} worker${stopped.length === 1 ? ' has' : 's have'} stopped sending heartbeats: ${stopped.map(describe).join('; ')}`,
      fix:
        `If it crashed or was killed, start it again (./scripts/worker.sh or conveyor work; under conveyor start the supervisor restarts it itself) and read its log for the cause: ${logs}. ` +
        'Its running tasks return to the queue when their leases expire; a live worker forgets its record within about a minute.',
      details: { stopped: stopped.map((w) => w.id) },
    });
  }
  if (live.length === 0) {
    findings.push({
      check: 'workers',
      status: 'fail',
      summary: 'no live worker: tasks will stay pending',
      fix: 'Start one: ./scripts/worker.sh, conveyor work, or npm start (server and two workers).',
    });
  } else {
    const slots = live.reduce((sum, w) => sum + w.concurrency, 0);
    const busy = live.reduce((sum, w) => sum + w.running, 0);
    findings.push({ check: 'workers', status: 'ok', summary: `${live.length} live (${busy} of ${slots} slots busy)` });
  }

  // 4. Task types waiting with nobody to run them: a warning each (with no live worker at all, the
  // workers check above already says that every task waits).
  const orphaned = unhandledTypes(stats.byType, live.map((w) => w.taskTypes));
  const takes = [...new Set(live.flatMap((w) => w.taskTypes))].sort().join(', ') || 'nothing';
  for (const { taskType, waiting } of orphaned) {
    findings.push({
      check: 'task types',
      status: 'warn',
      summary: `no live worker takes ${taskType} (${waiting} waiting)`,
      fix:
        `Its tasks wait until a worker with a handler for ${taskType} starts (the live workers take ${takes}): start one (worker.task_types, tasks.modules / conveyor work --tasks), ` +
        `or cancel them: conveyor tasks list --type ${taskType} --status pending,scheduled,retrying.`,
      details: { task_type: taskType, waiting },
    });
  }
  if (orphaned.length === 0 && live.length > 0) {
    findings.push({ check: 'task types', status: 'ok', summary: 'every waiting task type has a live worker' });
  }
  // Paused on purpose, so a warning: but its tasks wait, and the queue below counts them.
  for (const pause of await engine.typePauseList()) {
    const waiting = readyCount(stats.byType[pause.taskType] ?? {});
    findings.push({
      check: 'task types',
      status: 'warn',
      summary: `${pause.taskType} is paused since ${pause.pausedAt.toISOString()}${pause.reason ? ` (${pause.reason})` : ''}; ${waiting} task${waiting === 1 ? ' waits' : 's wait'}`,
      fix: `When it may run again: conveyor types resume ${pause.taskType} (or POST /tasks/types/${pause.taskType}/resume).`,
    });
  }

  // 5. Circuit breakers.
  const breakers = await engine.breakerList();
  const open = breakers.filter((b) => breakerStateAt(b, options.now) === 'open');
  const halfOpen = breakers.filter((b) => breakerStateAt(b, options.now) === 'half_open');
  for (const b of open) {
    const label = breakerLabel(b.taskType, b.scope);
    const reset = `/circuit-breakers/${b.taskType}/reset${b.scope === null ? '' : `?scope=${encodeURIComponent(b.scope)}`}`;
    findings.push({
      check: 'breakers',
      // A scoped breaker (one webhook destination) is that destination's problem, not the service's.
      status: b.scope === null ? 'fail' : 'warn',
      summary: `${label}: circuit breaker open after ${b.consecutiveFailures} failures in a row; its tasks wait until ${b.reopensAt?.toISOString() ?? '?'} (${formatAgo(b.reopensAt, options.now)})`,
      fix:
        `Its tasks wait without spending attempts. Find the cause: conveyor tasks list --type ${b.taskType} --status retrying,failed; ` +
        `conveyor dead-letter list --type ${b.taskType}; grep -i error ${logs}. It half-opens by itself; an admin can close it now with POST ${reset}.`,
      details: { task_type: b.taskType, scope: b.scope, reopens_at: b.reopensAt?.toISOString() ?? null },
    });
  }
  for (const b of halfOpen) {
    findings.push({ check: 'breakers', status: 'warn', summary: `${breakerLabel(b.taskType, b.scope)}: circuit breaker half-open, trying again after ${b.consecutiveFailures} failures` });
  }
  if (open.length === 0 && halfOpen.length === 0) findings.push({ check: 'breakers', status: 'ok', summary: `all closed (${breakers.length} breakers have a record)` });

  // 6. Queue age.
  if (stats.oldestReadyAgeMs !== null && stats.oldestReadyAgeMs > options.maxWaitMs) {
    findings.push({
      check: 'queue',
      status: 'fail',
      summary: `the oldest ready task has waited ${formatDuration(stats.oldestReadyAgeMs)} (threshold ${formatDuration(options.maxWaitMs)})`,
      fix: 'Workers are missing or not keeping up: see the workers and breakers above; add workers (more ./scripts/worker.sh or machines) or raise worker.concurrency.',
    });
  } else {
    findings.push({ check: 'queue', status: 'ok', summary: stats.oldestReadyAgeMs === null ? 'no task is waiting' : `the oldest ready task has waited ${formatDuration(stats.oldestReadyAgeMs)}` });
  }

  // 7. Running tasks whose lease ran out: their worker died; the leader's rescuer takes them back.
  const running = await engine.taskList({ status: ['running'], limit: 1000 });
  const expired = running.tasks.filter((t) => t.leaseExpiresAt !== null && t.leaseExpiresAt.getTime() < options.now.getTime());
  const overdueMs = Math.max(15_000, options.maintenanceIntervalMs * 3);
  const stuck = expired.filter((t) => options.now.getTime() - t.leaseExpiresAt!.getTime() > overdueMs);
  if (stuck.length > 0) {
    findings.push({
      check: 'leases',
      status: 'fail',
      summary: `${stuck.length} running task${stuck.length === 1 ? '' : 's'} whose lease expired more than ${formatDuration(overdueMs)} ago and nobody took back: ${stuck.slice(0, 5).map((t) => t.id).join(', ')}${stuck.length > 5 ? ', ...' : ''}`,
      fix: 'Rescuing needs a live worker (the elected one runs the rescuer): start a worker; it hands these tasks to a retry, or to the dead letter after worker.max_rescues.',
      details: { task_ids: stuck.map((t) => t.id) },
    });
  } else if (expired.length > 0) {
    findings.push({ check: 'leases', status: 'warn', summary: `${expired.length} running task(s) just lost their lease (a worker stopped); the rescuer takes them back shortly` });
  } else {
    findings.push({ check: 'leases', status: 'ok', summary: `${running.tasks.length} running, every lease current` });
  }

  // 8. Schedules that should have fired: the leader (any live worker) fires them.
  const schedules = (await engine.scheduleList({})).filter((s) => s.enabled && s.nextRunAt !== null);
  const late = schedules.filter((s) => options.now.getTime() - s.nextRunAt!.getTime() > overdueMs);
  if (late.length > 0) {
    findings.push({
      check: 'schedules',
      status: 'fail',
      summary: `${late.length} schedule${late.length === 1 ? '' : 's'} due more than ${formatDuration(overdueMs)} ago and not fired: ${late.slice(0, 5).map((s) => s.name).join(', ')}${late.length > 5 ? ', ...' : ''}`,
      fix: 'Schedules are fired by the elected worker: start a worker (any task types will do); a run missed meanwhile is made once, the rest skipped.',
      details: { schedule_ids: late.map((s) => s.id) },
    });
  } else {
    findings.push({ check: 'schedules', status: 'ok', summary: schedules.length === 0 ? 'no enabled schedule' : `${schedules.length} enabled, none overdue` });
  }

  // 9. The database's own health: dead rows, a transaction left open, a growing SQLite log.
  const storage = await engine.storageStats({ now: options.now });
  const problems = storageWarnings(storage, options.now);
  for (const problem of problems) findings.push({ check: 'storage', status: 'warn', summary: problem.problem, fix: problem.fix });
  if (problems.length === 0) {
    const dead = storage.tables.reduce((sum, t) => sum + t.deadRows, 0);
    const parts = [
      storage.walBytes !== null ? `write-ahead log ${Math.round(storage.walBytes / 1024 / 1024)} MB` : `${dead.toLocaleString('en')} dead rows awaiting vacuum`,
      ...(storage.oldestTransaction ? [`longest open transaction ${Math.round(storage.oldestTransaction.ageMs / 1000)} s`] : []),
    ];
    findings.push({ check: 'storage', status: 'ok', summary: parts.join(', ') });
  }

  // 10. Recent failures: worth a look, not a failure of the system.
  if (stats.failedLastHour > 0) {
    findings.push({
      check: 'failures',
      status: 'warn',
      summary: `${stats.failedLastHour} task(s) went to the dead letter in the last hour (${stats.completedLastHour} completed)`,
      fix: `conveyor dead-letter list shows their errors; grep -i error ${logs} for patterns; conveyor dead-letter retry-all once the cause is fixed.`,
    });
  } else {
    findings.push({ check: 'failures', status: 'ok', summary: `none in the last hour (${stats.completedLastHour} completed)` });
  }
  return findings;
}

function migrationName(m: { version: number; name: string }): string {
  return `${String(m.version).padStart(4, '0')}_${m.name}`;
}

/** What is wrong with the schema, if anything: never migrated, migrations pending, or newer than this code. */
function schemaProblem(status: MigrationStatus): { summary: string; fix: string } | null {
  if (status.current > status.latest) {
    return { summary: `the schema is at version ${status.current}, newer than this Conveyor knows (${status.latest})`, fix: 'Upgrade Conveyor here to the version the workers and servers run.' };
  }
  if (status.current === 0) {
    return { summary: 'the database has no Conveyor tables: it was never migrated', fix: 'Run `conveyor migrate` (or ./scripts/dev.sh, or `conveyor doctor --fix`).' };
  }
  if (status.pending.length > 0) {
    return {
      summary: `the schema is at version ${status.current}; ${status.pending.length} migration${status.pending.length === 1 ? '' : 's'} pending: ${status.pending.map(migrationName).join(', ')}`,
      fix: 'Run `conveyor migrate` (or `conveyor doctor --fix`); workers and servers also apply them when they start.',
    };
  }
  return null;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runDoctorChecks, type DoctorOptions, type Finding } from '../../src/cli/doctor-checks.ts';
import { DEFAULT_BREAKER_CONFIG } from '../../src/core/circuit-breaker.ts';
import { newSchedule } from '../../src/core/schedule.ts';
import { createEngine } from '../helpers/create-engine.ts';
import type { WorkerInfo } from '../../src/store/engine.ts';
import { describeEachEngine } from '../contract/engine-fixture.ts';
import { testDatabases } from '../helpers/databases.ts';
import { rawExec } from '../helpers/raw-exec.ts';
import { readMigrations } from '../../src/store/migration-files.ts';

const MINUTE = 60_000;
/** Both engines have the same migration numbers and names; read them rather than list them here. */
const MIGRATIONS = readMigrations(fileURLToPath(new URL('../../src/store/sqlite/migrations', import.meta.url))).map((m) => `${String(m.version).padStart(4, '0')}_${m.name}`);
const LATEST = Number(MIGRATIONS.at(-1)!.slice(0, 4));

function worker(id: string, taskTypes: string[], startedAt: Date): WorkerInfo {
  return { id, host: 'test-host', pid: 4242, concurrency: 4, running: 0, taskTypes, startedAt };
}

const failed = (findings: Finding[]) => findings.filter((f) => f.status === 'fail');
const find = (findings: Finding[], check: Finding['check'], status?: Finding['status']) =>
  findings.filter((f) => f.check === check && (status === undefined || f.status === status));

describeEachEngine('conveyor doctor checks', (fixture) => {
  const options = (): DoctorOptions => ({ now: fixture().clock.now(), workerLiveMs: 30_000, maxWaitMs: 5 * MINUTE, maintenanceIntervalMs: 5000, fix: false });

  it('a healthy installation: every check passes', async () => {
    const { engine, clock } = fixture();
    await engine.workerHeartbeat({ worker: worker('w-live', ['email'], clock.now()), now: clock.now() });
    await fixture().insert();
    const findings = await runDoctorChecks(engine, options());
    expect(failed(findings)).toEqual([]);
    expect(find(findings, 'database', 'ok')).toHaveLength(1);
    expect(find(findings, 'workers', 'ok')[0]!.summary).toBe('1 live (0 of 4 slots busy)');
    expect(find(findings, 'storage', 'ok')[0]!.summary).toMatch(/^(write-ahead log \d+ MB|[\d,]+ dead rows awaiting vacuum)/);
  });

  it('a worker whose heartbeat stopped is reported with what to do', async () => {
    const { engine, clock } = fixture();
    const longAgo = new Date(clock.now().getTime() - 5 * MINUTE);
    await engine.workerHeartbeat({ worker: worker('w-dead', ['email'], longAgo), now: longAgo });
    const findings = await runDoctorChecks(engine, options());
    const [stopped, none] = find(findings, 'workers', 'fail');
    expect(stopped!.summary).toMatch(/^1 worker has stopped sending heartbeats: w-dead \(pid 4242 on test-host, last heartbeat 5m 00s ago\)/);
    expect(stopped!.fix).toContain('./scripts/worker.sh');
    expect(none!.summary).toBe('no live worker: tasks will stay pending');
  });

  it('an open circuit breaker is reported with its type, its reopening time and how to reset it', async () => {
    const { engine, clock } = fixture();
    await engine.workerHeartbeat({ worker: worker('w-live', ['email', 'webhook'], clock.now()), now: clock.now() });
    for (let i = 0; i < DEFAULT_BREAKER_CONFIG.failureThreshold; i++) {
      await engine.breakerRecord({ taskType: 'webhook', outcome: 'failure', now: clock.now(), config: DEFAULT_BREAKER_CONFIG });
    }
    const findings = await runDoctorChecks(engine, options());
    const [open] = find(findings, 'breakers', 'fail');
    expect(open!.summary).toContain('webhook: circuit breaker open after 5 failures in a row');
    expect(open!.summary).toContain(new Date(clock.now().getTime() + DEFAULT_BREAKER_CONFIG.openMs).toISOString());
    expect(open!.fix).toContain('POST /circuit-breakers/webhook/reset');
    clock.advance(DEFAULT_BREAKER_CONFIG.openMs + 1);
    const later = await runDoctorChecks(engine, { ...options(), workerLiveMs: 10 * MINUTE });
    expect(find(later, 'breakers', 'warn')[0]!.summary).toContain('webhook: circuit breaker half-open');
  });

  it('old ready tasks, types nobody runs, expired leases and schedules nobody fired are problems', async () => {
    const { engine, clock } = fixture();
    const schedule = await engine.scheduleInsert({ schedule: newSchedule({ name: 'hourly-report', cron: '@hourly', taskType: 'report', payload: {} }, clock.now()) });
    await fixture().insert({ taskType: 'report' });
    const running = await fixture().insert({ taskType: 'email' });
    await engine.taskClaim({ workerId: 'w-gone', taskTypes: ['email'], limit: 1, now: clock.now(), leaseMs: 30_000 });
    clock.advance(10 * MINUTE);
    await engine.workerHeartbeat({ worker: worker('w-live', ['email'], clock.now()), now: clock.now() });
    const findings = await runDoctorChecks(engine, options());
    expect(find(findings, 'queue', 'fail')[0]!.summary).toBe('the oldest ready task has waited 10m 00s (threshold 5m 00s)');
    const [orphan] = find(findings, 'task types', 'warn');
    expect(orphan!.summary).toBe('no live worker takes report (1 waiting)');
    expect(orphan!.details).toEqual({ task_type: 'report', waiting: 1 });
    expect(orphan!.fix).toContain('the live workers take email');
    const [leases] = find(findings, 'leases', 'fail');
    expect(leases!.summary).toContain(running.id);
    expect(leases!.details).toEqual({ task_ids: [running.id] });
    expect(find(findings, 'schedules', 'ok')).toHaveLength(1);
    clock.advance(60 * MINUTE);
    const [late] = find(await runDoctorChecks(engine, options()), 'schedules', 'fail');
    expect(late!.summary).toMatch(/^1 schedule due more than .* ago and not fired: hourly-report$/);
    expect(late!.details).toEqual({ schedule_ids: [schedule.id] });
  });

  it('a waiting type no live worker lists is a warning per type; with no live worker at all, one finding says so', async () => {
    const { engine, clock } = fixture();
    await fixture().insert({ taskType: 'legacy_import' });
    await fixture().insert({ taskType: 'legacy_import', scheduledAt: new Date(clock.now().getTime() + MINUTE) });
    await fixture().insert({ taskType: 'report' });
    // No worker yet: the workers check fails once; no type is named.
    const alone = await runDoctorChecks(engine, options());
    expect(find(alone, 'workers', 'fail').map((f) => f.summary)).toEqual(['no live worker: tasks will stay pending']);
    expect(find(alone, 'task types')).toEqual([]);
    // Two live workers; one of them takes report, so report is handled; legacy_import is not (a stopped worker listing it does not count).
    const longAgo = new Date(clock.now().getTime() - 5 * MINUTE);
    await engine.workerHeartbeat({ worker: worker('w-old', ['legacy_import'], longAgo), now: longAgo });
    await engine.workerHeartbeat({ worker: worker('w-mail', ['email'], clock.now()), now: clock.now() });
    await engine.workerHeartbeat({ worker: worker('w-report', ['email', 'report'], clock.now()), now: clock.now() });
    const findings = await runDoctorChecks(engine, options());
    expect(find(findings, 'task types').map((f) => [f.status, f.summary])).toEqual([['warn', 'no live worker takes legacy_import (2 waiting)']]);
  });

  it('a paused type is a warning that says how many wait and how to resume it', async () => {
    const { engine, clock } = fixture();
    await engine.workerHeartbeat({ worker: worker('w-live', ['email'], clock.now()), now: clock.now() });
    await fixture().insert({ taskType: 'email' });
    await engine.typePause({ taskType: 'email', now: clock.now(), pausedBy: null, reason: 'SMTP maintenance' });
    const [paused] = find(await runDoctorChecks(engine, options()), 'task types', 'warn');
    expect(paused!.summary).toBe(`email is paused since ${clock.now().toISOString()} (SMTP maintenance); 1 task waits`);
    expect(paused!.fix).toContain('conveyor types resume email');
  });

  it('a database behind this version names the pending migrations and stops there, without applying them', async () => {
    const { engine, db } = fixture();
    await rawExec(db, 'DELETE FROM conveyor_migrations WHERE version >= 2');
    const findings = await runDoctorChecks(engine, options());
    const [behind] = find(findings, 'schema', 'fail');
    expect(behind!.summary).toBe(`the schema is at version 1; ${MIGRATIONS.length - 1} migrations pending: ${MIGRATIONS.slice(1).join(', ')}`);
    expect(behind!.fix).toContain('conveyor migrate');
    expect(find(findings, 'workers', 'skip')).toHaveLength(1);
    expect((await engine.migrationStatus()).pending).toHaveLength(MIGRATIONS.length - 1);
  });

  it('recent dead letters are a warning, not a failure', async () => {
    const { engine, clock } = fixture();
    await engine.workerHeartbeat({ worker: worker('w-live', ['email'], clock.now()), now: clock.now() });
    await fixture().insert({ maxAttempts: 1 });
    const [claimed] = await fixture().claim(1, 'w-live', ['email']);
    await engine.taskFail({ lease: { id: claimed!.id, attempt: 1, workerId: 'w-live' }, error: 'smtp down', now: clock.now() });
    const findings = await runDoctorChecks(engine, options());
    expect(failed(findings)).toEqual([]);
    expect(find(findings, 'failures', 'warn')[0]!.summary).toBe('1 task(s) went to the dead letter in the last hour (0 completed)');
  });
});

describe.each(testDatabases)('conveyor doctor on a database never migrated [$kind]', ({ create }) => {
  it('says the schema is missing, and --fix migrates it', async () => {
    const db = create();
    const engine = createEngine(db.url);
    try {
      const now = new Date();
      const base: DoctorOptions = { now, workerLiveMs: 30_000, maxWaitMs: 5 * MINUTE, maintenanceIntervalMs: 5000, fix: false };
      const before = await runDoctorChecks(engine, base);
      expect(find(before, 'schema', 'fail')[0]!.fix).toContain('conveyor migrate');
      expect(find(before, 'workers', 'skip')).toHaveLength(1);
      const fixed = await runDoctorChecks(engine, { ...base, fix: true });
      expect(find(fixed, 'schema', 'ok')[0]!.summary).toBe(`applied ${MIGRATIONS.join(', ')}; now at version ${LATEST}`);
      const again = await runDoctorChecks(engine, { ...base, fix: true });
      expect(find(again, 'schema', 'ok')[0]!.summary).toBe(`up to date (schema version ${LATEST})`);
    } finally {
      await engine.close();
      await db.drop();
    }
  });
});

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BREAKER_CONFIG } from '../../src/core/circuit-breaker.ts';
import type { Engine } from '../../src/store/engine.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startWorker, type WorkerProcess } from '../helpers/worker-process.ts';
import { cliSandbox, openSandboxEngine, runCli, runCliJson, type CliSandbox } from './cli-helpers.ts';
import { APPLIED_ALL } from '../helpers/known-migrations.ts';

/**
 * `conveyor doctor` against real processes: a worker that runs, then one killed with SIGKILL (its
 * heartbeat stops), and a circuit breaker opened by five failures.
 */
let box: CliSandbox;
let engine: Engine;
let worker: WorkerProcess | undefined;
// A worker counts as stopped one second after its last heartbeat (the least the setting allows), so
// the test does not wait out the default 30 s.
let doctorEnv: Record<string, string>;

beforeAll(async () => {
  box = cliSandbox();
  doctorEnv = { ...box.env, CONVEYOR__SERVER__WORKER_LIVE_MS: '1000' };
  engine = await openSandboxEngine(box);
});
afterAll(async () => {
  await worker?.kill();
  await engine?.close();
  box?.remove();
});

describe('conveyor doctor', () => {
  it('on a database that was never created: says so, exits 1 and creates nothing; --fix creates and migrates it', async () => {
    const file = join(box.dir, 'fresh', 'conveyor.db');
    const env = { ...box.env, CONVEYOR__DATABASE__URL: `sqlite:${file}` };
    const result = await runCli(['doctor'], { env });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAIL\s+database\s+the SQLite database file does not exist/);
    expect(result.stdout).toContain('conveyor doctor --fix');
    expect(existsSync(file)).toBe(false);
    const fixed = await runCliJson(['doctor', '--fix'], { env });
    expect(fixed.data.findings).toContainEqual(expect.objectContaining({ check: 'schema', status: 'ok', summary: APPLIED_ALL }));
    // Nothing runs there yet: that is a problem too, with what to do.
    expect(fixed.code).toBe(1);
    expect(fixed.data.findings).toContainEqual(expect.objectContaining({ check: 'workers', status: 'fail', summary: 'no live worker: tasks will stay pending' }));
  });

  it('a running worker passes; a breaker opened by five failures fails with what to do; a killed worker is detected as stopped', async () => {
    worker = startWorker({ databaseUrl: box.databaseUrl, entry: 'cli', args: ['--no-migrate'], env: { CONVEYOR__DATA__DIR: join(box.dir, 'data') } });
    await worker.started();

    const healthy = await runCli(['doctor'], { env: box.env });
    expect(healthy.stdout).toMatch(/ok\s+workers\s+1 live \(0 of 4 slots busy\)/);
    expect(healthy.stdout).toContain('No problems found.');
    expect(healthy.code).toBe(0);

    const now = new Date();
    for (let i = 0; i < DEFAULT_BREAKER_CONFIG.failureThreshold; i++) {
      await engine.breakerRecord({ taskType: 'webhook', outcome: 'failure', now, config: DEFAULT_BREAKER_CONFIG });
    }
    const broken = await runCli(['doctor'], { env: box.env });
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/FAIL\s+breakers\s+webhook: circuit breaker open after 5 failures in a row; its tasks wait until \S+ \(in \d+s\)/);
    expect(broken.stdout).toContain('POST /circuit-breakers/webhook/reset');
    expect(broken.stdout).toContain('1 problem found.');

    const pid = worker.pid;
    worker.signal('SIGKILL');
    await worker.exited;
    // Poll the doctor itself until the dead worker's last heartbeat is older than the live window.
    const report = await waitFor(
      async () => {
        const run = await runCliJson(['doctor'], { env: doctorEnv });
        return run.data.findings.some((f: { summary: string }) => f.summary.includes('stopped sending heartbeats')) ? run : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200, message: 'doctor to notice the killed worker' },
    );
    expect(report.code).toBe(1);
    const stopped = report.data.findings.find((f: { check: string; status: string }) => f.check === 'workers' && f.status === 'fail');
    expect(stopped.summary).toMatch(new RegExp(`^1 worker has stopped sending heartbeats: \\S+:${pid}:\\S+ \\(pid ${pid} on `));
    expect(stopped.fix).toContain('./scripts/worker.sh');
    expect(report.data.findings).toContainEqual(expect.objectContaining({ check: 'breakers', status: 'fail' }));
    expect(report.data).toMatchObject({ ok: false, problems: expect.any(Number) });
  });

  it('names the worker logs where they are: data/logs under npm start, the scripts\' log dir under ./scripts/worker.sh', async () => {
    const dataDir = join(box.dir, 'hints-data');
    const scriptsDir = join(box.dir, 'hints-scripts');
    const env = { ...box.env, CONVEYOR__DATA__DIR: dataDir, CONVEYOR_LOG_DIR: scriptsDir };
    const now = new Date();
    for (let i = 0; i < DEFAULT_BREAKER_CONFIG.failureThreshold; i++) {
      await engine.breakerRecord({ taskType: 'sms', outcome: 'failure', now, config: DEFAULT_BREAKER_CONFIG });
    }
    const hint = async () => {
      const run = await runCliJson(['doctor'], { env });
      return run.data.findings.find((f: { details?: { task_type?: string } }) => f.details?.task_type === 'sms').fix as string;
    };
    const startLogs = join(dataDir, 'logs', 'worker-*.log');
    const scriptsLog = join(scriptsDir, 'starter-worker.log');

    // Neither exists here: both are named, each with the way of starting that writes it.
    expect(await hint()).toContain(`grep -i error ${startLogs} under npm start, ${scriptsLog} under ./scripts/worker.sh, or the output of conveyor work.`);

    // Started with npm start: only its logs are named.
    mkdirSync(join(dataDir, 'logs'), { recursive: true });
    writeFileSync(join(dataDir, 'logs', 'worker-1.log'), '');
    const underStart = await hint();
    expect(underStart).toContain(`grep -i error ${startLogs} (conveyor start / npm start).`);
    expect(underStart).not.toContain('starter-worker.log');

    // Both exist: both, each with its condition.
    mkdirSync(scriptsDir, { recursive: true });
    writeFileSync(scriptsLog, '');
    expect(await hint()).toContain(`grep -i error ${startLogs} (conveyor start / npm start) or ${scriptsLog} (./scripts/worker.sh).`);
  });
});

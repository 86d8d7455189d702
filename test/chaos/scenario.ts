import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { TaskInput } from '../../src/core/new-task.ts';
import type { TaskStatus } from '../../src/core/task.ts';
import { createEngine } from '../helpers/create-engine.ts';
import type { Engine } from '../../src/store/engine.ts';
import { insertTasks } from '../helpers/task-fixtures.ts';
import type { ChaosPostgres } from './chaos-postgres.ts';
import { trackDir } from './cleanup.ts';
import { CHAOS_WORKER_ENV } from './fleet.ts';
import { checkInvariants, type InvariantReport, type PoisonExpectation, type Violation } from './invariants.ts';
import { explainDeadLetters } from './explain-dead-letters.ts';
import { withRawDatabase } from './raw-database.ts';

export type EngineKind = 'sqlite' | 'postgres';

export interface ChaosOptions {
  short: boolean;
  /** Bounds each scenario's chaos phase (the kill loop, the restarts, ...); scenarios pick a default. */
  seconds: number | null;
}

/** What a scenario runs against: a fresh database of its own, a folder, the options. */
export interface ScenarioContext {
  engine: EngineKind;
  url: string;
  /** The workers' working directory (their data dir lives here). */
  dir: string;
  options: ChaosOptions;
  /** Where the workers write down each start of an innocent attempt (see explain-dead-letters.ts). */
  recordDir: string;
  /** The environment of every worker and API process: the database, the data folder, short leases. */
  workerEnv: Record<string, string>;
  /** The private PostgreSQL, when the engine is postgres (pg-restart restarts it). */
  postgres: ChaosPostgres | null;
  log(message: string): void;
}

export interface ScenarioResult {
  engine: EngineKind;
  scenario: string;
  tasks: number;
  /** Worker processes the suite SIGKILLed or SIGSTOPped on purpose. */
  kills: number;
  /** PostgreSQL restarts. */
  restarts: number;
  invariantsChecked: number;
  violations: Violation[];
  seconds: number;
  /** Scenario-specific figures (5xx counts, late reports refused, ...). */
  figures: Record<string, number | string>;
}

export interface Scenario {
  name: string;
  engines: readonly EngineKind[];
  description: string;
  run(context: ScenarioContext): Promise<Omit<ScenarioResult, 'engine' | 'scenario' | 'seconds'>>;
}

/** A fresh database for one scenario: a SQLite file in its own folder, or a schema on the private PostgreSQL. */
export function scenarioContext(engine: EngineKind, options: ChaosOptions, postgres: ChaosPostgres | null, scenario: string): ScenarioContext {
  const dir = mkdtempSync(join(tmpdir(), `conveyor-chaos-${scenario}-`));
  trackDir(dir);
  const url = engine === 'sqlite' ? `sqlite:${join(dir, 'conveyor.db')}` : postgres!.url(`chaos_${randomBytes(4).toString('hex')}`);
  const recordDir = join(dir, 'starts');
  mkdirSync(recordDir);
  const workerEnv = { ...CHAOS_WORKER_ENV, CONVEYOR__DATABASE__URL: url, CONVEYOR__DATA__DIR: dir, CHAOS_RECORD_DIR: recordDir };
  return { engine, url, dir, recordDir, workerEnv, options, postgres, log: (message) => process.stderr.write(`  [${engine} ${scenario}] ${message}\n`) };
}

export async function openEngine(url: string): Promise<Engine> {
  const engine = createEngine(url);
  await engine.migrate();
  return engine;
}

/** Retries immediately: a task that lost an attempt to chaos runs again at once. */
export const IMMEDIATE = { type: 'fixed', interval_ms: 0, jitter: 0 } as const;

export function innocentTasks(count: number, delayMs: number, maxAttempts = 25): TaskInput[] {
  return Array.from({ length: count }, () => ({ taskType: 'chaos_work', payload: { delay_ms: delayMs }, retryStrategy: { ...IMMEDIATE, max_attempts: maxAttempts } }));
}

export { insertTasks };

const UNFINISHED: readonly TaskStatus[] = ['pending', 'scheduled', 'running', 'retrying'];

/** Tasks not yet finished, or null while the database cannot answer (a restart). */
export async function unfinishedCount(engine: Engine): Promise<number | null> {
  try {
    const { byStatus } = await engine.taskStats({ now: new Date() });
    return UNFINISHED.reduce((sum, status) => sum + (byStatus[status] ?? 0), 0);
  } catch {
    return null;
  }
}

/** Polls until `probe` holds or `timeoutMs` passes; says which. A bounded wait on observable state. */
export async function until(probe: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() >= deadline) return false;
    await pause(intervalMs);
  }
}

/** A pause that is part of the scenario (the kill loop's rhythm, an outage's length), never a synchronisation. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Last heartbeat of each registered worker, by pid. */
export async function heartbeatsByPid(engine: Engine): Promise<Map<number, number>> {
  try {
    return new Map((await engine.workerList()).map((worker) => [worker.pid, worker.lastHeartbeatAt.getTime()]));
  } catch {
    return new Map();
  }
}

/** Tasks each worker process holds right now (running rows), by pid: worker ids are host:pid:random. */
export async function heldByPid(url: string): Promise<Map<number, number>> {
  try {
    const rows = await withRawDatabase(url, (db) => db.query<{ worker_id: string; held: number | string }>(`SELECT worker_id, count(*) AS held FROM tasks WHERE status = 'running' GROUP BY worker_id`));
    return new Map(rows.map((row) => [Number(row.worker_id.split(':').at(-2)), Number(row.held)]));
  } catch {
    return new Map();
  }
}

/** Waits until `count` workers registered (they started and reached the database). */
export async function workersRegistered(engine: Engine, count: number, timeoutMs = 90_000): Promise<boolean> {
  return until(async () => {
    try {
      return (await engine.workerList()).length >= count;
    } catch {
      return false;
    }
  }, timeoutMs, 200);
}

/** The invariants over the scenario's database, a dead-lettered innocent's story added to its violation. */
export async function checkScenario(context: ScenarioContext, poisons: PoisonExpectation[] = []): Promise<InvariantReport> {
  const report = await withRawDatabase(context.url, (db) => checkInvariants(db, poisons));
  const deadLetter = report.violations.find((v) => v.invariant === 'no-innocent-dead-letter');
  if (deadLetter) {
    const why = await explainDeadLetters(context.url, new Set(poisons.map((p) => p.id)), context.recordDir);
    if (why) deadLetter.detail += `; ${why}`;
  }
  return report;
}

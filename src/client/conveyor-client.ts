import { systemClock, type Clock } from '../core/clock.ts';
import { newTask, type TaskInput } from '../core/new-task.ts';
import type { ScheduleInput, ScheduleRecord } from '../core/schedule.ts';
import type { TaskRecord } from '../core/task.ts';
import { openMigratedEngine, type OpenMigratedOptions } from '../store/create-engine.ts';
import { DEFAULT_DATABASE_URL } from '../store/database-url.ts';
import type { Engine, EngineTransaction, TaskInsertResult, TaskListParams, TaskListResult, TaskStats, TypeLimit, TypePause } from '../store/engine.ts';
import type { Logger } from '../core/logger.ts';
import { TaskTypeCatalog } from '../tasks/task-type-catalog.ts';
import { saveSchedule, scheduleNamed } from './save-schedule.ts';

export interface ConveyorClientOptions {
  /** `sqlite:./data/conveyor.db` (default) or `postgres://...`. */
  databaseUrl?: string;
  /** Apply pending migrations when opening (default true). */
  migrate?: boolean;
  clock?: Clock;
  logger?: Logger;
  /**
   * Check each task's type and payload against the task types workers registered in this database
   * (default true), as the API does: an unknown type or a payload that breaks its schema is a
   * ConveyorError (CONVEYOR_VALIDATION) naming the field, `payload.to`, before anything is written.
   * On a database no worker has registered a type in yet, any type is accepted.
   */
  validate?: boolean;
}

/** How long the registered task types are trusted before they are read again (a miss reads again after a second). */
const TASK_TYPE_CACHE_MS = 5_000;

export interface EnqueueOptions {
  /**
   * The application's own transaction: a `pg` client inside BEGIN (PostgreSQL) or a better-sqlite3
   * Database (SQLite). The task then exists if and only if that transaction commits.
   */
  tx?: EngineTransaction | null | undefined;
}

/**
 * Conveyor for an application: enqueue tasks and look after them from TypeScript, on the same
 * database the workers and the API use.
 *
 *   const conveyor = await ConveyorClient.open({ databaseUrl: process.env.DATABASE_URL });
 *   const { task } = await conveyor.enqueue({ taskType: 'email', payload: { to, subject, body } });
 */
export class ConveyorClient {
  readonly engine: Engine;
  readonly #clock: Clock;
  readonly #taskTypes: TaskTypeCatalog | null;

  private constructor(engine: Engine, clock: Clock, validate: boolean) {
    this.engine = engine;
    this.#clock = clock;
    // The cache ages in real time even when the application's clock is a test's ManualClock.
    this.#taskTypes = validate ? new TaskTypeCatalog({ engine, clock: systemClock, cacheMs: TASK_TYPE_CACHE_MS, acceptWhenEmpty: true }) : null;
  }

  static async open(options: ConveyorClientOptions = {}): Promise<ConveyorClient> {
    const engine = await openMigratedEngine(options.databaseUrl ?? DEFAULT_DATABASE_URL, engineOptions(options));
    return new ConveyorClient(engine, options.clock ?? systemClock, options.validate ?? true);
  }

  /** Validates and inserts one task. With a repeated idempotency key, returns the first task (`created: false`). */
  async enqueue(input: TaskInput, options: EnqueueOptions = {}): Promise<TaskInsertResult> {
    const task = newTask(input, this.#clock.now());
    await this.#taskTypes?.validate(task.taskType, task.payload, 'payload', 'task_type');
    return this.engine.taskInsert(options.tx === undefined ? { task } : { task, tx: options.tx });
  }

  /** Validates every task first (an error names the index: `tasks[3].payload`), then inserts all in one transaction. */
  async enqueueMany(inputs: readonly TaskInput[], options: EnqueueOptions = {}): Promise<TaskInsertResult[]> {
    const now = this.#clock.now();
    const tasks = inputs.map((input, index) => newTask(input, now, `tasks[${index}]`));
    await this.#taskTypes?.validateMany(tasks, (index) => ({ field: `tasks[${index}].payload`, typeField: `tasks[${index}].task_type` }));
    return this.engine.taskInsertMany(options.tx === undefined ? { tasks } : { tasks, tx: options.tx });
  }

  get(id: string): Promise<TaskRecord | null> {
    return this.engine.taskGet({ id });
  }

  list(params: TaskListParams): Promise<TaskListResult> {
    return this.engine.taskList(params);
  }

  cancel(id: string) {
    return this.engine.taskCancel({ id, now: this.#clock.now() });
  }

  retry(id: string) {
    return this.engine.taskRetry({ id, now: this.#clock.now() });
  }

  /**
   * Declares a recurring schedule: created the first time, made to match `input` after that (call it
   * at every start-up). Workers fire it; each firing enqueues one task.
   *
   *   await conveyor.schedule({ name: 'nightly-report', cron: '0 3 * * *', timezone: 'Europe/Berlin', taskType: 'report_generation', payload });
   */
  async schedule(input: ScheduleInput): Promise<{ schedule: ScheduleRecord; created: boolean }> {
    await this.#taskTypes?.validate(input.taskType, input.payload, 'payload', 'task_type');
    return saveSchedule(this.engine, input, this.#clock.now());
  }

  /** Deletes the schedule of that name (made without an owner); true when there was one. Its tasks stay. */
  async unschedule(name: string): Promise<boolean> {
    const schedule = await scheduleNamed(this.engine, name, null);
    return schedule ? this.engine.scheduleDelete({ id: schedule.id }) : false;
  }

  schedules(): Promise<ScheduleRecord[]> {
    return this.engine.scheduleList({});
  }

  /** Workers stop claiming the type until resume(); its tasks wait, spending nothing. */
  pause(taskType: string, reason: string | null = null): Promise<TypePause> {
    return this.engine.typePause({ taskType, now: this.#clock.now(), pausedBy: null, reason });
  }

  /** Lets workers claim a paused type again; false when it was not paused. */
  resume(taskType: string): Promise<boolean> {
    return this.engine.typeResume({ taskType });
  }

  /** At most `maxRunning` tasks of the type at once, across every worker; null removes the limit. */
  limit(taskType: string, maxRunning: number | null): Promise<TypeLimit | null> {
    return this.engine.typeLimitSet({ taskType, maxRunning, now: this.#clock.now(), by: null });
  }

  stats(): Promise<TaskStats> {
    return this.engine.taskStats({ now: this.#clock.now() });
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}

/** The engine options of a library entry point's own options (ConveyorClient, ConveyorWorker). */
export function engineOptions(options: { logger?: Logger | undefined; migrate?: boolean | undefined }): OpenMigratedOptions {
  return { ...(options.logger ? { logger: options.logger } : {}), migrate: options.migrate !== false };
}

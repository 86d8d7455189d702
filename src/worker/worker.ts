import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { systemClock, type Clock } from '../core/clock.ts';
import { ConveyorError, ERROR_CODES, isConveyorError } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import type { Engine } from '../store/engine.ts';
import type { TaskRegistry } from '../tasks/task-registry.ts';
import { BreakerTracker } from './breaker-tracker.ts';
import { Executor } from './executor.ts';
import { LeaseKeeper } from './lease-keeper.ts';
import { Maintenance } from './maintenance/maintenance.ts';
import { Producer } from './producer.ts';
import type { RunningTask } from './running-task.ts';
import { resolveWorkerConfig, toBreakerConfig, type PartialWorkerConfig, type WorkerConfig } from './worker-config.ts';
import { WorkerRegistration } from './worker-registration.ts';

export interface WorkerOptions {
  engine: Engine;
  registry: TaskRegistry;
  /** `worker.*` and `breaker.*` settings; the CLI's whole Config fits. Missing values take defaults. */
  config?: PartialWorkerConfig;
  logger?: Logger;
  clock?: Clock;
  /** Defaults to host:pid:random, unique per process run. */
  id?: string;
  /** How long an aborted handler may take to stop before its slot is freed without it (default 1 s). */
  abortGraceMs?: number;
}

/**
 * Completions being written that do not hold a slot: a handler that returned frees its slot at once
 * and its completion joins the next batch. Hundreds let batches grow to hundreds of rows when
 * handlers are fast, which is most of a fast drain's throughput.
 */
const FINISHING_ALLOWANCE = 1000;

/** How often the worker's own heartbeat (for the dashboard) is written. */
const STATUS_INTERVAL_MS = 10_000;

/**
 * A worker: claims tasks of the types it handles and runs up to `concurrency` of them at once, renews
 * their leases, records every outcome, and (when elected) rescues expired leases and prunes old tasks.
 * The same class runs inside `conveyor work`, inside tests, and inside a user's own process:
 *
 *   const worker = new Worker({ engine, registry, config: { worker: { concurrency: 8 } } });
 *   await worker.start();
 *   ...
 *   await worker.stop(); // waits for running tasks up to the grace period, hands back the rest
 *
 * It does not own the engine: whoever created it closes it after stop().
 */
export class Worker {
  readonly id: string;
  readonly config: WorkerConfig;
  readonly taskTypes: readonly string[];
  readonly #engine: Engine;
  readonly #clock: Clock;
  readonly #logger: Logger;
  /** Attempts whose handler runs (or whose failure is being written): each holds a slot. */
  readonly #running = new Map<string, RunningTask>();
  /** Completed attempts whose completion is being written; they hold a lease but no slot. */
  readonly #finishing = new Set<RunningTask>();
  readonly #breakers: BreakerTracker;
  readonly #executor: Executor;
  readonly #producer: Producer;
  readonly #leases: LeaseKeeper;
  readonly #maintenance: Maintenance;
  readonly #registration: WorkerRegistration;
  readonly #abortGraceMs: number;
  readonly #finishingAllowance: number;
  #listener: { close(): Promise<void> } | null = null;
  #statusTimer: NodeJS.Timeout | null = null;
  #started: Promise<void> | null = null;
  #stopping: Promise<void> | null = null;
  #stopRequested = false;
  #force: () => void = () => {};
  /** Resolves on a forced stop (grace 0). */
  readonly #forced: Promise<void>;
  #stopRequest: () => void = () => {};
  /** Resolves as soon as stop() is called, to end waits in start(). */
  readonly #stopRequestedSignal: Promise<void>;

  constructor(options: WorkerOptions) {
    this.id = options.id ?? defaultWorkerId();
    this.config = resolveWorkerConfig(options.config);
    this.#engine = options.engine;
    this.#clock = options.clock ?? systemClock;
    this.#logger = (options.logger ?? silentLogger).child({ worker_id: this.id });
    this.#forced = new Promise((resolve) => (this.#force = resolve));
    this.#stopRequestedSignal = new Promise((resolve) => (this.#stopRequest = resolve));
    const settings = this.config.worker;
    this.#finishingAllowance = Math.max(settings.concurrency, FINISHING_ALLOWANCE);

    this.taskTypes = resolveTaskTypes(options.registry, settings.task_types);
    const engine = this.#engine;
    const clock = this.#clock;
    const logger = this.#logger;

    this.#breakers = new BreakerTracker({ engine, clock, logger, config: toBreakerConfig(this.config.breaker) });
    this.#abortGraceMs = options.abortGraceMs ?? 1000;
    this.#executor = new Executor({
      engine,
      registry: options.registry,
      clock,
      breakers: this.#breakers,
      abortGraceMs: this.#abortGraceMs,
      // The retry is claimed when due, without waiting for the poll timer.
      onRetry: (runAt) => this.#producer.wakeAt(runAt),
    });
    this.#producer = new Producer({
      engine,
      clock,
      logger,
      workerId: this.id,
      taskTypes: this.taskTypes,
      leaseMs: settings.lease_ms,
      pollIntervalMs: settings.poll_interval_ms,
      concurrency: settings.concurrency,
      freeSlots: () => this.#freeSlots(),
      runningSince: (epochMs) => this.#runningSince(epochMs),
      start: (running) => this.#runTask(running),
      blocked: (taskType) => this.#breakers.isOpen(taskType),
    });
    // Claimed tasks of a type whose breaker opened go back at once rather than wait out the open period here.
    this.#breakers.onOpen = (taskType) => this.#producer.releaseType(taskType);
    // Claims of that type resume when its breaker half-opens; no need to wait for the poll timer.
    this.#breakers.onReopenDue = (at) => this.#producer.wakeAt(new Date(at.getTime() + 10));
    this.#leases = new LeaseKeeper({
      engine,
      clock,
      logger,
      workerId: this.id,
      leaseMs: settings.lease_ms,
      heartbeatMs: settings.heartbeat_ms,
      running: () => this.#held(),
    });
    this.#maintenance = new Maintenance({
      engine,
      clock,
      logger,
      workerId: this.id,
      intervalMs: settings.maintenance_interval_ms,
      maxRescues: settings.max_rescues,
      retentionMs: settings.retention_ms,
      workerStaleMs: STATUS_INTERVAL_MS * 6,
      onTasksDue: () => this.#producer.wake(),
    });
    this.#registration = new WorkerRegistration({
      engine,
      clock,
      logger,
      registry: options.registry,
      workerId: this.id,
      concurrency: settings.concurrency,
      taskTypes: [...this.taskTypes],
      running: () => this.#running.size,
    });
  }

  /** Attempts this worker holds now (running, or having their outcome written). */
  get runningCount(): number {
    return this.#running.size + this.#finishing.size;
  }

  /**
   * Registers the task types and starts claiming. While the database is unreachable it keeps trying
   * (a worker may start before its database); stop() ends the wait.
   */
  start(): Promise<void> {
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<void> {
    const settings = this.config.worker;
    if (this.#stopRequested) return;
    await this.#retry('register task types', () => this.#registration.registerTypes());
    if (this.#stopRequested) return;
    await this.#breakers.refresh();
    await this.#status();
    await this.#listen();
    this.#producer.start();
    this.#leases.start();
    this.#maintenance.start();
    this.#statusTimer = setInterval(() => void this.#status().then(() => this.#listen()), STATUS_INTERVAL_MS);
    this.#logger.info(
      {
        concurrency: settings.concurrency,
        task_types: this.taskTypes,
        lease_ms: settings.lease_ms,
        heartbeat_ms: settings.heartbeat_ms,
        poll_interval_ms: settings.poll_interval_ms,
        engine: this.#engine.kind,
      },
      'worker started',
    );
  }

  /**
   * Stops claiming, lets running handlers finish within `graceMs` (default: shutdown_grace_ms), then
   * aborts the rest and hands their tasks back without spending an attempt. Calling it again with
   * `graceMs: 0` ends the wait at once (a second Ctrl-C).
   */
  stop(options: { graceMs?: number } = {}): Promise<void> {
    if (options.graceMs === 0) this.#force();
    this.#stopping ??= this.#stop(options.graceMs ?? this.config.worker.shutdown_grace_ms);
    return this.#stopping;
  }

  async #stop(graceMs: number): Promise<void> {
    this.#stopRequested = true;
    this.#stopRequest();
    await this.#started?.catch(() => {});
    await this.#producer.stop();
    if (this.#statusTimer) clearInterval(this.#statusTimer);
    await this.#listener?.close().catch(() => {});
    this.#listener = null;
    // Claimed but not started: back to the queue at once, for other workers.
    await this.#producer.releaseQueued();

    const waiting = [...this.#held()];
    if (waiting.length > 0) {
      // The whole shutdown fits in the grace: handlers get most of it, and a slice is kept for those
      // that must be aborted to stop (and for handing their tasks back).
      const stopSliceMs = Math.min(this.#abortGraceMs, Math.floor(graceMs / 4));
      this.#logger.info({ running: waiting.length, grace_ms: graceMs }, 'stopping: no new claims; waiting for running tasks');
      let graceTimer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<void>((resolve) => (graceTimer = setTimeout(resolve, graceMs - stopSliceMs)));
      await Promise.race([Promise.all(waiting.map((r) => r.done)), graceOver, this.#forced]);
      clearTimeout(graceTimer);
      // From here on a write that fails is not retried: the rescuer will take those tasks back.
      if ([...this.#held()].length > 0) this.#executor.hurry();
      const left = [...this.#running.values()];
      if (left.length > 0) {
        this.#logger.warn({ running: left.length }, 'grace period over: aborting the remaining tasks and handing them back');
        for (const running of left) {
          running.abortGraceMs = stopSliceMs;
          running.abort('shutdown', 'the worker is shutting down');
        }
      }
      await Promise.all([...this.#held()].map((r) => r.done));
    }

    await this.#leases.stop();
    await this.#maintenance.stop();
    try {
      await this.#registration.remove();
    } catch (error) {
      this.#logger.debug({ err: error }, 'could not remove the worker record; the reaper will');
    }
    this.#logger.info({}, 'worker stopped');
  }

  /** Runs a claimed task in a free slot (the producer calls this). */
  #runTask(running: RunningTask): void {
    const id = running.task.id;
    const previous = this.#running.get(id);
    // Only possible if an earlier attempt of ours lost its lease and still runs: it is superseded.
    previous?.abort('lease_lost', 'a later attempt of this task was claimed');
    running.startedAtMs = this.#clock.nowMs();
    this.#running.set(id, running);
    running.done = this.#execute(running);
  }

  async #execute(running: RunningTask): Promise<void> {
    const outcome = await this.#executor.run(running);
    if (outcome.kind === 'completed') {
      // The handler is done, so its slot is free now; the completion is written meanwhile (and
      // joins other completions in one statement on PostgreSQL). Failures are written before the
      // slot frees, so that a breaker they open is seen by the next claim.
      this.#finishing.add(running);
      this.#freeSlot(running);
      try {
        await this.#executor.record(running, outcome);
      } finally {
        this.#finishing.delete(running);
        // A long backlog of completions holds slots (see #freeSlots); this may have freed one.
        if (this.#finishing.size >= this.#finishingAllowance) this.#producer.slotFreed();
      }
    } else {
      await this.#executor.record(running, outcome);
      this.#freeSlot(running);
    }
    // Once written, the attempt no longer counts against its type's limit: a waiting task of the
    // type may be claimed now, by this worker, rather than at the next look.
    if (running.task.limited) this.#producer.wake();
  }

  #freeSlot(running: RunningTask): void {
    if (this.#running.get(running.task.id) === running) this.#running.delete(running.task.id);
    this.#producer.slotFreed(this.#clock.nowMs() - running.startedAtMs);
  }

  /**
   * Slots free for claiming. Completions still being written cost nothing up to FINISHING_ALLOWANCE
   * of them (they go to the database together, in batches as large as that); beyond it they hold
   * slots, so a slow database slows claiming instead of piling up work.
   */
  #freeSlots(): number {
    return this.config.worker.concurrency - this.#running.size - Math.max(0, this.#finishing.size - this.#finishingAllowance);
  }

  /**
   * How many running tasks started before `epochMs`. The map holds them in the order they started,
   * so the count stops at the first later one: usually at once.
   */
  #runningSince(epochMs: number): number {
    let count = 0;
    for (const running of this.#running.values()) {
      if (running.startedAtMs >= epochMs) break;
      count += 1;
    }
    return count;
  }

  /** Every attempt whose lease this worker must keep: running, being written down, or queued to start. */
  *#held(): Iterable<RunningTask> {
    yield* this.#running.values();
    yield* this.#finishing;
    yield* this.#producer.queued();
  }

  async #status(): Promise<void> {
    try {
      await this.#registration.heartbeat();
    } catch (error) {
      this.#logger.debug({ err: error }, 'could not write the worker heartbeat');
    }
  }

  /** Subscribes to insert notifications; on failure the status timer tries again. */
  async #listen(): Promise<void> {
    if (this.#listener || this.#stopRequested) return;
    const handled = new Set(this.taskTypes);
    try {
      this.#listener = await this.#engine.listen({
        onInsert: (taskType) => {
          if (taskType === null || handled.has(taskType)) this.#producer.wake();
        },
      });
      this.#producer.notificationsWork(true);
    } catch (error) {
      this.#logger.warn({ err: error }, 'could not listen for insert notifications; polling until it works');
    }
  }

  /** Runs `fn` until it succeeds or stop() is called, backing off while the database is away. */
  async #retry(what: string, fn: () => Promise<void>): Promise<void> {
    for (let failures = 0; !this.#stopRequested; failures++) {
      try {
        await fn();
        return;
      } catch (error) {
        if (!isConveyorError(error, ERROR_CODES.DATABASE_UNAVAILABLE)) throw error;
        if (failures === 0 || failures % 10 === 0) this.#logger.warn({ err: error }, `could not ${what}; retrying`);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, Math.min(5000, 250 * 2 ** failures)))), this.#stopRequestedSignal]);
        clearTimeout(timer);
      }
    }
  }
}

/** host:pid:random, unique per process run, readable in logs and the dashboard. */
export function defaultWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

function resolveTaskTypes(registry: TaskRegistry, configured: readonly string[]): string[] {
  const known = registry.names();
  if (configured.length === 0) {
    if (known.length === 0) throw new ConveyorError(ERROR_CODES.CONFIG, 'the worker has no task types to handle: the registry is empty', { field: 'worker.task_types' });
    return known;
  }
  const unknown = configured.filter((name) => !registry.has(name));
  if (unknown.length > 0) {
    throw new ConveyorError(ERROR_CODES.CONFIG, `worker.task_types names task types this worker has no handler for: ${unknown.join(', ')}; known: ${known.join(', ')}`, {
      field: 'worker.task_types',
    });
  }
  return [...configured];
}

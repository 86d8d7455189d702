import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { systemClock, type Clock } from '../core/clock.ts';
import { ConveyorError, ERROR_CODES, isConveyorError } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import type { Engine } from '../store/engine.ts';
import type { TaskRegistry } from '../tasks/task-registry.ts';
import { BreakerTracker } from './breaker-tracker.ts';
import { Executor } from './executor.ts';
import { EventLoopWatchdog } from './event-loop-watchdog.ts';
import { InsertListener } from './insert-listener.ts';
import { LeaseKeeper } from './lease-keeper.ts';
import { Maintenance } from './maintenance/maintenance.ts';
import { Producer } from './producer.ts';
import type { RunningTask } from './running-task.ts';
import { TaskSlots } from './task-slots.ts';
import { resolveWorkerConfig, toBreakerConfig, type PartialWorkerConfig, type WorkerConfig } from './worker-config.ts';
import { WorkerEventEmitter, type WorkerEvents } from './worker-events.ts';
import { WorkerRegistration } from './worker-registration.ts';
import { DEFAULT_QUOTA_CONFIG, type QuotaConfig } from '../core/quota.ts';

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
  /**
   * How long the event loop may stay blocked before a watchdog thread kills the process so that its
   * supervisor starts a fresh one (EventLoopWatchdog); 0 turns it off. Default: two thirds of
   * worker.lease_ms, from 10 s to 30 s. A worker embedded in a process that must not be killed sets 0.
   */
  eventLoopMaxBlockMs?: number;
  /** The quotas a schedule's firing counts against (its owner's role's); default DEFAULT_QUOTA_CONFIG. */
  quotas?: QuotaConfig;
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
 * It does not own the engine: whoever created it closes it after stop(). Nor the process: it installs
 * no signal or error handlers (`conveyor work` does, for its own process).
 *
 * Inside, each job is a WorkerService (producer, lease keeper, maintenance, registration heartbeat,
 * insert listener) with its own supervised loop, and the parts tell each other what happened through
 * typed events (`worker.events`), which a user or a test may watch too.
 */
export class Worker {
  readonly id: string;
  readonly config: WorkerConfig;
  readonly taskTypes: readonly string[];
  readonly #engine: Engine;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #events: WorkerEventEmitter;
  readonly #slots: TaskSlots;
  readonly #breakers: BreakerTracker;
  readonly #executor: Executor;
  readonly #producer: Producer;
  readonly #leases: LeaseKeeper;
  readonly #maintenance: Maintenance;
  readonly #registration: WorkerRegistration;
  readonly #inserts: InsertListener;
  readonly #watchdog: EventLoopWatchdog;
  readonly #abortGraceMs: number;
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
    this.taskTypes = resolveTaskTypes(options.registry, settings.task_types);
    const engine = this.#engine;
    const clock = this.#clock;
    const logger = this.#logger;
    const events = new WorkerEventEmitter((error, event) => logger.error({ err: error, event }, 'a worker event listener threw'));
    this.#events = events;
    const workerId = this.id;

    this.#slots = new TaskSlots({ concurrency: settings.concurrency, finishingAllowance: Math.max(settings.concurrency, FINISHING_ALLOWANCE), clock, events });
    this.#breakers = new BreakerTracker({ engine, clock, logger, events, config: toBreakerConfig(this.config.breaker) });
    this.#abortGraceMs = options.abortGraceMs ?? 1000;
    this.#executor = new Executor({ engine, registry: options.registry, clock, events, breakers: this.#breakers, abortGraceMs: this.#abortGraceMs });
    this.#producer = new Producer({
      engine,
      clock,
      logger,
      events,
      slots: this.#slots,
      breakers: this.#breakers,
      workerId,
      taskTypes: this.taskTypes,
      leaseMs: settings.lease_ms,
      pollIntervalMs: settings.poll_interval_ms,
      fairShare: settings.fair_share,
    });
    this.#leases = new LeaseKeeper({ engine, clock, logger, events, workerId, leaseMs: settings.lease_ms, heartbeatMs: settings.heartbeat_ms, running: () => this.#held() });
    this.#maintenance = new Maintenance({
      engine,
      clock,
      logger,
      events,
      workerId,
      intervalMs: settings.maintenance_interval_ms,
      maxRescues: settings.max_rescues,
      retentionMs: settings.retention_ms,
      workerStaleMs: STATUS_INTERVAL_MS * 6,
      quotas: options.quotas ?? DEFAULT_QUOTA_CONFIG,
    });
    this.#registration = new WorkerRegistration({
      engine,
      clock,
      logger,
      registry: options.registry,
      workerId,
      concurrency: settings.concurrency,
      taskTypes: [...this.taskTypes],
      heartbeatMs: STATUS_INTERVAL_MS,
      running: () => this.#slots.runningCount,
    });
    this.#inserts = new InsertListener({ engine, clock, logger, events, taskTypes: this.taskTypes, retryMs: STATUS_INTERVAL_MS });
    this.#watchdog = new EventLoopWatchdog({ maxBlockMs: options.eventLoopMaxBlockMs ?? settings.event_loop_max_block_ms, logger });
    // A claimed task that takes a slot runs: its handler, then its outcome written down.
    events.on('task-started', (running) => running.start(clock.nowMs(), this.#execute));
  }

  /** What happens inside this worker, as it happens: tasks claimed, started, finished, slots freed, leases lost... */
  get events(): Pick<WorkerEventEmitter, 'on' | 'off'> {
    return this.#events;
  }

  /** Adds a listener to one of the worker's events; returns the function that removes it. */
  on<E extends keyof WorkerEvents>(event: E, listener: (...args: WorkerEvents[E]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** Attempts this worker holds now (running, or having their outcome written). */
  get runningCount(): number {
    return this.#slots.heldCount;
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
    await this.#registration.announce().catch((error: unknown) => this.#logger.debug({ err: error }, 'could not write the worker heartbeat'));
    if (this.#stopRequested) return;
    await this.#inserts.runOnce();
    this.#watchdog.start();
    this.#producer.start();
    this.#leases.start();
    this.#maintenance.start();
    this.#registration.start();
    this.#inserts.start();
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
    await this.#inserts.stop();
    await this.#registration.stop();
    // Claimed but not started: back to the queue at once, for other workers.
    await this.#producer.releaseQueued();

    const waiting = [...this.#held()];
    if (waiting.length > 0) {
      // The whole shutdown fits in the grace: handlers get most of it, and a slice is kept for those
      // that must be aborted to stop (and for handing their tasks back).
      const stopSliceMs = Math.min(this.#abortGraceMs, Math.floor(graceMs / 4));
      this.#logger.info({ running: waiting.length, grace_ms: graceMs }, 'stopping: no new claims; waiting for running tasks');
      const graceOver = new AbortController();
      await Promise.race([Promise.all(waiting.map((r) => r.done)), this.#clock.sleep(graceMs - stopSliceMs, graceOver.signal), this.#forced]);
      graceOver.abort();
      // From here on a write that fails is not retried: the rescuer will take those tasks back.
      if ([...this.#held()].length > 0) this.#executor.hurry();
      const left = [...this.#slots.running()];
      if (left.length > 0) {
        this.#logger.warn({ running: left.length }, 'grace period over: aborting the remaining tasks and handing them back');
        for (const running of left) running.abort('shutdown', 'the worker is shutting down', stopSliceMs);
      }
      await Promise.all([...this.#held()].map((r) => r.done));
    }

    await this.#leases.stop();
    await this.#maintenance.stop();
    await this.#watchdog.stop();
    try {
      await this.#registration.remove();
    } catch (error) {
      this.#logger.debug({ err: error }, 'could not remove the worker record; the reaper will');
    }
    this.#logger.info({}, 'worker stopped');
  }

  /** A started attempt's whole run: the handler, then its outcome written; its slot frees on the way. */
  readonly #execute = async (running: RunningTask): Promise<void> => {
    const outcome = await this.#executor.run(running);
    if (outcome.kind === 'completed') {
      // The handler is done, so its slot is free now; the completion is written meanwhile (and
      // joins other completions in one statement on PostgreSQL). Failures are written before the
      // slot frees, so that a breaker they open is seen by the next claim.
      this.#slots.handOver(running);
      try {
        await this.#executor.record(running, outcome);
      } finally {
        this.#slots.written(running);
      }
    } else {
      await this.#executor.record(running, outcome);
      this.#slots.vacate(running);
    }
    this.#events.emit('task-finished', running, outcome);
  };

  /** Every attempt whose lease this worker must keep: running, being written down, or queued to start. */
  *#held(): Iterable<RunningTask> {
    yield* this.#slots.held();
    yield* this.#producer.unstarted();
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
        const stopped = new AbortController();
        await Promise.race([this.#clock.sleep(Math.min(5000, 250 * 2 ** failures), stopped.signal), this.#stopRequestedSignal]);
        stopped.abort();
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

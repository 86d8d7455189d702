import type { Clock, ClockTimer } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { ClaimedTask, TaskLease } from '../core/task.ts';
import { TaskAbortedError, type TaskAbortKind } from './task-abort.ts';

/** How a handler's run ended, as the executor sees it. */
export type Settled = { kind: 'returned'; value: unknown } | { kind: 'threw'; error: unknown } | { kind: 'abandoned' };

/**
 * One claimed attempt, from its claim until its outcome is recorded (or given up). It may first wait
 * in the producer's queue (`queued`) for a free slot; its lease is held and renewed from the claim on.
 *
 * Its state changes only through its methods, each named for what happened (the lease was renewed,
 * the handler started, it was aborted): whoever holds the attempt at a stage (the producer while it
 * waits, the slots while it runs, the lease keeper throughout) calls the method for that event.
 */
export class RunningTask {
  readonly task: ClaimedTask;
  readonly lease: TaskLease;
  #startedAtMs: number;
  #leaseValidUntil: number;
  #abortGraceMs: number | null = null;
  #leaseLost = false;
  #queued: boolean;
  #done: Promise<void> = Promise.resolve();
  /**
   * While the executor waits for the handler: ends that wait without it (a handler that ignores its
   * abort), and the timer that will. Fields rather than closures: this runs for every task.
   */
  #abandon: ((settled: Settled) => void) | null = null;
  #graceTimer: ClockTimer | null = null;
  readonly #parentLogger: Logger;
  #logger: Logger | null = null;
  /** Made when the handler (or a test) first asks for the signal: most attempts never abort. */
  #controller: AbortController | null = null;
  #abortReason: TaskAbortedError | null = null;
  /** Told when the attempt is aborted: the producer while the task is queued, the executor while it runs. */
  #abortHandler: ((running: RunningTask) => void) | null = null;

  constructor(task: ClaimedTask, workerId: string, claimedAtMs: number, leaseMs: number, logger: Logger, options: { queued?: boolean } = {}) {
    this.task = task;
    this.lease = { id: task.id, attempt: task.currentAttempt, workerId };
    this.#startedAtMs = claimedAtMs;
    this.#leaseValidUntil = claimedAtMs + leaseMs;
    this.#parentLogger = logger;
    this.#queued = options.queued ?? false;
  }

  /** When the handler started (epoch ms), for durations in logs; the claim time until then. */
  get startedAtMs(): number {
    return this.#startedAtMs;
  }

  /**
   * Until when (epoch ms, by the worker's clock) the lease surely holds: the send time of the claim or
   * of the last renewal the database confirmed, plus the lease length.
   */
  get leaseValidUntil(): number {
    return this.#leaseValidUntil;
  }

  /** Another attempt owns the task now (lost lease, or renewal impossible): report nothing. */
  get leaseLost(): boolean {
    return this.#leaseLost;
  }

  /** Claimed but not started: waiting in the producer's queue for a slot. */
  get queued(): boolean {
    return this.#queued;
  }

  /** Settles when the attempt is over from this worker's point of view; never rejects. */
  get done(): Promise<void> {
    return this.#done;
  }

  /** How long the handler may take to stop once aborted; null for the executor's default. */
  get abortGraceMs(): number | null {
    return this.#abortGraceMs;
  }

  /** The task's logger, made on first use: most attempts of a busy worker log nothing. */
  get logger(): Logger {
    this.#logger ??= this.#parentLogger.child({ task_id: this.task.id, task_type: this.task.taskType, attempt: this.task.currentAttempt });
    return this.#logger;
  }

  /** A debug line, without making the task's logger when debug is off (pino's isLevelEnabled). */
  debug(fields: object, message: string): void {
    const parent = this.#parentLogger as Logger & { isLevelEnabled?: (level: string) => boolean };
    if (this.#logger === null && parent.isLevelEnabled?.('debug') === false) return;
    this.logger.debug(fields, message);
  }

  /** It leaves the producer's queue (to start, or to go back); false if it had left already. */
  leaveQueue(): boolean {
    if (!this.#queued) return false;
    this.#queued = false;
    return true;
  }

  /** It takes a slot now; `run` is its whole run there, which `done` follows. */
  start(nowMs: number, run: (running: RunningTask) => Promise<void>): void {
    this.#startedAtMs = nowMs;
    this.#done = run(this);
  }

  /** The database confirmed a renewal sent at `sentAtMs`. */
  leaseRenewed(sentAtMs: number, leaseMs: number): void {
    this.#leaseValidUntil = sentAtMs + leaseMs;
  }

  /** The handler's AbortSignal; already aborted (with the same reason) if the attempt was. */
  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      if (this.#abortReason !== null) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#abortReason !== null;
  }

  /** Why the attempt was aborted; null while it was not. */
  get abortKind(): TaskAbortKind | null {
    return this.#abortReason?.kind ?? null;
  }

  get abortReason(): TaskAbortedError | null {
    return this.#abortReason;
  }

  /**
   * Who is told, once, when the attempt is aborted (at once if it already was): one at a time, whoever
   * holds the task now. A handler that takes the task as its argument can be made once and shared.
   */
  setAbortHandler(handler: ((running: RunningTask) => void) | null): void {
    this.#abortHandler = handler;
    if (handler !== null && this.#abortReason !== null) {
      this.#abortHandler = null;
      handler(this);
    }
  }

  /**
   * The first reason wins: a task that timed out and is then shut down still failed by timeout.
   * `graceMs` overrides how long the handler may take to stop (a shutdown keeps its own slice).
   */
  abort(kind: TaskAbortKind, message: string, graceMs?: number): void {
    if (kind === 'lease_lost') this.#leaseLost = true;
    if (graceMs !== undefined) this.#abortGraceMs = graceMs;
    if (this.#abortReason !== null) return;
    this.#abortReason = new TaskAbortedError(kind, message);
    this.#controller?.abort(this.#abortReason);
    const handler = this.#abortHandler;
    this.#abortHandler = null;
    handler?.(this);
  }

  /** The executor waits for the handler; `abandon` ends that wait without it. */
  watchHandler(abandon: (settled: Settled) => void): void {
    this.#abandon = abandon;
  }

  /** The handler was aborted: it has `graceMs` to stop before the wait for it is abandoned. */
  startGrace(clock: Clock, graceMs: number): void {
    clock.clearTimeout(this.#graceTimer);
    this.#graceTimer = clock.setTimeout(abandonHandler, graceMs, this);
  }

  /** The wait for the handler is over: no abort is passed on, no grace timer runs. */
  unwatchHandler(clock: Clock): void {
    this.#abortHandler = null;
    clock.clearTimeout(this.#graceTimer);
    this.#graceTimer = null;
    this.#abandon = null;
  }

  /** The grace is over: the executor stops waiting for a handler that ignores its abort. */
  abandonHandler(): void {
    this.#abandon?.(ABANDONED);
  }
}

const ABANDONED: Settled = Object.freeze({ kind: 'abandoned' });

/** The grace timer's callback, shared by every task (no closure per task). */
function abandonHandler(running: RunningTask): void {
  running.abandonHandler();
}

import type { Logger } from '../core/logger.ts';
import type { ClaimedTask, TaskLease } from '../core/task.ts';
import { TaskAbortedError, type TaskAbortKind } from './task-abort.ts';

/**
 * One claimed attempt, from its claim until its outcome is recorded (or given up). It may first wait
 * in the producer's queue (`queued`) for a free slot; its lease is held and renewed from the claim on.
 */
export class RunningTask {
  readonly task: ClaimedTask;
  readonly lease: TaskLease;
  /** When the handler started (epoch ms), for durations in logs; the claim time until then. */
  startedAtMs: number;
  /**
   * Until when (epoch ms, by the worker's clock) the lease surely holds: the send time of the claim or
   * of the last renewal the database confirmed, plus the lease length.
   */
  leaseValidUntil: number;
  /** How long the handler may take to stop once aborted; null for the executor's default. */
  abortGraceMs: number | null = null;
  /** Another attempt owns the task now (lost lease, or renewal impossible): report nothing. */
  leaseLost = false;
  /** Claimed but not started: waiting in the producer's queue for a slot. */
  queued = false;
  /** Settles when the attempt is over from this worker's point of view; never rejects. */
  done: Promise<void> = Promise.resolve();
  /**
   * While the executor waits for the handler: ends that wait without it (a handler that ignores its
   * abort), and the timer that will. Fields rather than closures: this runs for every task.
   */
  abandon: ((settled: { kind: 'abandoned' }) => void) | null = null;
  graceTimer: NodeJS.Timeout | undefined = undefined;
  readonly #parentLogger: Logger;
  #logger: Logger | null = null;
  /** Made when the handler (or a test) first asks for the signal: most attempts never abort. */
  #controller: AbortController | null = null;
  #abortReason: TaskAbortedError | null = null;
  /** Told when the attempt is aborted: the producer while the task is queued, the executor while it runs. */
  #abortHandler: ((running: RunningTask) => void) | null = null;

  constructor(task: ClaimedTask, workerId: string, claimedAtMs: number, leaseMs: number, logger: Logger) {
    this.task = task;
    this.lease = { id: task.id, attempt: task.currentAttempt, workerId };
    this.startedAtMs = claimedAtMs;
    this.leaseValidUntil = claimedAtMs + leaseMs;
    this.#parentLogger = logger;
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

  /** The first reason wins: a task that timed out and is then shut down still failed by timeout. */
  abort(kind: TaskAbortKind, message: string): void {
    if (kind === 'lease_lost') this.leaseLost = true;
    if (this.#abortReason !== null) return;
    this.#abortReason = new TaskAbortedError(kind, message);
    this.#controller?.abort(this.#abortReason);
    const handler = this.#abortHandler;
    this.#abortHandler = null;
    handler?.(this);
  }
}

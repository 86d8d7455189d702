import type { Logger } from '../core/logger.ts';
import type { TaskLease, TaskRecord } from '../core/task.ts';
import { TaskAbortedError, type TaskAbortKind } from './task-abort.ts';

/** One claimed attempt, from its claim until its outcome is recorded (or given up). */
export class RunningTask {
  readonly task: TaskRecord;
  readonly lease: TaskLease;
  readonly logger: Logger;
  readonly controller = new AbortController();
  /** When the handler started (epoch ms), for durations in logs. */
  readonly startedAtMs: number;
  /**
   * Until when (epoch ms, by the worker's clock) the lease surely holds: the send time of the claim or
   * of the last renewal the database confirmed, plus the lease length.
   */
  leaseValidUntil: number;
  /** How long the handler may take to stop once aborted; null for the executor's default. */
  abortGraceMs: number | null = null;
  /** Another attempt owns the task now (lost lease, or renewal impossible): report nothing. */
  leaseLost = false;
  /** Settles when the attempt is over from this worker's point of view; never rejects. */
  done: Promise<void> = Promise.resolve();

  constructor(task: TaskRecord, workerId: string, claimedAtMs: number, leaseMs: number, logger: Logger) {
    this.task = task;
    this.lease = { id: task.id, attempt: task.currentAttempt, workerId };
    this.startedAtMs = claimedAtMs;
    this.leaseValidUntil = claimedAtMs + leaseMs;
    this.logger = logger.child({ task_id: task.id, task_type: task.taskType, attempt: task.currentAttempt });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The first reason wins: a task that timed out and is then shut down still failed by timeout. */
  abort(kind: TaskAbortKind, message: string): void {
    if (kind === 'lease_lost') this.leaseLost = true;
    if (this.controller.signal.aborted) return;
    this.controller.abort(new TaskAbortedError(kind, message));
  }
}

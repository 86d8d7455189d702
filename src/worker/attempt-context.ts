import type { Logger } from '../core/logger.ts';
import type { JsonObject, JsonValue } from '../core/task.ts';
import type { TaskContext } from '../tasks/task-context.ts';
import type { RunningTask } from './running-task.ts';

/**
 * The TaskContext a handler gets for one attempt. A class rather than an object literal, because one is
 * made for every task: its getters live on the prototype, and what most handlers never touch (the
 * signal, the logger, progress) is made only when asked for. `progress` is a getter returning a
 * function, so that `const { progress } = context` works as a plain method would not.
 */
export class AttemptContext implements TaskContext {
  readonly taskId: string;
  readonly taskType: string;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly metadata: JsonObject;
  readonly createdBy: string | null;
  readonly createdAt: Date;
  readonly idempotencyKey: string;
  readonly #running: RunningTask;
  readonly #reportProgress: (running: RunningTask, report: JsonValue) => Promise<void>;

  constructor(running: RunningTask, reportProgress: (running: RunningTask, report: JsonValue) => Promise<void>) {
    const { task } = running;
    this.taskId = task.id;
    this.taskType = task.taskType;
    this.attempt = task.currentAttempt;
    this.maxAttempts = task.maxAttempts;
    this.metadata = task.metadata;
    this.createdBy = task.createdBy;
    this.createdAt = task.createdAt;
    this.idempotencyKey = task.idempotencyKey ?? task.id;
    this.#running = running;
    this.#reportProgress = reportProgress;
  }

  get signal(): AbortSignal {
    return this.#running.signal;
  }

  get logger(): Logger {
    return this.#running.logger;
  }

  get progress(): (report: JsonValue) => Promise<void> {
    return (report) => this.#reportProgress(this.#running, report);
  }
}

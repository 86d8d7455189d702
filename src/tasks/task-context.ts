import type { Logger } from '../core/logger.ts';
import type { JsonObject, JsonValue } from '../core/task.ts';

/** What a handler receives besides its payload. */
export interface TaskContext {
  taskId: string;
  taskType: string;
  /** 1 for the first attempt. */
  attempt: number;
  maxAttempts: number;
  metadata: JsonObject;
  createdBy: string | null;
  createdAt: Date;
  /**
   * Stable across every attempt of this task: give it to the outside world (a webhook-id, an email
   * Message-ID) so that a retried side effect can be recognised. Execution is at-least-once.
   */
  idempotencyKey: string;
  /** Aborted on timeout, cancellation, a lost lease or shutdown; `signal.reason` says which. */
  signal: AbortSignal;
  /** Carries the task id, type and attempt on every line. */
  logger: Logger;
  /** Reports progress, shown by the API and dashboard, e.g. `progress({ percent: 40, message: 'parsed' })`. */
  progress(report: JsonValue): Promise<void>;
}

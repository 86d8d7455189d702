import { randomUUID } from 'node:crypto';
import type { Static, TSchema } from '@sinclair/typebox';
import { assertJson } from '../core/json.ts';
import type { JsonObject, JsonValue } from '../core/task.ts';
import { PermanentTaskError, SnoozeTaskError } from '../core/task-errors.ts';
import { DEFAULT_TASK_TIMEOUT_MS, type TaskDefinition } from '../tasks/define-task.ts';
import type { TaskContext } from '../tasks/task-context.ts';
import { assertPayload } from '../tasks/payload-validator.ts';
import { abortKindOf, TaskAbortedError } from '../worker/task-abort.ts';
import { CaptureLogger, type LogEntry } from './capture-logger.ts';

export interface RunTaskOptions {
  taskId?: string;
  /** Which attempt this is (1 for the first); handlers that act differently on retries can be tested. */
  attempt?: number;
  maxAttempts?: number;
  metadata?: JsonObject;
  createdBy?: string | null;
  createdAt?: Date;
  /** Default: the task id, as the worker does for tasks enqueued without a key. */
  idempotencyKey?: string;
  /** Abort the handler from the test (a cancel or a shutdown); its signal follows this one. */
  signal?: AbortSignal;
  /** The handler is aborted after this long, as the worker would (default: the definition's timeoutMs or 300 s). */
  timeoutMs?: number;
  /** How long an aborted handler may take to stop before the run ends without it (default 1 s, as the worker). */
  abortGraceMs?: number;
  /** Check the payload against the definition's schema first, as the worker does (default true). */
  validate?: boolean;
}

export interface TaskRun {
  /**
   * completed: the handler returned. failed: it threw (or timed out); `permanent` says whether the
   * worker would send the task straight to the dead letter. cancelled: `signal` aborted it. snoozed:
   * it threw SnoozeTaskError (`error` holds it, with its delayMs): the worker would run it again later.
   */
  status: 'completed' | 'failed' | 'cancelled' | 'snoozed';
  /** What the handler returned (null when it returned nothing, or did not complete). */
  output: JsonValue | null;
  /** What the handler threw, or the abort reason; null when it completed. */
  error: unknown;
  /** A PermanentTaskError or an invalid payload: no retry, straight to the dead letter. */
  permanent: boolean;
  /** Every progress report, in order. */
  progress: JsonValue[];
  /** Every line the handler logged through context.logger. */
  logs: LogEntry[];
  /** The context the handler got. */
  context: TaskContext;
  durationMs: number;
}

type Settled = { kind: 'returned'; value: unknown } | { kind: 'threw'; error: unknown } | { kind: 'abandoned' };

/**
 * Runs a task type's handler once, in-process, with a real TaskContext (AbortSignal, logger, progress,
 * attempt, idempotency key) and the worker's rules: the payload is validated against the schema, the
 * handler is aborted at its timeout, its output must be JSON. No database is involved.
 *
 *   const run = await runTask(sendWelcome, { to: 'ada@example.com' });
 *   expect(run.status).toBe('completed');
 *   expect(run.output).toEqual({ sent: true });
 */
export async function runTask<S extends TSchema>(definition: TaskDefinition<S>, payload: Static<S> | unknown, options: RunTaskOptions = {}): Promise<TaskRun> {
  const controller = new AbortController();
  const logs: LogEntry[] = [];
  const progress: JsonValue[] = [];
  const taskId = options.taskId ?? randomUUID();
  const attempt = options.attempt ?? 1;
  const logger = new CaptureLogger(logs).child({ task_id: taskId, task_type: definition.name, attempt });
  const context: TaskContext = {
    taskId,
    taskType: definition.name,
    attempt,
    maxAttempts: options.maxAttempts ?? 3,
    metadata: options.metadata ?? {},
    createdBy: options.createdBy ?? null,
    createdAt: options.createdAt ?? new Date(),
    idempotencyKey: options.idempotencyKey ?? taskId,
    signal: controller.signal,
    logger,
    progress: async (report) => {
      assertJson(report, 'progress');
      progress.push(structuredClone(report));
    },
  };
  const started = performance.now();
  const result = (partial: Pick<TaskRun, 'status' | 'output' | 'error' | 'permanent'>): TaskRun => ({
    ...partial,
    progress,
    logs,
    context,
    durationMs: performance.now() - started,
  });

  if (options.validate ?? true) {
    try {
      assertPayload(definition.payload, payload);
    } catch (error) {
      return result({ status: 'failed', output: null, error, permanent: true });
    }
  }

  const timeoutMs = options.timeoutMs ?? definition.timeoutMs ?? DEFAULT_TASK_TIMEOUT_MS;
  const timer = setTimeout(() => controller.abort(new TaskAbortedError('timeout', `timed out after ${timeoutMs} ms`)), timeoutMs);
  const onOuterAbort = () => controller.abort(new TaskAbortedError('cancelled', 'aborted by the test'));
  if (options.signal?.aborted) onOuterAbort();
  else options.signal?.addEventListener('abort', onOuterAbort, { once: true });

  let settled: Settled;
  let graceTimer: NodeJS.Timeout | undefined;
  try {
    // Called synchronously, as the worker does; Promise.resolve also takes a plain (non-async) handler.
    let handler: Promise<Settled>;
    try {
      handler = Promise.resolve(definition.handler(payload as Static<S>, context)).then(
        (value) => ({ kind: 'returned' as const, value }),
        (error: unknown) => ({ kind: 'threw' as const, error }),
      );
    } catch (error) {
      handler = Promise.resolve({ kind: 'threw', error });
    }
    // A handler that ignores its abort for longer than the grace is abandoned, as the worker does.
    const abandoned = new Promise<Settled>((resolve) => {
      const start = () => (graceTimer = setTimeout(() => resolve({ kind: 'abandoned' }), options.abortGraceMs ?? 1000));
      if (controller.signal.aborted) start();
      else controller.signal.addEventListener('abort', start, { once: true });
    });
    settled = await Promise.race([handler, abandoned]);
  } finally {
    clearTimeout(timer);
    clearTimeout(graceTimer);
    options.signal?.removeEventListener('abort', onOuterAbort);
  }

  if (settled.kind === 'returned') {
    const output = settled.value === undefined ? null : settled.value;
    try {
      assertJson(output, 'output');
    } catch (error) {
      return result({ status: 'failed', output: null, error, permanent: true });
    }
    return result({ status: 'completed', output: output as JsonValue, error: null, permanent: false });
  }
  const kind = abortKindOf(controller.signal);
  if (kind === 'cancelled') return result({ status: 'cancelled', output: null, error: controller.signal.reason, permanent: false });
  if (kind === 'timeout') return result({ status: 'failed', output: null, error: controller.signal.reason, permanent: false });
  const error = settled.kind === 'threw' ? settled.error : new Error('the handler stopped without an outcome');
  if (error instanceof SnoozeTaskError) return result({ status: 'snoozed', output: null, error, permanent: false });
  return result({ status: 'failed', output: null, error, permanent: error instanceof PermanentTaskError });
}

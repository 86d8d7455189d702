import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker as Thread } from 'node:worker_threads';
import type { Clock } from '../core/clock.ts';
import type { JsonValue } from '../core/task.ts';
import { PermanentTaskError, RetryableTaskError, SnoozeTaskError } from '../core/task-errors.ts';
import type { TaskDefinition } from '../tasks/define-task.ts';
import { HANDLER_THREAD_SOURCE } from './handler-thread-source.ts';
import type { RunningTask } from './running-task.ts';

/** The thread of an aborted handler was terminated (it did not stop by itself in time). */
export class HandlerThreadTerminatedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HandlerThreadTerminatedError';
  }
}

/**
 * The URL of tsx's ESM API, for threads whose task module is TypeScript (loader hooks registered in
 * the worker's thread do not reach new threads); null when tsx is not installed (a build).
 */
const TSX_API: string | null = (() => {
  try {
    const esm = join(dirname(createRequire(import.meta.url).resolve('tsx/esm/api')), 'index.mjs');
    return existsSync(esm) ? pathToFileURL(esm).href : null;
  } catch {
    return null;
  }
})();

interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  retryAfterMs?: number;
  delayMs?: number;
  notAnError?: boolean;
}

type ThreadMessage =
  | { type: 'result'; value: unknown }
  | { type: 'error'; error: SerializedError }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; fields: object; msg: string }
  | { type: 'progress'; id: number; report: JsonValue };

export interface HandlerThreadOptions {
  clock: Clock;
  /** The handler's timeout, for the error that says its thread was terminated. */
  timeoutMs: number;
  /** How long an aborted handler's thread may take to stop before it is terminated. */
  graceMs: number;
  reportProgress: (report: JsonValue) => Promise<void>;
}

/**
 * Runs one attempt's handler in a worker thread of its own and settles as the handler does: its
 * output, or its error (PermanentTaskError, RetryableTaskError and SnoozeTaskError keep their
 * meaning). When the attempt is aborted the thread is told; if it has not ended `graceMs` later
 * (a handler that blocks its thread, `while (true) {}`, cannot even hear the abort) it is terminated
 * and the attempt fails with HandlerThreadTerminatedError. A handler that ends its thread
 * (`process.exit`, an uncaught error) fails its attempt; the worker's process is untouched.
 */
export function runHandlerInThread(running: RunningTask, definition: TaskDefinition, options: HandlerThreadOptions): Promise<unknown> {
  const { task } = running;
  return new Promise((resolve, reject) => {
    let settled = false;
    let graceTimer: ReturnType<Clock['setTimeout']> | null = null;
    const thread = new Thread(HANDLER_THREAD_SOURCE, {
      eval: true,
      workerData: {
        moduleUrl: definition.module,
        taskType: task.taskType,
        payload: task.payload,
        tsxApi: TSX_API,
        info: {
          taskId: task.id,
          taskType: task.taskType,
          attempt: task.currentAttempt,
          maxAttempts: task.maxAttempts,
          metadata: task.metadata,
          createdBy: task.createdBy,
          createdAt: task.createdAt.toISOString(),
          idempotencyKey: task.idempotencyKey ?? task.id,
        },
      },
    });
    const finish = (settle: () => void): void => {
      if (settled) return;
      settled = true;
      running.signal.removeEventListener('abort', onAbort);
      options.clock.clearTimeout(graceTimer);
      settle();
      void thread.terminate().catch(() => {});
    };
    const onAbort = (): void => {
      const reason = running.abortReason;
      thread.postMessage({ type: 'abort', kind: reason?.kind ?? 'shutdown', message: reason?.message ?? 'aborted' });
      graceTimer = options.clock.setTimeout(() => {
        const message =
          running.abortKind === 'timeout'
            ? `handler blocked the thread past its ${options.timeoutMs} ms timeout and was terminated`
            : `the handler's thread did not stop within ${options.graceMs} ms of its abort (${reason?.message ?? 'aborted'}) and was terminated`;
        running.logger.warn({ grace_ms: options.graceMs }, message);
        finish(() => reject(new HandlerThreadTerminatedError(message)));
      }, options.graceMs);
    };
    thread.on('message', (message: ThreadMessage) => {
      switch (message.type) {
        case 'result':
          finish(() => resolve(message.value));
          return;
        case 'error':
          finish(() => reject(revive(message.error)));
          return;
        case 'log':
          running.logger[message.level]?.(message.fields, message.msg);
          return;
        case 'progress':
          options.reportProgress(message.report).then(
            () => thread.postMessage({ type: 'progress-done', id: message.id }),
            (error: unknown) => thread.postMessage({ type: 'progress-done', id: message.id, error: error instanceof Error ? error.message : String(error) }),
          );
          return;
      }
    });
    thread.on('error', (error) => finish(() => reject(error)));
    thread.on('exit', (code) => finish(() => reject(new Error(`the handler's thread exited with code ${code} before the handler finished (process.exit in the handler?)`))));
    if (running.signal.aborted) onAbort();
    else running.signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The handler's error as the executor knows it, rebuilt from what crossed the thread. */
function revive(error: SerializedError): unknown {
  if (error.notAnError) return error.message;
  let revived: Error;
  switch (error.name) {
    case 'PermanentTaskError':
      revived = new PermanentTaskError(error.message);
      break;
    case 'RetryableTaskError':
      revived = new RetryableTaskError(error.message, error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs });
      break;
    case 'SnoozeTaskError':
      try {
        revived = new SnoozeTaskError(error.delayMs ?? 0, error.message);
      } catch (invalid) {
        revived = invalid as Error;
      }
      break;
    default:
      revived = new Error(error.message);
      revived.name = error.name;
  }
  if (error.stack) revived.stack = error.stack;
  return revived;
}

import type { Context } from '@opentelemetry/api';
import type { Clock } from '../core/clock.ts';
import { ERROR_CODES, isConveyorError } from '../core/errors.ts';
import { assertJson } from '../core/json.ts';
import type { JsonValue } from '../core/task.ts';
import { PermanentTaskError, RetryableTaskError, SnoozeTaskError } from '../core/task-errors.ts';
import type { Engine } from '../store/engine.ts';
import type { TaskRegistry } from '../tasks/task-registry.ts';
import { AttemptContext } from './attempt-context.ts';
import type { BreakerTracker } from './breaker-tracker.ts';
import type { Outcome } from './outcome.ts';
import type { RunningTask, Settled } from './running-task.ts';
import { describeError } from './describe-error.ts';
import { HandlerThreadTerminatedError, runHandlerInThread } from './handler-thread.ts';
import { sanitizeErrorText, sanitizeOutput } from './sanitize-outcome.ts';
import { isTransientWriteError } from './write-errors.ts';
import { endTaskSpan, inSpan, startTaskSpan } from './task-tracing.ts';
import type { WorkerEventEmitter } from './worker-events.ts';

export type { Outcome } from './outcome.ts';

/** How many times an outcome write that fails for a passing reason is tried in all. */
const MAX_WRITE_TRIES = 5;

export interface ExecutorDeps {
  engine: Engine;
  registry: TaskRegistry;
  clock: Clock;
  breakers: BreakerTracker;
  /** How long an aborted handler may take to stop before its attempt is recorded without it. */
  abortGraceMs: number;
  /** Hears `task-due` when a retry or a snooze is written, so the worker wakes to claim it then. */
  events: WorkerEventEmitter;
}

/**
 * Runs one claimed attempt and records how it ended. Never throws: a bad task (unknown type, invalid
 * payload, a handler that throws anything at all or ignores its AbortSignal) ends as a recorded
 * outcome. Outcomes are made storable before they are written (no NUL, no lone surrogate, errors
 * capped); a write that fails for a passing reason (connection lost, busy) is tried a few times, one
 * the database refuses is not retried: a completion becomes a failed attempt, a failure becomes a
 * dead letter, and if even that cannot be written the attempt is let go (its lease is no longer
 * renewed), so the rescuer takes the task back. A task is never left `running` without a handler.
 */
export class Executor {
  readonly #deps: ExecutorDeps;
  /** Set at the end of a shutdown: stop retrying writes that fail, the process is leaving. */
  #hurry = false;

  constructor(deps: ExecutorDeps) {
    this.#deps = deps;
  }

  hurry(): void {
    this.#hurry = true;
  }

  /**
   * Runs the handler (or decides without it: unknown type, invalid payload); never throws. One async
   * function for the whole run, as for the completion below: this runs for every task, and each
   * async function called adds its own promise and suspended frame for the garbage collector.
   */
  async run(running: RunningTask): Promise<Outcome> {
    const traced = startTaskSpan(running.task, running.lease.attempt);
    let outcome: Outcome;
    try {
      const definition = this.#deps.registry.get(running.task.taskType);
      const refused = this.#refusal(running, definition);
      if (refused !== null) {
        outcome = refused;
      } else {
        const { clock } = this.#deps;
        const timeoutMs = this.#deps.registry.timeoutMs(running.task.taskType);
        const timer = clock.setTimeout(abortOnTimeout, timeoutMs, running, timeoutMs);
        running.debug(NO_FIELDS, 'task started');
        let settled: Settled;
        try {
          settled = await this.#race(running, this.#startHandler(running, definition!, traced.context, timeoutMs));
        } finally {
          clock.clearTimeout(timer);
          running.unwatchHandler(clock);
        }
        outcome = this.#classify(running, settled);
      }
    } catch (error) {
      // Only a bug in Conveyor gets here.
      running.logger.error({ err: error }, 'unexpected error while running a task');
      outcome = { kind: 'failed', error: `internal error in the worker: ${describeError(error)}`, permanent: false, breaker: false };
    }
    endTaskSpan(traced.span, outcome.kind, outcome.kind === 'failed' ? outcome : undefined);
    return outcome;
  }

  /**
   * Writes the outcome down (fenced by the lease) and feeds the circuit breaker; never throws. A
   * completion, the outcome of nearly every attempt, is written here in the same async function;
   * every other outcome in #record.
   */
  async record(running: RunningTask, outcome: Outcome): Promise<void> {
    try {
      if (outcome.kind !== 'completed') {
        await this.#record(running, outcome);
        return;
      }
      const output = sanitizeOutput(outcome.output);
      if (output !== outcome.output) running.logger.warn({}, 'the output held characters no engine can store (NUL, lone surrogates); they were removed');
      const { engine, clock, breakers } = this.#deps;
      const { lease, task } = running;
      let applied: boolean | null;
      try {
        try {
          applied = await engine.taskComplete({ lease, output, now: clock.now() });
        } catch (error) {
          applied = await this.#retryWrite(running, 'complete', (now) => engine.taskComplete({ lease, output, now }), error);
        }
      } catch (refused) {
        // The engine refused the output itself (too large, say): retrying cannot help.
        await this.#record(running, { kind: 'failed', error: `the output could not be stored: ${describeError(refused)}`, permanent: true, breaker: false });
        return;
      }
      if (applied === false) running.logger.warn({ duration_ms: clock.nowMs() - running.startedAtMs }, 'task finished but its lease was gone; the attempt that holds it now stands');
      else if (applied) running.debug({ duration_ms: clock.nowMs() - running.startedAtMs }, 'task completed');
      if (breakers.successMatters(task.taskType, task.breakerScope)) await breakers.record(task.taskType, 'success', task.breakerScope);
    } catch (error) {
      // The rescuer takes the task back when its lease expires.
      running.logger.error({ err: error }, 'unexpected error while recording a task outcome');
    }
  }

  /** The outcome of a task that cannot run: its type has no handler, or its payload is invalid; null when it can. */
  #refusal(running: RunningTask, definition: ReturnType<TaskRegistry['get']>): Outcome | null {
    const { task } = running;
    if (!definition) {
      return { kind: 'failed', error: `no handler is registered for task type "${task.taskType}"`, permanent: true, breaker: false };
    }
    try {
      this.#deps.registry.validatePayload(task.taskType, task.payload);
    } catch (error) {
      return { kind: 'failed', error: `invalid payload: ${describeError(error)}`, permanent: true, breaker: false };
    }
    return null;
  }

  /** Starts the handler: what it returned (a promise, usually), or a rejected promise if it threw at once. */
  #startHandler(running: RunningTask, definition: NonNullable<ReturnType<TaskRegistry['get']>>, spanContext: Context, timeoutMs: number): unknown {
    try {
      if (definition.isolation === 'thread') {
        const { clock } = this.#deps;
        // Terminated at half the grace, so that a blocked thread is ended before the wait for it is abandoned.
        const graceMs = Math.max(1, Math.floor((running.abortGraceMs ?? this.#deps.abortGraceMs) / 2));
        const reportProgress = (report: JsonValue) => this.#reportProgress(running, report);
        return runHandlerInThread(running, definition as never, { clock, timeoutMs, graceMs, reportProgress });
      }
      const attemptContext = new AttemptContext(running, this.#reportProgress);
      return inSpan(spanContext, definition, definition.handler as (payload: unknown, context: AttemptContext) => unknown, running.task.payload, attemptContext);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The handler's result, or `abandoned` when it ignores an abort for longer than the grace. This runs
   * for every task, so it makes no closure of its own: the abort handler is made once per executor and
   * the wait is ended through the RunningTask.
   */
  #race(running: RunningTask, returned: unknown): Promise<Settled> {
    // A handler written as a plain (non-async) function still works.
    if (returned === null || (typeof returned !== 'object' && typeof returned !== 'function') || typeof (returned as { then?: unknown }).then !== 'function') {
      return Promise.resolve({ kind: 'returned', value: returned });
    }
    return new Promise<Settled>((resolve) => {
      running.watchHandler(resolve);
      Promise.resolve(returned).then(settledReturned, settledThrew).then(resolve);
      running.setAbortHandler(this.#startGrace);
    });
  }

  /** Once a running attempt is aborted, its handler has the grace period to stop before it is abandoned. */
  readonly #startGrace = (running: RunningTask): void => {
    running.startGrace(this.#deps.clock, running.abortGraceMs ?? this.#deps.abortGraceMs);
  };

  readonly #reportProgress = async (running: RunningTask, report: JsonValue): Promise<void> => {
    assertJson(report, 'progress');
    await this.#deps.engine.taskProgress({ lease: running.lease, progress: report, now: this.#deps.clock.now() });
  };

  #classify(running: RunningTask, settled: Settled): Outcome {
    if (running.leaseLost) return { kind: 'lost' };
    if (settled.kind === 'returned') {
      // Work that finished counts, even if a timeout or cancel fired just before it returned.
      const output = settled.value === undefined ? null : settled.value;
      try {
        assertJson(output, 'output');
      } catch (error) {
        return { kind: 'failed', error: `the handler returned output that is not JSON: ${describeError(error)}`, permanent: true, breaker: false };
      }
      return { kind: 'completed', output };
    }
    if (settled.kind === 'abandoned') {
      running.logger.warn({ abort_grace_ms: running.abortGraceMs ?? this.#deps.abortGraceMs }, 'the handler ignored its abort signal; the attempt ends without it');
    }
    switch (running.abortKind) {
      case 'timeout': {
        // A thread terminated for blocking says so; other handlers timed out.
        const terminated = settled.kind === 'threw' && settled.error instanceof HandlerThreadTerminatedError;
        return { kind: 'failed', error: terminated ? (settled.error as Error).message : running.abortReason!.message, permanent: false, breaker: true };
      }
      case 'cancelled':
        return { kind: 'cancelled', reason: 'cancelled while running: the handler was aborted' };
      case 'shutdown':
        return { kind: 'released' };
      case 'lease_lost':
        return { kind: 'lost' };
      case null: {
        const error = settled.kind === 'threw' ? settled.error : new Error('the handler stopped without an outcome');
        if (error instanceof PermanentTaskError) return { kind: 'failed', error: describeError(error), permanent: true, breaker: false };
        if (error instanceof SnoozeTaskError) return { kind: 'snoozed', delayMs: error.delayMs, reason: error.message };
        if (error instanceof RetryableTaskError && error.retryAfterMs !== undefined) {
          return { kind: 'failed', error: describeError(error), permanent: false, breaker: true, minDelayMs: error.retryAfterMs };
        }
        return { kind: 'failed', error: describeError(error), permanent: false, breaker: true };
      }
    }
  }

  /** Every outcome but a completion, which record() writes itself. */
  async #record(running: RunningTask, outcome: Exclude<Outcome, { kind: 'completed' }>): Promise<void> {
    const { engine, breakers } = this.#deps;
    const { lease, task } = running;
    const durationMs = this.#deps.clock.nowMs() - running.startedAtMs;
    switch (outcome.kind) {
      case 'failed': {
        const error = sanitizeErrorText(outcome.error);
        let permanent = outcome.permanent;
        let result: Awaited<ReturnType<Engine['taskFail']>> | null;
        try {
          result = await this.#write(running, 'fail', (now) => engine.taskFail({ lease, error, permanent, now, ...(outcome.minDelayMs === undefined ? {} : { minDelayMs: outcome.minDelayMs }) }));
        } catch (refused) {
          // The failure could not be written as it was (a row whose retry strategy cannot be read,
          // say): write it as a dead letter instead, which needs nothing from the row.
          running.logger.error({ err: refused }, 'could not record the failed attempt; recording it as a dead letter');
          permanent = true;
          const text = sanitizeErrorText(`${error} (and the failure could not be recorded for a retry: ${describeError(refused)})`);
          try {
            result = await this.#write(running, 'fail', (now) => engine.taskFail({ lease, error: text, permanent: true, now }));
          } catch (again) {
            running.logger.error({ err: again }, 'could not record the failed attempt at all; its lease is let go so the rescuer takes the task back');
            result = null;
          }
        }
        const fields = { duration_ms: durationMs, error };
        if (result === null) {
          // Logged by #write or above.
        } else if (!result.applied) {
          running.logger.warn(fields, 'task failed but its lease was gone; the attempt that holds it now stands');
        } else if (result.status === 'retrying') {
          running.logger.warn({ ...fields, retry_at: result.runAt.toISOString() }, 'task failed; it will be retried');
          this.#deps.events.emit('task-due', result.runAt);
        } else if (result.status === 'failed') {
          running.logger.error({ ...fields, permanent }, permanent ? 'task failed permanently: dead letter' : 'task failed on its last attempt: dead letter');
        } else {
          running.logger.info(fields, 'task failed after a cancel request: cancelled');
        }
        if (outcome.breaker) await breakers.record(task.taskType, 'failure', task.breakerScope);
        return;
      }
      case 'cancelled': {
        const applied = await this.#write(running, 'cancel', (now) => engine.taskCancelRunning({ lease, now, reason: outcome.reason }));
        if (applied) running.logger.info({ duration_ms: durationMs }, 'task cancelled while running');
        return;
      }
      case 'released': {
        const applied = await this.#write(running, 'release', (now) => engine.taskRelease({ lease, now }));
        if (applied) running.logger.info({ duration_ms: durationMs }, 'task handed back for another worker (shutdown)');
        return;
      }
      case 'snoozed': {
        const until = new Date(this.#deps.clock.nowMs() + outcome.delayMs);
        const applied = await this.#write(running, 'snooze', (now) => engine.taskRelease({ lease, now, until }));
        if (applied) {
          running.debug({ duration_ms: durationMs, until: until.toISOString(), reason: outcome.reason }, 'task snoozed; its attempt is not spent');
          this.#deps.events.emit('task-due', until);
        }
        return;
      }
      case 'lost':
        running.logger.warn({ duration_ms: durationMs }, 'lease lost: this attempt reports nothing; the rescuer or another worker owns the task');
        return;
    }
  }

  /**
   * One fenced write, tried up to MAX_WRITE_TRIES times while it fails for a passing reason (a
   * PostgreSQL restart, a busy SQLite) and the lease still holds; null when given up (the rescuer
   * takes the task back once the lease, no longer renewed, expires). An error that trying again
   * cannot fix (the database refuses the write) is thrown at once.
   */
  async #write<T>(running: RunningTask, action: string, call: (now: Date) => Promise<T>): Promise<T | null> {
    try {
      return await call(this.#deps.clock.now());
    } catch (error) {
      return this.#retryWrite(running, action, call, error);
    }
  }

  /** #write after its first try failed with `firstError`. */
  async #retryWrite<T>(running: RunningTask, action: string, call: (now: Date) => Promise<T>, firstError: unknown): Promise<T | null> {
    let error = firstError;
    let delayMs = 250;
    for (let attempt = 1; ; attempt++) {
      if (!isTransientWriteError(error) && !isConveyorError(error, ERROR_CODES.CLOSED)) throw error;
      const giveUp =
        this.#hurry ||
        attempt >= MAX_WRITE_TRIES ||
        running.leaseLost ||
        isConveyorError(error, ERROR_CODES.CLOSED) ||
        this.#deps.clock.nowMs() + delayMs >= running.leaseValidUntil;
      if (giveUp) {
        running.logger.error({ err: error, action, tries: attempt }, `could not record the outcome (${action}); the rescuer takes the task back when its lease expires`);
        return null;
      }
      if (attempt === 1) running.logger.warn({ err: error, action }, `could not record the outcome (${action}); retrying`);
      await this.#deps.clock.sleep(delayMs);
      delayMs = Math.min(delayMs * 2, 2000);
      try {
        return await call(this.#deps.clock.now());
      } catch (next) {
        error = next;
      }
    }
  }
}

/** Shared by every task: a log line without fields. */
const NO_FIELDS = Object.freeze({});

function abortOnTimeout(running: RunningTask, timeoutMs: number): void {
  running.abort('timeout', `timed out after ${timeoutMs} ms`);
}

function settledReturned(value: unknown): Settled {
  return { kind: 'returned', value };
}

function settledThrew(error: unknown): Settled {
  return { kind: 'threw', error };
}

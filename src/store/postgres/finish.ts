import { ConveyorError, ERROR_CODES } from '../../core/errors.ts';
import { decideFail, decideRelease, wakesWorkers } from '../../core/lifecycle.ts';
import { type RetryStrategy, retryStrategyOfRow } from '../../core/retry-strategy.ts';
import type { JsonValue, TaskLease } from '../../core/task.ts';
import type { Engine, TaskFailResult } from '../engine.ts';
import { GroupCommit } from '../shared/group-commit.ts';
import { plainArrayLiteral } from './array-literal.ts';
import { type PostgresConnection, WORKER } from './postgres-connection.ts';
import { appendAttempt, byId, FENCE, fence, notifyIf, RUNNING_BY_ID, type SqlContext } from './sql-parts.ts';
/**
 * Completion statements in flight at once; completions arriving meanwhile wait and go together in
 * the next. One: batches of hundreds beat more concurrent small statements. Measured on 2 cores
 * (bench/tools/drain-profile.ts, 20,000 no-op tasks, concurrency 10, five rounds interleaved): one
 * completion and one claim in flight, with claims of up to 500 ahead (worker/producer.ts), drained
 * 19 % faster than two of each with claims of up to 250, and the database server spent 27 % less CPU
 * per task. The likely cause: a statement's row versions cannot be cleaned up (nor their index
 * entries skipped) while an overlapping statement might still see them, so each walks past what the
 * other just changed (a replay of the same statements overlapped cost 26 % more CPU than in turn).
 */
const COMPLETE_IN_FLIGHT = 1;
const COMPLETE_MAX_BATCH = 500;

interface Completion {
  lease: TaskLease;
  /** Already serialised for `$n::jsonb`. */
  output: string | null;
  now: Date;
}

/** The ends of a running attempt, each fenced by its lease: completion (batched), failure, cancellation, release, and progress reports. */
export class FinishStore {
  readonly #c: PostgresConnection;
  readonly #sql: ReturnType<typeof finishSql>;

  /** Completions arriving while earlier ones are at the database go together (see GroupCommit). */
  readonly #completions: GroupCommit<Completion, boolean>;

  constructor(c: PostgresConnection) {
    this.#c = c;
    this.#sql = finishSql(c.sql);
    this.#completions = new GroupCommit({
      send: (batch) => this.#completeBatch(batch),
      keyOf: (completion) => completion.lease.id,
      maxInFlight: COMPLETE_IN_FLIGHT,
      maxBatch: COMPLETE_MAX_BATCH,
    });
  }

  /** Resolves once every completion submitted so far is written (close() waits for it). */
  drain(): Promise<void> {
    return this.#completions.drain();
  }

  /** Not an async function (one promise fewer per task): a closed engine's refusal is a rejection all the same. */
  taskComplete(p: { lease: TaskLease; output: JsonValue | null; now: Date }): Promise<boolean> {
    try {
      this.#c.assertOpen();
      return this.#completions.submit({ lease: p.lease, output: jsonParam(p.output), now: p.now });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async #completeBatch(given: Completion[]): Promise<boolean[]> {
    if (given.length === 1) {
      const { lease, output, now } = given[0]!;
      const result = await this.#c.run('taskComplete', this.#sql.taskComplete, [...fence(lease), output, now], WORKER);
      return [result.rowCount === 1];
    }
    // Rows are locked in id order, as the heartbeat locks them (see taskHeartbeat).
    const batch = [...given].sort((a, b) => byId(a.lease, b.lease));
    const workerId = batch[0]!.lease.workerId;
    const oneWorker = batch.every((c) => c.lease.workerId === workerId);
    const noOutput = batch.every((c) => c.output === null);
    const { rows: refused } = await this.#c.run<{ id: string }>(
      'taskComplete',
      this.#sql.taskCompleteMany,
      [
        plainArrayLiteral(batch.map((c) => c.lease.id)),
        plainArrayLiteral(batch.map((c) => c.lease.attempt)),
        oneWorker ? [workerId] : batch.map((c) => c.lease.workerId),
        noOutput ? [] : batch.map((c) => c.output),
        plainArrayLiteral(batch.map((c) => c.now.getTime())),
      ],
      WORKER,
    );
    if (refused.length === 0) return given.map(() => true);
    const refusedIds = new Set(refused.map((row) => row.id));
    return given.map((c) => !refusedIds.has(c.lease.id));
  }

  /**
   * Reads the facts under the lease's fence, decides with the lifecycle's rules (decideFail), and writes
   * the decided outcome fenced by the lease and by the cancel request as read. No transaction: while the
   * lease holds nothing else may change the strategy or the attempt counts; a cancel request that comes
   * in between fails the fence, and the engine reads and decides again.
   */
  async taskFail(p: Parameters<Engine['taskFail']>[0]): Promise<TaskFailResult> {
    for (let round = 0; round < 3; round++) {
      const read = await this.#c.run<{ retry_strategy: RetryStrategy; max_attempts: number; cancel_requested: boolean }>('taskFail', this.#sql.taskFailRead, fence(p.lease));
      const facts = read.rows[0];
      if (!facts) return { applied: false };
      const outcome = decideFail({
        attempt: p.lease.attempt, maxAttempts: facts.max_attempts, strategy: retryStrategyOfRow(facts.retry_strategy, facts.max_attempts), cancelRequested: facts.cancel_requested,
        permanent: p.permanent === true, now: p.now, random: p.random, minDelayMs: p.minDelayMs,
      });
      const written =
        outcome.status === 'retrying'
          ? await this.#c.run('taskFail', this.#sql.taskFailRetry, [...fence(p.lease), p.now, outcome.runAt, p.error])
          : await this.#c.run('taskFail', this.#sql.taskFailFinal, [...fence(p.lease), p.now, outcome.status, p.error, facts.cancel_requested]);
      if (written.rowCount === 1) return { applied: true, ...outcome };
    }
    throw new ConveyorError(ERROR_CODES.DATABASE, 'taskFail: the task kept changing under the lease; try again');
  }

  async taskCancelRunning(p: { lease: TaskLease; now: Date; reason?: string }): Promise<boolean> {
    const result = await this.#c.run('taskCancelRunning', this.#sql.taskCancelRunning, [...fence(p.lease), p.now, p.reason ?? null]);
    return result.rowCount === 1;
  }

  /** Decided as if no cancellation was requested (decideRelease), fenced on that; if the fence refuses, once more as cancel-requested. */
  async taskRelease(p: { lease: TaskLease; now: Date; until?: Date }): Promise<boolean> {
    for (const cancelRequested of [false, true]) {
      const outcome = decideRelease({ now: p.now, until: p.until ?? null, cancelRequested });
      const { rows } = await this.#c.run('taskRelease', this.#sql.taskRelease, [
        ...fence(p.lease), p.now, outcome.status, outcome.runAt, outcome.status === 'cancelled' ? p.now : null, outcome.attemptOutcome, cancelRequested,
        wakesWorkers('release', outcome.status),
      ]);
      if (rows.length === 1) return true;
    }
    return false;
  }

  async taskProgress(p: { lease: TaskLease; progress: JsonValue; now: Date }): Promise<boolean> {
    const progress = jsonParam(p.progress);
    const result = await this.#c.run('taskProgress', this.#sql.taskProgress, [...fence(p.lease), progress, p.now]);
    return result.rowCount === 1;
  }
}

export function finishSql({ s, statement, channel }: SqlContext) {
  return {
    // A completion appends nothing to `attempts`: the row's own columns are that attempt's record
    // (see attemptHistory), which spares the hot path building and writing a JSON entry per task.
    taskComplete: statement('task_complete', `
      UPDATE ${s}.tasks
      SET status = 'completed', output = $4::jsonb, completed_at = $5::timestamptz, updated_at = $5::timestamptz, lease_expires_at = NULL
      WHERE ${FENCE}`),
    // Completions that arrive together (see GroupCommit) go as one statement; the fence is per row.
    // $3 and $4 may be shorter than $1 (unnest pads them with NULL): one worker id for every row,
    // no outputs when all are null. $5 is epoch milliseconds, cheaper to send and read than text.
    // The batch is a MATERIALIZED CTE: with statistics saying no task runs (taken while none did), the
    // planner drives the join from tasks_lease_idx, and a plain unnest would be expanded again for
    // every running task (150-230 ms per batch at 10,000,000 tasks, bench --scale); a materialized
    // batch is only read again.
    // It answers the completions the fence refused (nearly always none) rather than the hundreds it
    // wrote: no row per task to print, send and parse. The count comparison runs once (an init plan)
    // and skips the lookup when every row was written; the lookup is a hashed subplan, not a join:
    // the worker pool's planner settings would make a join rescan `done` for every row of `c`.
    taskCompleteMany: statement('task_complete_many', `
      WITH c AS MATERIALIZED (
        SELECT id, attempt, coalesce(worker_id, ($3::text[])[1]) AS worker_id, output, 'epoch'::timestamptz + finished_ms * interval '1 millisecond' AS finished_at
        FROM unnest($1::uuid[], $2::int[], $3::text[], $4::jsonb[], $5::bigint[]) AS u(id, attempt, worker_id, output, finished_ms)),
      done AS (
        UPDATE ${s}.tasks t
        SET status = 'completed', output = c.output, completed_at = c.finished_at, updated_at = c.finished_at, lease_expires_at = NULL
        FROM c
        WHERE t.id = c.id AND ${RUNNING_BY_ID('t.')} AND t.current_attempt = c.attempt AND t.worker_id = c.worker_id
        RETURNING t.id)
      SELECT c.id FROM c WHERE (SELECT count(*) FROM done) < (SELECT count(*) FROM c) AND c.id NOT IN (SELECT id FROM done)`),
    // The facts decideFail needs (core/lifecycle.ts), read under the lease's fence.
    taskFailRead: statement('task_fail_read', `SELECT retry_strategy, max_attempts, cancel_requested_at IS NOT NULL AS cancel_requested FROM ${s}.tasks WHERE ${FENCE}`),
    // The decided outcomes of a failed attempt, fenced by the lease and by the cancel request as it was
    // read: one that arrived since fails the fence, and the engine reads and decides again.
    // $4 now, $5 when it runs again, $6 the error.
    taskFailRetry: statement('task_fail_retry', `
      UPDATE ${s}.tasks
      SET status = 'retrying', run_at = $5::timestamptz, worker_id = NULL, lease_expires_at = NULL, last_error = $6::text, updated_at = $4::timestamptz,
          attempts = ${appendAttempt(`'failed'`, '$6::text', '$4::timestamptz')}
      WHERE ${FENCE} AND cancel_requested_at IS NULL`),
    // $4 now, $5 'failed' (dead letter) or 'cancelled', $6 the error, $7 whether cancellation was requested.
    taskFailFinal: statement('task_fail_final', `
      UPDATE ${s}.tasks
      SET status = $5::text, completed_at = $4::timestamptz, lease_expires_at = NULL, last_error = $6::text, updated_at = $4::timestamptz,
          attempts = ${appendAttempt('$5::text', '$6::text', '$4::timestamptz')}
      WHERE ${FENCE} AND (cancel_requested_at IS NOT NULL) = $7::boolean`),
    taskCancelRunning: statement('task_cancel_running', `
      UPDATE ${s}.tasks
      SET status = 'cancelled', completed_at = $4::timestamptz, updated_at = $4::timestamptz, lease_expires_at = NULL,
          attempts = ${appendAttempt(`'cancelled'`, '$5::text', '$4::timestamptz')}
      WHERE ${FENCE}`),
    // A running task handed back unspent, as decideRelease decided: its attempt number is given back.
    // Fenced by the lease and by whether cancellation was requested ($9), which the decision assumed.
    // $4 now, $5 status, $6 run_at, $7 completed_at, $8 the attempt's outcome, $10 whether it wakes idle workers.
    taskRelease: statement('task_release', `
      WITH released AS (
        UPDATE ${s}.tasks
        SET status = $5::text, run_at = $6::timestamptz, completed_at = $7::timestamptz, current_attempt = current_attempt - 1,
            updated_at = $4::timestamptz, worker_id = NULL, lease_expires_at = NULL, started_at = NULL,
            attempts = ${appendAttempt('$8::text', 'NULL', '$4::timestamptz')}
        WHERE ${FENCE} AND (cancel_requested_at IS NOT NULL) = $9::boolean
        RETURNING task_type)
      SELECT task_type FROM released WHERE ${notifyIf('$10::boolean', channel)}`),
    taskProgress: statement('task_progress', `UPDATE ${s}.tasks SET progress = $4::jsonb, updated_at = $5::timestamptz WHERE ${FENCE}`),
  };
}

/** A JSON value (checked by the dispatch layer) as a `$n::jsonb` parameter; null (or undefined from a handler) is SQL NULL. */
function jsonParam(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

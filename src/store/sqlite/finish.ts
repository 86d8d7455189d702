import { decideFail, decideRelease, wakesWorkers } from '../../core/lifecycle.ts';
import { type RetryStrategy, retryStrategyOfRow } from '../../core/retry-strategy.ts';
import type { JsonValue, TaskLease } from '../../core/task.ts';
import type { Engine, TaskFailResult } from '../engine.ts';
import { GroupCommit } from '../shared/group-commit.ts';
import type { InsertSignal } from './insert-signal.ts';
import { appendAttempt, fence, FENCE, stamp } from './sql-parts.ts';
import type { SqliteConnection } from './sqlite-connection.ts';

/** Completions in one transaction at most: a turn's worth, in practice. */
const COMPLETE_MAX_BATCH = 2000;
/** Outputs up to this many characters of JSON text go in the batch's one statement. */
const BATCHED_OUTPUT_MAX = 16 * 1024;

/** A completion's named parameters. */
type Completion = ReturnType<typeof fence> & { now: number; output: string | null };

/** The ends of a running attempt, each fenced by its lease: completion (batched), failure, cancellation, release, and progress reports. */
export class FinishStore {
  readonly #c: SqliteConnection;
  readonly #signal: InsertSignal;

  constructor(c: SqliteConnection, signal: InsertSignal) {
    this.#c = c;
    this.#signal = signal;
  }

  /**
   * Completions made in the same turn of the event loop are written in one transaction, at the end of
   * it (GroupCommit's collectTurn): SQLite writes each changed page once per commit, so a worker
   * finishing hundreds of tasks a second commits a few times, not hundreds. Each keeps its own fence
   * and its own answer.
   */
  readonly #completions = new GroupCommit<Completion, boolean>({
    send: (batch) =>
      this.#c.write('taskComplete', () => {
        // One statement for the small completions of the batch: a statement per row costs about twice
        // the CPU per task (binding and stepping it), measured on 20,000 no-op completions. A large
        // output goes on its own, not copied into the batch's JSON text.
        const small = batch.length > 1 ? batch.filter((c) => c.output === null || c.output.length <= BATCHED_OUTPUT_MAX) : [];
        const applied = new Set(small.length > 1 ? (this.#c.prepare(TASK_COMPLETE_MANY).all({ batch: batchJson(small) }) as { id: string }[]).map((row) => row.id) : []);
        const inBatch = small.length > 1 ? new Set(small) : null;
        const complete = this.#c.prepare(TASK_COMPLETE);
        return batch.map((c) => (inBatch?.has(c) ? applied.has(c.id) : complete.run(c).changes > 0));
      }),
    keyOf: (completion) => completion.id,
    maxInFlight: 1,
    maxBatch: COMPLETE_MAX_BATCH,
    collectTurn: true,
  });

  /** Resolves once every completion submitted so far is written (close() waits for it). */
  drain(): Promise<void> {
    return this.#completions.drain();
  }

  taskComplete(p: { lease: TaskLease; output: JsonValue | null; now: Date }): Promise<boolean> {
    const output = p.output === null || p.output === undefined ? null : (JSON.stringify(p.output) ?? null);
    return this.#completions.submit({ ...fence(p.lease), now: p.now.getTime(), output });
  }

  taskFail(p: Parameters<Engine['taskFail']>[0]): Promise<TaskFailResult> {
    const params = { ...fence(p.lease), ...stamp(p.now), error: p.error };
    return this.#c.write('taskFail', (): TaskFailResult => {
      const facts = this.#c.prepare(TASK_FENCED_READ).get(params) as { retry_strategy: string; max_attempts: number; cancel_requested: number } | undefined;
      if (facts === undefined) return { applied: false };
      const outcome = decideFail({
        attempt: p.lease.attempt, maxAttempts: facts.max_attempts, strategy: retryStrategyOfRow(JSON.parse(facts.retry_strategy) as RetryStrategy, facts.max_attempts), cancelRequested: facts.cancel_requested === 1,
        permanent: p.permanent === true, now: p.now, random: p.random, minDelayMs: p.minDelayMs,
      });
      const written =
        outcome.status === 'retrying'
          ? this.#c.prepare(TASK_FAIL_RETRY).run({ ...params, runAt: outcome.runAt.getTime() })
          : this.#c.prepare(TASK_FAIL_FINAL).run({ ...params, status: outcome.status, cancelRequested: facts.cancel_requested });
      return written.changes === 1 ? { applied: true, ...outcome } : { applied: false };
    });
  }

  taskCancelRunning(p: { lease: TaskLease; now: Date; reason?: string }): Promise<boolean> {
    return this.#fenced('taskCancelRunning', TASK_CANCEL_RUNNING, { ...fence(p.lease), ...stamp(p.now), reason: p.reason ?? null });
  }

  /** Decided as if no cancellation was requested (decideRelease), fenced on that; if the fence refuses, once more as cancel-requested. */
  async taskRelease(p: { lease: TaskLease; now: Date; until?: Date }): Promise<boolean> {
    const released = await this.#c.write('taskRelease', () => {
      for (const cancelRequested of [false, true]) {
        const outcome = decideRelease({ now: p.now, until: p.until ?? null, cancelRequested });
        const row = this.#c.prepare(TASK_RELEASE).get({
          ...fence(p.lease), ...stamp(p.now), status: outcome.status, runAt: outcome.runAt.getTime(), completedAt: outcome.status === 'cancelled' ? p.now.getTime() : null,
          attemptOutcome: outcome.attemptOutcome, cancelRequested: cancelRequested ? 1 : 0,
        }) as { task_type: string } | undefined;
        if (row !== undefined) return { taskType: row.task_type, status: outcome.status };
      }
      return undefined;
    });
    if (released !== undefined && wakesWorkers('release', released.status)) this.#signal.notify(released.taskType);
    return released !== undefined;
  }

  taskProgress(p: { lease: TaskLease; progress: JsonValue; now: Date }): Promise<boolean> {
    const progress = p.progress === null || p.progress === undefined ? null : (JSON.stringify(p.progress) ?? null);
    return this.#fenced('taskProgress', TASK_PROGRESS, { ...fence(p.lease), ...stamp(p.now), progress });
  }

  /** One fenced UPDATE; true when the caller still held the lease and the change applied. */
  #fenced(operation: string, text: string, params: Record<string, unknown>): Promise<boolean> {
    return this.#c.write(operation, () => this.#c.prepare(text).run(params).changes > 0);
  }
}

const TASK_COMPLETE = `
  UPDATE tasks
     SET status = 'completed', output = @output, completed_at = @now, updated_at = @now, lease_expires_at = NULL
   WHERE ${FENCE}`;

/**
 * Completions as one statement: @batch is a JSON array of [id, attempt, worker id, now, output as
 * JSON text or null] (batchJson), each fenced on its own; answers the ids that applied. A batch never
 * holds one id twice (GroupCommit keys by id). Arrays rather than objects: SQLite finds an element by
 * position faster than a member by name (callgrind, 5,000 no-op tasks: a claim and a completion took
 * 182,400 instructions a task inside sqlite3_step, against 191,300 with objects). jsonb_each rather
 * than json_each: it hands each element over in SQLite's binary form, which ->> reads as it is, where
 * json_each turned it back into text for each ->> to parse again (a completion: 59,200 instructions
 * a task, now 52,800).
 */
const TASK_COMPLETE_MANY = `
  UPDATE tasks
     SET status = 'completed', output = c.output, completed_at = c.now, updated_at = c.now, lease_expires_at = NULL
    FROM (SELECT value ->> 0 AS id, value ->> 1 AS attempt, value ->> 2 AS worker_id, value ->> 3 AS now, value ->> 4 AS output FROM jsonb_each(@batch)) AS c
   WHERE tasks.id = c.id AND tasks.status = 'running' AND tasks.current_attempt = c.attempt AND tasks.worker_id = c.worker_id
  RETURNING tasks.id`;

function batchJson(batch: readonly Completion[]): string {
  return JSON.stringify(batch.map((c) => [c.id, c.attempt, c.workerId, c.now, c.output]));
}

const TASK_FENCED_READ = `SELECT retry_strategy, max_attempts, cancel_requested_at IS NOT NULL AS cancel_requested FROM tasks WHERE ${FENCE}`;

const TASK_FAIL_RETRY = `
  UPDATE tasks
     SET status = 'retrying', run_at = @runAt, last_error = @error, updated_at = @now, lease_expires_at = NULL, worker_id = NULL,
         attempts = ${appendAttempt(`'failed'`, '@error')}
   WHERE ${FENCE} AND cancel_requested_at IS NULL`;

const TASK_FAIL_FINAL = `
  UPDATE tasks
     SET status = @status, last_error = @error, completed_at = @now, updated_at = @now, lease_expires_at = NULL,
         attempts = ${appendAttempt('@status', '@error')}
   WHERE ${FENCE} AND (cancel_requested_at IS NOT NULL) = @cancelRequested`;

const TASK_CANCEL_RUNNING = `
  UPDATE tasks
     SET status = 'cancelled', completed_at = @now, updated_at = @now, lease_expires_at = NULL,
         attempts = ${appendAttempt(`'cancelled'`, '@reason')}
   WHERE ${FENCE}`;

const TASK_RELEASE = `
  UPDATE tasks
     SET status = @status, run_at = @runAt, completed_at = @completedAt, current_attempt = current_attempt - 1, updated_at = @now,
         worker_id = NULL, lease_expires_at = NULL, started_at = NULL,
         attempts = ${appendAttempt('@attemptOutcome', 'NULL')}
   WHERE ${FENCE} AND (cancel_requested_at IS NOT NULL) = @cancelRequested
  RETURNING task_type`;

const TASK_PROGRESS = `UPDATE tasks SET progress = @progress, updated_at = @now WHERE ${FENCE}`;

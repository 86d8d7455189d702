import { decideRescue, wakesWorkers } from '../../core/lifecycle.ts';
import type { TaskStatus } from '../../core/task.ts';
import type { RescueResult } from '../engine.ts';
import { type ExpiredRow, rescueFacts, rescueList, rescueWrite } from '../shared/rescue.ts';
import { type PostgresConnection, WORKER } from './postgres-connection.ts';
import { appendAttempt, FINISHED, notifyIf, type SqlContext } from './sql-parts.ts';
import { countsSubtractGrouped } from './task-counts.ts';

/** The leader's upkeep: rescuing expired leases, pruning finished tasks, and the leadership itself. */
export class MaintenanceStore {
  readonly #c: PostgresConnection;
  readonly #sql: ReturnType<typeof maintenanceSql>;

  constructor(c: PostgresConnection) {
    this.#c = c;
    this.#sql = maintenanceSql(c.sql);
  }

  /**
   * Reads the expired leases, decides each with the lifecycle's rules (decideRescue), and writes the
   * decisions in one statement, each fenced by what was read: a row that changed meanwhile is left
   * for the next round.
   */
  async taskRescueExpired(p: { now: Date; maxRescues: number; limit: number }): Promise<RescueResult> {
    this.#c.assertOpen();
    const result: RescueResult = { retried: [], deadLettered: [], cancelled: [] };
    if (p.limit <= 0) return result;
    const expired = await this.#c.run<ExpiredRow>('taskRescueExpired', this.#sql.taskExpired, [p.now, Math.floor(p.limit)], WORKER);
    if (expired.rows.length === 0) return result;
    const decided = expired.rows.map((row) => {
      const outcome = decideRescue(rescueFacts(row, p.maxRescues));
      return { row, outcome, write: rescueWrite(outcome) };
    });
    const { rows } = await this.#c.run<{ id: string; status: TaskStatus }>(
      'taskRescueExpired',
      this.#sql.taskRescue,
      [
        p.now,
        decided.map((d) => d.row.id),
        decided.map((d) => d.row.rescue_count),
        decided.map((d) => d.row.cancel_requested),
        decided.map((d) => d.write.status),
        decided.map((d) => d.write.message),
        decided.map((d) => wakesWorkers('rescue', d.write.status)),
        decided.map((d) => d.write.counted),
        decided.map((d) => d.row.current_attempt),
        decided.map((d) => d.row.attempt_started),
      ],
      WORKER,
    );
    const rescued = new Set(rows.map((row) => row.id));
    for (const { row, outcome } of decided) if (rescued.has(row.id)) rescueList(result, outcome.status).push(row.id);
    return result;
  }

  /**
   * One statement per batch, its own short transaction: picks the oldest finished tasks past the cut
   * (skipping any a retry or a delete holds), deletes them, and takes the ones the rollup counted
   * already out of task_counts, from what the DELETE returned (no second read of the rows).
   */
  async taskPrune(p: { finishedBefore: Date; limit: number }): Promise<number> {
    this.#c.assertOpen();
    if (p.limit <= 0) return 0;
    // On the worker pool, whose planner settings make the pick an index walk of tasks_finished_idx
    // that stops after `limit` entries: left to its statistics (stale after a bulk insert), the
    // planner read every task past the cut and sorted them, for each batch.
    const { rows } = await this.#c.run<{ deleted: number }>('taskPrune', this.#sql.taskPrune, [p.finishedBefore, Math.floor(p.limit)], WORKER);
    return rows[0]?.deleted ?? 0;
  }

  /**
   * A plain VACUUM (ANALYZE) of the tasks table on a connection of its own (VACUUM runs outside any
   * transaction): it blocks no reader or writer, and the space of the pruned rows becomes free for the
   * next inserts instead of growing the table. Closing the engine cancels one still running.
   */
  async taskVacuum(): Promise<boolean> {
    this.#c.assertOpen();
    await this.#c.runCancellable('taskVacuum', `VACUUM (ANALYZE) ${this.#c.sql.s}.tasks`);
    return true;
  }

  async leaderAttemptElect(p: { name: string; leaderId: string; now: Date; ttlMs: number }): Promise<boolean> {
    const expiresAt = new Date(p.now.getTime() + p.ttlMs);
    const result = await this.#c.run('leaderAttemptElect', this.#sql.leaderAttemptElect, [p.name, p.leaderId, expiresAt, p.now], WORKER);
    return result.rowCount === 1;
  }

  async leaderResign(p: { name: string; leaderId: string }): Promise<void> {
    await this.#c.run('leaderResign', this.#sql.leaderResign, [p.name, p.leaderId], WORKER);
  }
}

function maintenanceSql({ s, statement, channel }: SqlContext) {
  return {
    // The expired leases and the facts decideRescue needs. $1 now, $2 limit.
    taskExpired: statement('task_expired', `
      SELECT id, worker_id, rescue_count, attempt_started, unstarted_losses, current_attempt, max_attempts, cancel_requested_at IS NOT NULL AS cancel_requested
      FROM ${s}.tasks WHERE status = 'running' AND lease_expires_at < $1::timestamptz
      ORDER BY lease_expires_at LIMIT $2::int`),
    // The decided rescues, one row each, fenced by what the decision read: still running and expired
    // (a task completed or renewed meanwhile is left alone, the bug of River #1302), the same attempt,
    // rescue count (two rescuers never both count it), start (a start recorded meanwhile changes the
    // decision) and cancel request. A counted rescue (d.counted: the attempt started) adds a rescue and
    // a `lease_expired` attempt; an uncounted one is an unclaim: attempt number given back, no history,
    // due at its old time (its place in line), one more unstarted loss. $1 now, then per row: $2 ids,
    // $3 rescue counts read, $4 cancel requested, $5 statuses, $6 messages, $7 wakes, $8 counted,
    // $9 attempts read, $10 attempt_started read.
    taskRescue: statement('task_rescue', `
      WITH rescued AS (
        UPDATE ${s}.tasks t
        SET status = d.status, lease_expires_at = NULL, updated_at = $1::timestamptz,
            rescue_count = t.rescue_count + CASE WHEN d.counted THEN 1 ELSE 0 END,
            unstarted_losses = t.unstarted_losses + CASE WHEN d.counted THEN 0 ELSE 1 END,
            current_attempt = t.current_attempt - CASE WHEN d.counted THEN 0 ELSE 1 END,
            last_error = CASE WHEN d.counted THEN d.message ELSE t.last_error END,
            run_at = CASE WHEN d.counted AND d.status = 'retrying' THEN $1::timestamptz ELSE t.run_at END,
            completed_at = CASE WHEN d.status IN ('retrying', 'pending') THEN NULL ELSE $1::timestamptz END,
            worker_id = CASE WHEN d.counted AND d.status <> 'retrying' THEN t.worker_id END,
            started_at = CASE WHEN d.counted THEN t.started_at END,
            attempts = CASE WHEN d.counted THEN ${appendAttempt(`'lease_expired'`, 'd.message', '$1::timestamptz', 't.')} ELSE t.attempts END
        FROM unnest($2::uuid[], $3::int[], $4::boolean[], $5::text[], $6::text[], $7::boolean[], $8::boolean[], $9::int[], $10::boolean[])
          AS d(id, rescue_count, cancel_requested, status, message, wake, counted, attempt, started)
        WHERE t.id = d.id AND t.status = 'running' AND t.lease_expires_at < $1::timestamptz AND t.current_attempt = d.attempt
          AND t.rescue_count = d.rescue_count AND t.attempt_started = d.started AND (t.cancel_requested_at IS NOT NULL) = d.cancel_requested
        RETURNING t.id, t.status, t.task_type, d.wake)
      SELECT id, status FROM rescued WHERE ${notifyIf('wake', channel)}`),
    // $1 finished before, $2 batch size. The rows are picked in completion order on
    // tasks_finished_idx and locked (SKIP LOCKED: a task being retried or deleted waits for the next
    // batch). A task the rollup counted (it finished before rolled_through, read FOR SHARE, as every
    // subtraction does: see task-counts.ts) leaves task_counts with it. The owner_usage trigger runs
    // once for the statement.
    taskPrune: statement('task_prune', `
      WITH gone AS (
        DELETE FROM ${s}.tasks t
         WHERE t.id = ANY(ARRAY(SELECT id FROM ${s}.tasks WHERE status IN (${FINISHED}) AND completed_at < $1::timestamptz
                                ORDER BY completed_at LIMIT $2::int FOR UPDATE SKIP LOCKED))
           AND t.status IN (${FINISHED})
        RETURNING t.task_type, t.priority_rank, t.status, t.created_by, t.completed_at),
      counted AS (SELECT task_type, priority_rank, status, created_by FROM gone
                   WHERE completed_at < (SELECT rolled_through FROM ${s}.task_rollup_state WHERE id = 1 FOR SHARE)),
      subtracted AS (${countsSubtractGrouped(s, 'counted')})
      SELECT count(*)::integer AS deleted FROM gone`),
    leaderAttemptElect: statement('leader_attempt_elect', `
      INSERT INTO ${s}.leaders (name, leader_id, expires_at) VALUES ($1::text, $2::text, $3::timestamptz)
      ON CONFLICT (name) DO UPDATE SET leader_id = EXCLUDED.leader_id, expires_at = EXCLUDED.expires_at
      WHERE leaders.expires_at <= $4::timestamptz OR leaders.leader_id = EXCLUDED.leader_id
      RETURNING leader_id`),
    leaderResign: statement('leader_resign', `DELETE FROM ${s}.leaders WHERE name = $1::text AND leader_id = $2::text`),
  };
}

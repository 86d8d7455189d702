import { decideRescue, wakesWorkers } from '../../core/lifecycle.ts';
import type { RescueResult } from '../engine.ts';
import { type ExpiredRow, rescueFacts, rescueList, rescueWrite } from '../shared/rescue.ts';
import type { InsertSignal } from './insert-signal.ts';
import { appendAttempt, FINISHED, stamp } from './sql-parts.ts';
import { COUNTS_SUBTRACT_IDS } from './task-counts.ts';
import type { SqliteConnection } from './sqlite-connection.ts';

/** The leader's upkeep: rescuing expired leases, pruning finished tasks, and the leadership itself. */
export class MaintenanceStore {
  readonly #c: SqliteConnection;
  readonly #signal: InsertSignal;

  constructor(c: SqliteConnection, signal: InsertSignal) {
    this.#c = c;
    this.#signal = signal;
  }

  /** Reads the expired leases, decides each with the lifecycle's rules (decideRescue) and writes each decision fenced by what was read, in one transaction. */
  async taskRescueExpired(p: { now: Date; maxRescues: number; limit: number }): Promise<RescueResult> {
    const base = stamp(p.now);
    const { result, wake } = await this.#c.write('taskRescueExpired', () => {
      const answer = { result: { retried: [], deadLettered: [], cancelled: [] } as RescueResult, wake: new Set<string>() };
      const expired = this.#c.prepare(TASK_EXPIRED).all({ now: base.now, limit: p.limit }) as ExpiredRow[];
      const rescue = this.#c.prepare(TASK_RESCUE);
      for (const row of expired) {
        const outcome = rescueWrite(decideRescue(rescueFacts(row, p.maxRescues)));
        const written = rescue.get({
          ...base, id: row.id, status: outcome.status, counted: outcome.counted ? 1 : 0, error: outcome.message,
          attempt: row.current_attempt, started: row.attempt_started, rescueCount: row.rescue_count, cancelRequested: row.cancel_requested,
        }) as
          | { task_type: string }
          | undefined;
        if (written === undefined) continue;
        rescueList(answer.result, outcome.status).push(row.id);
        if (wakesWorkers('rescue', outcome.status)) answer.wake.add(written.task_type);
      }
      return answer;
    });
    this.#signal.wake(wake);
    return result;
  }

  taskPrune(p: { finishedBefore: Date; limit: number }): Promise<number> {
    return this.#c.write('taskPrune', () => {
      const ids = (this.#c.prepare(TASK_PRUNE_PICK).all({ before: p.finishedBefore.getTime(), limit: p.limit }) as { id: string }[]).map((row) => row.id);
      if (ids.length === 0) return 0;
      const json = JSON.stringify(ids);
      this.#c.prepare(COUNTS_SUBTRACT_IDS).run({ ids: json, sign: -1 });
      return this.#c.prepare(TASK_PRUNE).run({ ids: json }).changes;
    });
  }

  /**
   * Nothing to do: the pages of deleted rows go to the file's freelist and the next inserts reuse
   * them, so the file stays the size of its largest day (docs/operations.md, "Pruning").
   */
  async taskVacuum(): Promise<boolean> {
    this.#c.assertOpen();
    return false;
  }

  leaderAttemptElect(p: { name: string; leaderId: string; now: Date; ttlMs: number }): Promise<boolean> {
    const now = p.now.getTime();
    return this.#c.write('leaderAttemptElect', () => {
      this.#c.prepare(LEADER_ELECT).run({ name: p.name, leaderId: p.leaderId, now, expiresAt: now + p.ttlMs });
      const row = this.#c.prepare(LEADER_GET).get(p.name) as { leader_id: string } | undefined;
      return row?.leader_id === p.leaderId;
    });
  }

  async leaderResign(p: { name: string; leaderId: string }): Promise<void> {
    await this.#c.write('leaderResign', () => this.#c.prepare(LEADER_RESIGN).run(p));
  }
}

const TASK_EXPIRED = `
  SELECT id, worker_id, rescue_count, attempt_started, unstarted_losses, current_attempt, max_attempts, cancel_requested_at IS NOT NULL AS cancel_requested FROM tasks
   WHERE status = 'running' AND lease_expires_at < @now
   ORDER BY lease_expires_at
   LIMIT @limit`;

/**
 * A decided rescue, fenced by what the decision read (attempt, rescue count, start, cancel request).
 * Counted (@counted: the attempt started): a rescue and a `lease_expired` attempt in the history.
 * Not counted: an unclaim (attempt number given back, no history, its old due time), one more
 * unstarted loss. In an UPDATE every column reads the row as it was, so the history takes the lost attempt.
 */
const TASK_RESCUE = `
  UPDATE tasks
     SET status = @status, updated_at = @now, lease_expires_at = NULL,
         rescue_count = rescue_count + @counted,
         unstarted_losses = unstarted_losses + 1 - @counted,
         current_attempt = current_attempt - 1 + @counted,
         last_error = CASE WHEN @counted THEN @error ELSE last_error END,
         run_at = CASE WHEN @counted AND @status = 'retrying' THEN @now ELSE run_at END,
         completed_at = CASE WHEN @status IN ('retrying', 'pending') THEN NULL ELSE @now END,
         worker_id = CASE WHEN @counted AND @status <> 'retrying' THEN worker_id END,
         started_at = CASE WHEN @counted THEN started_at END,
         attempts = CASE WHEN @counted THEN ${appendAttempt(`'lease_expired'`, '@error')} ELSE attempts END
   WHERE id = @id AND status = 'running' AND lease_expires_at < @now AND current_attempt = @attempt
     AND rescue_count = @rescueCount AND attempt_started = @started AND (cancel_requested_at IS NOT NULL) = @cancelRequested
  RETURNING task_type`;

const TASK_PRUNE_PICK = `SELECT id FROM tasks WHERE ${FINISHED} AND completed_at < @before ORDER BY completed_at LIMIT @limit`;
const TASK_PRUNE = `DELETE FROM tasks WHERE id IN (SELECT value FROM json_each(@ids)) AND ${FINISHED}`;

const LEADER_ELECT = `
  INSERT INTO leaders (name, leader_id, expires_at) VALUES (@name, @leaderId, @expiresAt)
  ON CONFLICT (name) DO UPDATE SET leader_id = excluded.leader_id, expires_at = excluded.expires_at
   WHERE leaders.expires_at <= @now OR leaders.leader_id = excluded.leader_id`;

const LEADER_GET = `SELECT leader_id FROM leaders WHERE name = ?`;

const LEADER_RESIGN = `DELETE FROM leaders WHERE name = @name AND leader_id = @leaderId`;

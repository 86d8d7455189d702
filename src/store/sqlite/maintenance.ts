import { decideRescue, wakesWorkers } from '../../core/lifecycle.ts';
import type { RescueResult } from '../engine.ts';
import { type ExpiredRow, rescueFacts, rescueList } from '../shared/rescue.ts';
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
        const outcome = decideRescue(rescueFacts(row, p.maxRescues));
        const written = rescue.get({ ...base, id: row.id, status: outcome.status, error: outcome.message, rescueCount: row.rescue_count, cancelRequested: row.cancel_requested }) as
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
  SELECT id, worker_id, rescue_count, current_attempt, max_attempts, cancel_requested_at IS NOT NULL AS cancel_requested FROM tasks
   WHERE status = 'running' AND lease_expires_at < @now
   ORDER BY lease_expires_at
   LIMIT @limit`;

const TASK_RESCUE = `
  UPDATE tasks
     SET status = @status, rescue_count = rescue_count + 1, last_error = @error, updated_at = @now, lease_expires_at = NULL,
         run_at = CASE WHEN @status = 'retrying' THEN @now ELSE run_at END,
         completed_at = CASE WHEN @status = 'retrying' THEN NULL ELSE @now END,
         worker_id = CASE WHEN @status = 'retrying' THEN NULL ELSE worker_id END,
         attempts = ${appendAttempt(`'lease_expired'`, '@error')}
   WHERE id = @id AND status = 'running' AND lease_expires_at < @now
     AND rescue_count = @rescueCount AND (cancel_requested_at IS NOT NULL) = @cancelRequested
  RETURNING task_type`;

const TASK_PRUNE_PICK = `SELECT id FROM tasks WHERE ${FINISHED} AND completed_at < @before ORDER BY completed_at LIMIT @limit`;
const TASK_PRUNE = `DELETE FROM tasks WHERE id IN (SELECT value FROM json_each(@ids)) AND ${FINISHED}`;

const LEADER_ELECT = `
  INSERT INTO leaders (name, leader_id, expires_at) VALUES (@name, @leaderId, @expiresAt)
  ON CONFLICT (name) DO UPDATE SET leader_id = excluded.leader_id, expires_at = excluded.expires_at
   WHERE leaders.expires_at <= @now OR leaders.leader_id = excluded.leader_id`;

const LEADER_GET = `SELECT leader_id FROM leaders WHERE name = ?`;

const LEADER_RESIGN = `DELETE FROM leaders WHERE name = @name AND leader_id = @leaderId`;

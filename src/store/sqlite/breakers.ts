import { type BreakerConfig, breakerRecord, type BreakerState, closedBreaker } from '../../core/circuit-breaker.ts';
import type { SqliteConnection } from './sqlite-connection.ts';
import { breakerParams, type BreakerRow, rowToBreaker } from './sqlite-rows.ts';

/** Circuit breakers, shared by every worker through the database; scope '' is the type's own breaker. */
export class BreakerStore {
  readonly #c: SqliteConnection;

  constructor(c: SqliteConnection) {
    this.#c = c;
  }

  breakerGet(p: { taskType: string; scope?: string | null }): Promise<BreakerState | null> {
    return this.#c.run('breakerGet', () => {
      const row = this.#c.prepare(BREAKER_GET).get(p.taskType, p.scope ?? '') as BreakerRow | undefined;
      return row === undefined ? null : rowToBreaker(row);
    });
  }

  breakerList(): Promise<BreakerState[]> {
    return this.#c.run('breakerList', () => (this.#c.prepare(BREAKER_LIST).all() as BreakerRow[]).map(rowToBreaker));
  }

  breakerRecord(p: { taskType: string; scope?: string | null; outcome: 'success' | 'failure'; now: Date; config: BreakerConfig }): Promise<BreakerState> {
    return this.#c.write('breakerRecord', () => {
      const scope = p.scope ?? null;
      const row = this.#c.prepare(BREAKER_GET).get(p.taskType, scope ?? '') as BreakerRow | undefined;
      const current = row === undefined ? closedBreaker(p.taskType, p.now, scope) : rowToBreaker(row);
      const next = breakerRecord(current, p.outcome, p.now, p.config);
      this.#c.prepare(BREAKER_UPSERT).run(breakerParams(next));
      return next;
    });
  }

  breakerReset(p: { taskType: string; scope?: string | null; now: Date }): Promise<BreakerState> {
    return this.#c.write('breakerReset', () =>
      rowToBreaker(this.#c.prepare(BREAKER_RESET).get({ taskType: p.taskType, scope: p.scope ?? '', now: p.now.getTime() }) as BreakerRow),
    );
  }
}

const BREAKER_GET = `SELECT * FROM circuit_breakers WHERE task_type = ? AND scope = ?`;

const BREAKER_LIST = `SELECT * FROM circuit_breakers ORDER BY task_type, scope`;

const BREAKER_RESET = `
  INSERT INTO circuit_breakers (task_type, scope, state, updated_at) VALUES (@taskType, @scope, 'closed', @now)
  ON CONFLICT (task_type, scope) DO UPDATE SET
    state = 'closed', consecutive_failures = 0, consecutive_successes = 0, reopens_at = NULL, updated_at = excluded.updated_at
  RETURNING *`;

const BREAKER_UPSERT = `
  INSERT INTO circuit_breakers (task_type, scope, state, consecutive_failures, consecutive_successes, opened_at, reopens_at, updated_at)
  VALUES (@task_type, @scope, @state, @consecutive_failures, @consecutive_successes, @opened_at, @reopens_at, @updated_at)
  ON CONFLICT (task_type, scope) DO UPDATE SET
    state = excluded.state, consecutive_failures = excluded.consecutive_failures,
    consecutive_successes = excluded.consecutive_successes, opened_at = excluded.opened_at,
    reopens_at = excluded.reopens_at, updated_at = excluded.updated_at`;

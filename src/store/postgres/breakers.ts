import { type BreakerConfig, type BreakerState, breakerRecord as recordBreakerOutcome } from '../../core/circuit-breaker.ts';
import { type PostgresConnection, WORKER } from './postgres-connection.ts';
import { PG_TYPES } from './postgres-types.ts';
import { breakerFromRow, type BreakerRow } from './record-rows.ts';
import { BREAKER_COLUMNS, type SqlContext } from './sql-parts.ts';

/** Circuit breakers, shared by every worker through the database; scope '' is the type's own breaker. */
export class BreakerStore {
  readonly #c: PostgresConnection;
  readonly #sql: ReturnType<typeof breakersSql>;

  constructor(c: PostgresConnection) {
    this.#c = c;
    this.#sql = breakersSql(c.sql);
  }

  async breakerGet(p: { taskType: string; scope?: string | null }): Promise<BreakerState | null> {
    const { rows } = await this.#c.run<BreakerRow>('breakerGet', this.#sql.breakerGet, [p.taskType, p.scope ?? ''], WORKER);
    return rows[0] ? breakerFromRow(rows[0]) : null;
  }

  async breakerList(): Promise<BreakerState[]> {
    const { rows } = await this.#c.run<BreakerRow>('breakerList', this.#sql.breakerList, [], WORKER);
    return rows.map(breakerFromRow);
  }

  /**
   * Workers record every outcome, so the common case, a success while the breaker is closed with no
   * failures counted, changes nothing and is only read: all workers of a type completing tasks would
   * otherwise queue on this one row's lock. Everything else locks the row, computes with the core's
   * rules and writes, in one transaction, so concurrent failures are all counted.
   */
  async breakerRecord(p: { taskType: string; scope?: string | null; outcome: 'success' | 'failure'; now: Date; config: BreakerConfig }): Promise<BreakerState> {
    const key = [p.taskType, p.scope ?? ''];
    if (p.outcome === 'success') {
      const current = await this.breakerGet(p);
      if (current && current.state === 'closed' && current.consecutiveFailures === 0 && current.consecutiveSuccesses === 0) return current;
    }
    return this.#c.transaction('breakerRecord', async (client) => {
      let row = (await client.query<BreakerRow>({ ...this.#sql.breakerLock, values: key, types: PG_TYPES })).rows[0];
      if (!row) {
        // Create the closed row first so that there is a row to lock; a racing creator is harmless.
        await client.query({ ...this.#sql.breakerCreate, values: [...key, p.now], types: PG_TYPES });
        row = (await client.query<BreakerRow>({ ...this.#sql.breakerLock, values: key, types: PG_TYPES })).rows[0]!;
      }
      const next = recordBreakerOutcome(breakerFromRow(row), p.outcome, p.now, p.config);
      await client.query({
        ...this.#sql.breakerSave,
        values: [next.taskType, next.scope ?? '', next.state, next.consecutiveFailures, next.consecutiveSuccesses, next.openedAt, next.reopensAt, next.updatedAt],
        types: PG_TYPES,
      });
      return next;
    });
  }

  async breakerReset(p: { taskType: string; scope?: string | null; now: Date }): Promise<BreakerState> {
    const { rows } = await this.#c.run<BreakerRow>('breakerReset', this.#sql.breakerReset, [p.taskType, p.scope ?? '', p.now]);
    return breakerFromRow(rows[0]!);
  }
}

function breakersSql({ s, statement }: SqlContext) {
  const key = 'task_type = $1::text AND scope = $2::text';
  return {
    breakerGet: statement('breaker_get', `SELECT ${BREAKER_COLUMNS} FROM ${s}.circuit_breakers WHERE ${key}`),
    breakerLock: statement('breaker_lock', `SELECT ${BREAKER_COLUMNS} FROM ${s}.circuit_breakers WHERE ${key} FOR UPDATE`),
    breakerCreate: statement('breaker_create', `
      INSERT INTO ${s}.circuit_breakers (task_type, scope, state, updated_at) VALUES ($1::text, $2::text, 'closed', $3::timestamptz)
      ON CONFLICT (task_type, scope) DO NOTHING`),
    breakerSave: statement('breaker_save', `
      UPDATE ${s}.circuit_breakers
      SET state = $3::text, consecutive_failures = $4::int, consecutive_successes = $5::int, opened_at = $6::timestamptz,
          reopens_at = $7::timestamptz, updated_at = $8::timestamptz
      WHERE ${key}`),
    breakerReset: statement('breaker_reset', `
      INSERT INTO ${s}.circuit_breakers (task_type, scope, state, updated_at) VALUES ($1::text, $2::text, 'closed', $3::timestamptz)
      ON CONFLICT (task_type, scope) DO UPDATE SET state = 'closed', consecutive_failures = 0, consecutive_successes = 0, reopens_at = NULL, updated_at = EXCLUDED.updated_at
      RETURNING ${BREAKER_COLUMNS}`),
    breakerList: statement('breaker_list', `SELECT ${BREAKER_COLUMNS} FROM ${s}.circuit_breakers ORDER BY task_type, scope`),
  };
}

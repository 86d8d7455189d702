import type { TypeLimit, TypePause } from '../engine.ts';
import { type PostgresConnection, WORKER } from './postgres-connection.ts';
import { typeLimitFromRow, type TypeLimitRow, typePauseFromRow, type TypePauseRow } from './record-rows.ts';
import type { SqlContext } from './sql-parts.ts';

/** Operators' controls per task type: pauses and concurrency limits. */
export class TypeControlStore {
  readonly #c: PostgresConnection;
  readonly #sql: ReturnType<typeof typeControlsSql>;

  constructor(c: PostgresConnection) {
    this.#c = c;
    this.#sql = typeControlsSql(c.sql);
  }

  async typeLimitSet(p: { taskType: string; maxRunning: number | null; now: Date; by: string | null }): Promise<TypeLimit | null> {
    this.#c.assertOpen();
    this.#c.limits.invalidate();
    if (p.maxRunning === null) {
      await this.#c.run('typeLimitSet', this.#sql.typeLimitDelete, [p.taskType]);
      return null;
    }
    const { rows } = await this.#c.run<TypeLimitRow>('typeLimitSet', this.#sql.typeLimitSet, [p.taskType, p.maxRunning, p.now, p.by]);
    return typeLimitFromRow(rows[0]!);
  }

  async typeRunningCounts(): Promise<Record<string, number>> {
    const { rows } = await this.#c.run<{ task_type: string; running: number }>('typeRunningCounts', this.#sql.typeRunningCounts, []);
    return Object.fromEntries(rows.map((row) => [row.task_type, row.running]));
  }

  async typeLimitList(): Promise<TypeLimit[]> {
    const { rows } = await this.#c.run<TypeLimitRow>('typeLimitList', this.#sql.typeLimitList, [], WORKER);
    return rows.map(typeLimitFromRow);
  }

  async typePause(p: { taskType: string; now: Date; pausedBy: string | null; reason: string | null }): Promise<TypePause> {
    const { rows } = await this.#c.run<TypePauseRow>('typePause', this.#sql.typePause, [p.taskType, p.now, p.pausedBy, p.reason]);
    return typePauseFromRow(rows[0]!);
  }

  async typeResume(p: { taskType: string }): Promise<boolean> {
    const { rows } = await this.#c.run('typeResume', this.#sql.typeResume, [p.taskType]);
    return rows.length === 1;
  }

  async typePauseList(): Promise<TypePause[]> {
    const { rows } = await this.#c.run<TypePauseRow>('typePauseList', this.#sql.typePauseList, [], WORKER);
    return rows.map(typePauseFromRow);
  }
}

function typeControlsSql({ s, statement, channel }: SqlContext) {
  return {
    // Pausing again keeps when and by whom it was first paused; the reason may change.
    typePause: statement('type_pause', `
      INSERT INTO ${s}.task_type_pauses (task_type, paused_at, paused_by, reason) VALUES ($1::text, $2::timestamptz, $3::uuid, $4::text)
      ON CONFLICT (task_type) DO UPDATE SET reason = coalesce(EXCLUDED.reason, task_type_pauses.reason)
      RETURNING task_type, paused_at, paused_by, reason`),
    // Resuming wakes idle workers of the type, as an insert does: its waiting tasks are due.
    typeResume: statement('type_resume', `
      WITH resumed AS (DELETE FROM ${s}.task_type_pauses WHERE task_type = $1::text RETURNING task_type)
      SELECT task_type FROM resumed WHERE pg_notify(${channel}, task_type) IS NOT NULL`),
    typePauseList: statement('type_pause_list', `SELECT task_type, paused_at, paused_by, reason FROM ${s}.task_type_pauses ORDER BY task_type`),

    typeLimitSet: statement('type_limit_set', `
      INSERT INTO ${s}.task_type_limits (task_type, max_running, updated_at, updated_by) VALUES ($1::text, $2::int, $3::timestamptz, $4::uuid)
      ON CONFLICT (task_type) DO UPDATE SET max_running = EXCLUDED.max_running, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
      RETURNING task_type, max_running, updated_at, updated_by`),
    typeLimitDelete: statement('type_limit_delete', `DELETE FROM ${s}.task_type_limits WHERE task_type = $1::text`),
    typeRunningCounts: statement('type_running_counts', `SELECT task_type, count(*)::int AS running FROM ${s}.tasks WHERE status = 'running' GROUP BY task_type`),
    typeLimitList: statement('type_limit_list', `SELECT task_type, max_running, updated_at, updated_by FROM ${s}.task_type_limits ORDER BY task_type`),
  };
}

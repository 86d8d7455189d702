import type { TypeLimit, TypePause } from '../engine.ts';
import type { InsertSignal } from './insert-signal.ts';
import type { SqliteConnection } from './sqlite-connection.ts';
import { rowToTypeLimit, rowToTypePause, type TypeLimitRow, type TypePauseRow } from './sqlite-rows.ts';

/** Operators' controls per task type: pauses and concurrency limits. */
export class TypeControlStore {
  readonly #c: SqliteConnection;
  readonly #signal: InsertSignal;

  constructor(c: SqliteConnection, signal: InsertSignal) {
    this.#c = c;
    this.#signal = signal;
  }

  async typeLimitSet(p: { taskType: string; maxRunning: number | null; now: Date; by: string | null }): Promise<TypeLimit | null> {
    this.#c.limits.invalidate();
    if (p.maxRunning === null) {
      await this.#c.write('typeLimitSet', () => this.#c.prepare(TYPE_LIMIT_DELETE).run(p.taskType));
      return null;
    }
    const params = { taskType: p.taskType, maxRunning: p.maxRunning, now: p.now.getTime(), by: p.by };
    return this.#c.write('typeLimitSet', () => rowToTypeLimit(this.#c.prepare(TYPE_LIMIT_SET).get(params) as TypeLimitRow));
  }

  typeRunningCounts(): Promise<Record<string, number>> {
    return this.#c.run('typeRunningCounts', () =>
      Object.fromEntries((this.#c.prepare(TYPE_RUNNING_COUNTS).all() as { task_type: string; running: number }[]).map((row) => [row.task_type, row.running])),
    );
  }

  typeLimitList(): Promise<TypeLimit[]> {
    return this.#c.run('typeLimitList', () => (this.#c.prepare(TYPE_LIMIT_LIST).all() as TypeLimitRow[]).map(rowToTypeLimit));
  }

  async typePause(p: { taskType: string; now: Date; pausedBy: string | null; reason: string | null }): Promise<TypePause> {
    return this.#c.write('typePause', () =>
      rowToTypePause(this.#c.prepare(TYPE_PAUSE).get({ taskType: p.taskType, now: p.now.getTime(), pausedBy: p.pausedBy, reason: p.reason }) as TypePauseRow),
    );
  }

  async typeResume(p: { taskType: string }): Promise<boolean> {
    const resumed = await this.#c.write('typeResume', () => this.#c.prepare(TYPE_RESUME).run(p.taskType).changes === 1);
    // Its waiting tasks are due: wake idle workers, as an insert does.
    if (resumed) this.#signal.notify(p.taskType);
    return resumed;
  }

  typePauseList(): Promise<TypePause[]> {
    return this.#c.run('typePauseList', () => (this.#c.prepare(TYPE_PAUSE_LIST).all() as TypePauseRow[]).map(rowToTypePause));
  }
}

const TYPE_LIMIT_SET = `
  INSERT INTO task_type_limits (task_type, max_running, updated_at, updated_by) VALUES (@taskType, @maxRunning, @now, @by)
  ON CONFLICT (task_type) DO UPDATE SET max_running = excluded.max_running, updated_at = excluded.updated_at, updated_by = excluded.updated_by
  RETURNING *`;

const TYPE_LIMIT_DELETE = `DELETE FROM task_type_limits WHERE task_type = ?`;

const TYPE_RUNNING_COUNTS = `SELECT task_type, COUNT(*) AS running FROM tasks WHERE status = 'running' GROUP BY task_type`;

const TYPE_LIMIT_LIST = `SELECT * FROM task_type_limits ORDER BY task_type`;

const TYPE_PAUSE = `
  INSERT INTO task_type_pauses (task_type, paused_at, paused_by, reason) VALUES (@taskType, @now, @pausedBy, @reason)
  ON CONFLICT (task_type) DO UPDATE SET reason = coalesce(excluded.reason, task_type_pauses.reason)
  RETURNING *`;

const TYPE_RESUME = `DELETE FROM task_type_pauses WHERE task_type = ?`;

const TYPE_PAUSE_LIST = `SELECT * FROM task_type_pauses ORDER BY task_type`;

import type { NewTask } from '../../core/new-task.ts';
import type { NewSchedule, ScheduleChanges, ScheduleRecord } from '../../core/schedule.ts';
import type { TaskRecord } from '../../core/task.ts';
import { splitDue } from '../schedule-due.ts';
import type { InsertStore } from './insert.ts';
import { type PostgresConnection, WORKER } from './postgres-connection.ts';
import { scheduleFromRow, type ScheduleRow } from './record-rows.ts';
import type { SqlContext } from './sql-parts.ts';

const SCHEDULE_COLUMNS = 'id, name, cron, timezone, task_type, template, enabled, next_run_at, last_run_at, last_task_id, last_skipped_at, last_skip_reason, created_by, created_at, updated_at';

/** Recurring schedules, and their firing (fenced, so two schedulers never fire one twice). */
export class ScheduleStore {
  readonly #c: PostgresConnection;
  readonly #sql: ReturnType<typeof schedulesSql>;

  readonly #insert: InsertStore;

  constructor(c: PostgresConnection, insert: InsertStore) {
    this.#c = c;
    this.#insert = insert;
    this.#sql = schedulesSql(c.sql);
  }

  async scheduleInsert(p: { schedule: NewSchedule }): Promise<ScheduleRecord> {
    const { schedule: x } = p;
    const { rows } = await this.#c.run<ScheduleRow>('scheduleInsert', this.#sql.scheduleInsert, [
      x.id, x.name, x.cron, x.timezone, x.taskType, JSON.stringify(x.template), x.enabled, x.nextRunAt, x.createdBy, x.createdAt,
    ]);
    return scheduleFromRow(rows[0]!);
  }

  async scheduleGet(p: { id: string }): Promise<ScheduleRecord | null> {
    this.#c.assertOpen();
    const { rows } = await this.#c.run<ScheduleRow>('scheduleGet', this.#sql.scheduleGet, [p.id]);
    return rows[0] ? scheduleFromRow(rows[0]) : null;
  }

  async scheduleList(p: { createdBy?: string }): Promise<ScheduleRecord[]> {
    this.#c.assertOpen();
    const { rows } = await this.#c.run<ScheduleRow>('scheduleList', this.#sql.scheduleList, [p.createdBy ?? null]);
    return rows.map(scheduleFromRow);
  }

  async scheduleUpdate(p: { id: string; changes: ScheduleChanges; now: Date }): Promise<ScheduleRecord | null> {
    this.#c.assertOpen();
    const { changes: c } = p;
    const { rows } = await this.#c.run<ScheduleRow>('scheduleUpdate', this.#sql.scheduleUpdate, [
      p.id, c.name ?? null, c.cron ?? null, c.timezone ?? null, c.taskType ?? null, c.template === undefined ? null : JSON.stringify(c.template),
      c.enabled ?? null, c.nextRunAt !== undefined, c.nextRunAt ?? null, p.now,
    ]);
    return rows[0] ? scheduleFromRow(rows[0]) : null;
  }

  async scheduleDelete(p: { id: string }): Promise<boolean> {
    this.#c.assertOpen();
    const result = await this.#c.run('scheduleDelete', this.#sql.scheduleDelete, [p.id]);
    return result.rowCount === 1;
  }

  async scheduleDue(p: { now: Date; limit: number }): Promise<{ due: ScheduleRecord[]; nextRunAt: Date | null }> {
    const limit = Math.max(1, Math.floor(p.limit));
    const { rows } = await this.#c.run<ScheduleRow>('scheduleDue', this.#sql.scheduleDue, [limit + 1], WORKER);
    return splitDue(rows.map(scheduleFromRow), p.now, limit);
  }

  async scheduleFire(p: { id: string; dueAt: Date; nextRunAt: Date | null; task: NewTask; now: Date }): Promise<TaskRecord | null> {
    return this.#c.transaction('scheduleFire', async (client) => {
      const fenced = await this.#c.run('scheduleFire', this.#sql.scheduleFire, [p.id, p.dueAt, p.nextRunAt, p.task.id, p.now], client);
      if (fenced.rowCount !== 1) return null;
      const [result] = await this.#insert.insertTasks('scheduleFire', [p.task], client);
      return result!.task;
    });
  }

  async scheduleSkip(p: { id: string; dueAt: Date; nextRunAt: Date | null; reason: string; now: Date }): Promise<boolean> {
    this.#c.assertOpen();
    const result = await this.#c.run('scheduleSkip', this.#sql.scheduleSkip, [p.id, p.dueAt, p.nextRunAt, p.reason, p.now], WORKER);
    return result.rowCount === 1;
  }
}

function schedulesSql({ s, statement }: SqlContext) {
  const columns = SCHEDULE_COLUMNS.split(', ').map((column) => `s.${column}`).join(', ');
  return {
    scheduleInsert: statement('schedule_insert', `
      INSERT INTO ${s}.schedules (id, name, cron, timezone, task_type, template, enabled, next_run_at, created_by, created_at, updated_at)
      VALUES ($1::uuid, $2::text, $3::text, $4::text, $5::text, $6::jsonb, $7::boolean, $8::timestamptz, $9::uuid, $10::timestamptz, $10::timestamptz)
      RETURNING ${SCHEDULE_COLUMNS}`),
    scheduleGet: statement('schedule_get', `SELECT ${SCHEDULE_COLUMNS} FROM ${s}.schedules WHERE id = $1::uuid`),
    scheduleList: statement('schedule_list', `
      SELECT ${SCHEDULE_COLUMNS} FROM ${s}.schedules WHERE $1::uuid IS NULL OR created_by = $1::uuid ORDER BY name, id`),
    // NULL leaves a column as it is; next_run_at is set only when $8 says so (it may be set to NULL).
    scheduleUpdate: statement('schedule_update', `
      UPDATE ${s}.schedules
      SET name = coalesce($2::text, name), cron = coalesce($3::text, cron), timezone = coalesce($4::text, timezone),
          task_type = coalesce($5::text, task_type), template = coalesce($6::jsonb, template), enabled = coalesce($7::boolean, enabled),
          next_run_at = CASE WHEN $8::boolean THEN $9::timestamptz ELSE next_run_at END, updated_at = $10::timestamptz
      WHERE id = $1::uuid
      RETURNING ${SCHEDULE_COLUMNS}`),
    scheduleDelete: statement('schedule_delete', `DELETE FROM ${s}.schedules WHERE id = $1::uuid`),
    // The earliest enabled schedules whose owner may still act (a deactivated user's schedules wait).
    scheduleDue: statement('schedule_due', `
      SELECT ${columns} FROM ${s}.schedules s LEFT JOIN ${s}.users u ON u.id = s.created_by
      WHERE s.enabled AND s.next_run_at IS NOT NULL AND (s.created_by IS NULL OR u.is_active)
      ORDER BY s.next_run_at LIMIT $1::int`),
    // The fence of a firing: still enabled and still due at the time the scheduler read.
    scheduleFire: statement('schedule_fire', `
      UPDATE ${s}.schedules SET next_run_at = $3::timestamptz, last_run_at = $2::timestamptz, last_task_id = $4::uuid, updated_at = $5::timestamptz
      WHERE id = $1::uuid AND enabled AND next_run_at = $2::timestamptz`),
    // A firing skipped: the same fence and move, no task; last_run_at and last_task_id keep the last real firing.
    scheduleSkip: statement('schedule_skip', `
      UPDATE ${s}.schedules SET next_run_at = $3::timestamptz, last_skipped_at = $5::timestamptz, last_skip_reason = $4::text, updated_at = $5::timestamptz
      WHERE id = $1::uuid AND enabled AND next_run_at = $2::timestamptz`),
  };
}

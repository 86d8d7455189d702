import { ConveyorError, ERROR_CODES } from '../../core/errors.ts';
import type { NewTask } from '../../core/new-task.ts';
import type { NewSchedule, ScheduleChanges, ScheduleRecord } from '../../core/schedule.ts';
import type { TaskRecord } from '../../core/task.ts';
import { splitDue } from '../schedule-due.ts';
import { type InsertStore, insertTasks } from './insert.ts';
import type { SqliteConnection } from './sqlite-connection.ts';
import { isUniqueViolation } from './sqlite-errors.ts';
import { rowToSchedule, type ScheduleRow } from './sqlite-rows.ts';

/** Recurring schedules, and their firing (fenced, so two schedulers never fire one twice). */
export class ScheduleStore {
  readonly #c: SqliteConnection;
  readonly #insert: InsertStore;

  constructor(c: SqliteConnection, insert: InsertStore) {
    this.#c = c;
    this.#insert = insert;
  }

  scheduleInsert(p: { schedule: NewSchedule }): Promise<ScheduleRecord> {
    const x = p.schedule;
    return this.#c.write('scheduleInsert', () => {
      try {
        const row = this.#c.prepare(SCHEDULE_INSERT).get({
          id: x.id, name: x.name, cron: x.cron, timezone: x.timezone, taskType: x.taskType, template: JSON.stringify(x.template),
          enabled: x.enabled ? 1 : 0, nextRunAt: x.nextRunAt?.getTime() ?? null, createdBy: x.createdBy, createdAt: x.createdAt.getTime(),
        }) as ScheduleRow;
        return rowToSchedule(row);
      } catch (error) {
        if (isUniqueViolation(error)) throw scheduleNameConflict(x.name, error);
        throw error;
      }
    });
  }

  scheduleGet(p: { id: string }): Promise<ScheduleRecord | null> {
    return this.#c.run('scheduleGet', () => {
      const row = this.#c.prepare(SCHEDULE_GET).get(p.id) as ScheduleRow | undefined;
      return row === undefined ? null : rowToSchedule(row);
    });
  }

  scheduleList(p: { createdBy?: string }): Promise<ScheduleRecord[]> {
    return this.#c.run('scheduleList', () => (this.#c.prepare(SCHEDULE_LIST).all({ createdBy: p.createdBy ?? null }) as ScheduleRow[]).map(rowToSchedule));
  }

  scheduleUpdate(p: { id: string; changes: ScheduleChanges; now: Date }): Promise<ScheduleRecord | null> {
    const c = p.changes;
    return this.#c.write('scheduleUpdate', () => {
      try {
        const row = this.#c.prepare(SCHEDULE_UPDATE).get({
          id: p.id, name: c.name ?? null, cron: c.cron ?? null, timezone: c.timezone ?? null, taskType: c.taskType ?? null,
          template: c.template === undefined ? null : JSON.stringify(c.template), enabled: c.enabled === undefined ? null : c.enabled ? 1 : 0,
          setNextRunAt: c.nextRunAt === undefined ? 0 : 1, nextRunAt: c.nextRunAt?.getTime() ?? null, now: p.now.getTime(),
        }) as ScheduleRow | undefined;
        return row === undefined ? null : rowToSchedule(row);
      } catch (error) {
        if (isUniqueViolation(error)) throw scheduleNameConflict(c.name ?? '', error);
        throw error;
      }
    });
  }

  scheduleDelete(p: { id: string }): Promise<boolean> {
    return this.#c.write('scheduleDelete', () => this.#c.prepare(SCHEDULE_DELETE).run(p.id).changes === 1);
  }

  scheduleDue(p: { now: Date; limit: number }): Promise<{ due: ScheduleRecord[]; nextRunAt: Date | null }> {
    const limit = Math.max(1, Math.floor(p.limit));
    return this.#c.run('scheduleDue', () => splitDue((this.#c.prepare(SCHEDULE_DUE).all(limit + 1) as ScheduleRow[]).map(rowToSchedule), p.now, limit));
  }

  async scheduleFire(p: { id: string; dueAt: Date; nextRunAt: Date | null; task: NewTask; now: Date }): Promise<TaskRecord | null> {
    const results = await this.#c.write('scheduleFire', () => {
      const fenced = this.#c.prepare(SCHEDULE_FIRE).run({ id: p.id, dueAt: p.dueAt.getTime(), nextRunAt: p.nextRunAt?.getTime() ?? null, taskId: p.task.id, now: p.now.getTime() });
      return fenced.changes === 1 ? insertTasks([p.task], (text: string) => this.#c.prepare(text)) : null;
    });
    if (results === null) return null;
    this.#insert.signalInserted(results);
    return results[0]!.task;
  }

  scheduleSkip(p: { id: string; dueAt: Date; nextRunAt: Date | null; reason: string; now: Date }): Promise<boolean> {
    const params = { id: p.id, dueAt: p.dueAt.getTime(), nextRunAt: p.nextRunAt?.getTime() ?? null, reason: p.reason, now: p.now.getTime() };
    return this.#c.write('scheduleSkip', () => this.#c.prepare(SCHEDULE_SKIP).run(params).changes === 1);
  }
}

const SCHEDULE_INSERT = `
  INSERT INTO schedules (id, name, cron, timezone, task_type, template, enabled, next_run_at, created_by, created_at, updated_at)
  VALUES (@id, @name, @cron, @timezone, @taskType, @template, @enabled, @nextRunAt, @createdBy, @createdAt, @createdAt)
  RETURNING *`;

const SCHEDULE_GET = `SELECT * FROM schedules WHERE id = ?`;

const SCHEDULE_LIST = `SELECT * FROM schedules WHERE @createdBy IS NULL OR created_by = @createdBy ORDER BY name, id`;

const SCHEDULE_UPDATE = `
  UPDATE schedules
  SET name = coalesce(@name, name), cron = coalesce(@cron, cron), timezone = coalesce(@timezone, timezone),
      task_type = coalesce(@taskType, task_type), template = coalesce(@template, template), enabled = coalesce(@enabled, enabled),
      next_run_at = CASE WHEN @setNextRunAt THEN @nextRunAt ELSE next_run_at END, updated_at = @now
  WHERE id = @id
  RETURNING *`;

const SCHEDULE_DELETE = `DELETE FROM schedules WHERE id = ?`;

const SCHEDULE_DUE = `
  SELECT s.* FROM schedules s LEFT JOIN users u ON u.id = s.created_by
  WHERE s.enabled AND s.next_run_at IS NOT NULL AND (s.created_by IS NULL OR u.is_active)
  ORDER BY s.next_run_at LIMIT ?`;

const SCHEDULE_FIRE = `
  UPDATE schedules SET next_run_at = @nextRunAt, last_run_at = @dueAt, last_task_id = @taskId, updated_at = @now
  WHERE id = @id AND enabled AND next_run_at = @dueAt`;

// A firing skipped: the same fence and move, no task; last_run_at and last_task_id keep the last real firing.
const SCHEDULE_SKIP = `
  UPDATE schedules SET next_run_at = @nextRunAt, last_skipped_at = @now, last_skip_reason = @reason, updated_at = @now
  WHERE id = @id AND enabled AND next_run_at = @dueAt`;

function scheduleNameConflict(name: string, error: unknown): ConveyorError {
  return new ConveyorError(ERROR_CODES.CONFLICT, `a schedule named ${JSON.stringify(name)} already exists`, { field: 'name', cause: error });
}

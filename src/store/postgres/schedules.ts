import type { NewTask } from '../../core/new-task.ts';
import type { NewSchedule, ScheduleChanges, ScheduleRecord } from '../../core/schedule.ts';
import type { TaskRecord } from '../../core/task.ts';
import { splitDue } from '../schedule-due.ts';
import type { InsertStore } from './insert.ts';
import { type PostgresConnection, WORKER } from './postgres-connection.ts';
import { scheduleFromRow, type ScheduleRow } from './record-rows.ts';
import { scheduleStatements } from './schedule-sql.ts';
import type { SqlContext } from './sql-parts.ts';

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
}

function schedulesSql({ s, statement }: SqlContext) {
  return scheduleStatements(s, statement);
}

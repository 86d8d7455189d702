import { Type } from '@sinclair/typebox';
import { CREATE_SCHEDULE_EXAMPLE, SCHEDULE_EXAMPLE } from './examples.ts';
import { AnyJson, DateTime, Nullable, Uuid } from './common.ts';
import { Priority } from './task-schemas.ts';

const fields = {
  name: Type.String({ minLength: 1, maxLength: 128, description: 'Unique among your schedules: letters, digits, _ . : - (nightly-report)' }),
  cron: Type.String({
    minLength: 1,
    maxLength: 200,
    description: 'Five fields (minute hour day-of-month month day-of-week), six with seconds first, or @hourly, @daily, @weekly, @monthly, @yearly: "0 3 * * *" is 03:00 every day',
  }),
  timezone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone the cron is read in (UTC, Europe/Berlin); default UTC' }),
  task_type: Type.String({ minLength: 1, maxLength: 128, description: 'A registered task type (GET /tasks/types)' }),
  payload: Type.Unknown({ description: 'JSON checked against the task type\'s payload schema; every task of this schedule gets it' }),
  priority: Priority,
  max_attempts: Type.Integer({ minimum: 1, maximum: 1000 }),
  retry_strategy: Type.Object({ type: Type.String() }, { additionalProperties: true, description: 'As for POST /tasks' }),
  metadata: Type.Record(Type.String(), Type.Unknown(), { description: 'Your own labels; each task also gets `schedule` (the name) and `schedule_due_at`' }),
  enabled: Type.Boolean({ description: 'false pauses the schedule: no task is created until it is enabled again' }),
};

export const CreateScheduleBody = Type.Object(
  {
    name: fields.name,
    cron: fields.cron,
    timezone: Type.Optional(fields.timezone),
    task_type: fields.task_type,
    payload: fields.payload,
    priority: Type.Optional(fields.priority),
    max_attempts: Type.Optional(fields.max_attempts),
    retry_strategy: Type.Optional(Nullable(fields.retry_strategy)),
    metadata: Type.Optional(fields.metadata),
    enabled: Type.Optional(fields.enabled),
  },
  { additionalProperties: false, examples: [CREATE_SCHEDULE_EXAMPLE] },
);

export const UpdateScheduleBody = Type.Object(
  {
    name: Type.Optional(fields.name),
    cron: Type.Optional(fields.cron),
    timezone: Type.Optional(fields.timezone),
    task_type: Type.Optional(fields.task_type),
    payload: Type.Optional(fields.payload),
    priority: Type.Optional(fields.priority),
    max_attempts: Type.Optional(Nullable(fields.max_attempts)),
    retry_strategy: Type.Optional(Nullable(fields.retry_strategy)),
    metadata: Type.Optional(fields.metadata),
    enabled: Type.Optional(fields.enabled),
  },
  { additionalProperties: false, minProperties: 1, examples: [{ enabled: false }] },
);

export const ScheduleView = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    cron: Type.String(),
    timezone: Type.String(),
    task_type: Type.String(),
    payload: AnyJson,
    priority: Priority,
    max_attempts: Nullable(Type.Integer({ description: 'null: the retry strategy\'s (3 by default)' })),
    retry_strategy: Nullable(Type.Record(Type.String(), Type.Unknown())),
    metadata: Type.Record(Type.String(), Type.Unknown()),
    enabled: Type.Boolean(),
    next_run_at: Nullable(DateTime),
    last_run_at: Nullable(DateTime),
    last_task_id: Nullable(Uuid),
    last_skipped_at: Nullable(Type.String({ format: 'date-time', description: 'When a firing was last skipped because the owner was over a quota (RFC 3339, UTC; null: never)', examples: ['2026-01-01T12:00:00.000Z'] })),
    last_skip_reason: Nullable(Type.String({ description: 'Why, naming the quota (e.g. "Quota waiting_tasks: ...")' })),
    created_by: Nullable(Type.String()),
    created_at: DateTime,
    updated_at: DateTime,
    upcoming: Type.Array(DateTime, { description: 'The next five times it fires (none while disabled)' }),
  },
  { $id: 'ScheduleView', examples: [SCHEDULE_EXAMPLE] },
);

export const ScheduleIdParams = Type.Object({ id: Uuid });
export const ScheduleDeleteResult = Type.Object({ id: Uuid, deleted: Type.Literal(true) });

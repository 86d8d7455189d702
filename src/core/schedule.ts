import { CronTimes } from './cron-times.ts';
import { validationError } from './errors.ts';
import { uuidv7 } from './id.ts';
import { newTask, TASK_TYPE_PATTERN, type NewTask } from './new-task.ts';
import type { JsonObject, JsonValue, TaskPriority } from './task.ts';

/** What every task a schedule creates carries, besides its type. */
export interface ScheduleTemplate {
  payload: JsonValue;
  priority?: TaskPriority;
  maxAttempts?: number;
  retryStrategy?: JsonValue;
  metadata?: JsonObject;
}

/** What a caller gives to create a recurring schedule. */
export interface ScheduleInput {
  /** Unique per owner: `nightly-report`. */
  name: string;
  /** `0 3 * * *`; see CronTimes. */
  cron: string;
  /** IANA time zone the expression is read in (default UTC). */
  timezone?: string | undefined;
  taskType: string;
  payload: unknown;
  priority?: TaskPriority | undefined;
  maxAttempts?: number | undefined;
  retryStrategy?: unknown;
  metadata?: unknown;
  /** False creates it paused (default true). */
  enabled?: boolean | undefined;
  createdBy?: string | null | undefined;
}

/** A validated schedule, ready for an engine to write. */
export interface NewSchedule {
  id: string;
  name: string;
  cron: string;
  timezone: string;
  taskType: string;
  template: ScheduleTemplate;
  enabled: boolean;
  /** When it fires next; null while disabled. */
  nextRunAt: Date | null;
  createdBy: string | null;
  createdAt: Date;
}

export interface ScheduleRecord extends NewSchedule {
  /** The nominal time of the last firing (the one it was due at, even when it fired late). */
  lastRunAt: Date | null;
  /** The task the last firing created. */
  lastTaskId: string | null;
  /** When a firing was last skipped because its owner was over a quota, and why (null: never). */
  lastSkippedAt: Date | null;
  lastSkipReason: string | null;
  updatedAt: Date;
}

/** The columns a change may set; `nextRunAt` only when the timing changed (see reviseSchedule). */
export type ScheduleChanges = Partial<Pick<NewSchedule, 'name' | 'cron' | 'timezone' | 'taskType' | 'template' | 'enabled' | 'nextRunAt'>>;

export const SCHEDULE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
export const DEFAULT_TIMEZONE = 'UTC';

/** Validates a schedule (its task too, as a dry run of the first firing) and says when it first fires. */
export function newSchedule(input: ScheduleInput, now: Date): NewSchedule {
  if (input === null || typeof input !== 'object') throw validationError('schedule', 'must be an object');
  checkName(input.name);
  const timezone = input.timezone ?? DEFAULT_TIMEZONE;
  const times = CronTimes.parse(input.cron, timezone);
  checkTaskType(input.taskType);
  const template = templateOf(input);
  const enabled = checkEnabled(input.enabled);
  const createdBy = input.createdBy ?? null;
  const schedule: NewSchedule = {
    id: uuidv7(now.getTime()),
    name: input.name,
    cron: times.expression,
    timezone,
    taskType: input.taskType,
    template,
    enabled,
    nextRunAt: enabled ? times.next(now) : null,
    createdBy,
    createdAt: now,
  };
  taskForFiring(schedule, now, now);
  return schedule;
}

/** A change to a schedule: what to write. Any change of timing counts the next run again from `now`. */
export interface ScheduleRevision {
  name?: string | undefined;
  cron?: string | undefined;
  timezone?: string | undefined;
  taskType?: string | undefined;
  payload?: unknown;
  priority?: TaskPriority | undefined;
  maxAttempts?: number | null | undefined;
  retryStrategy?: unknown;
  metadata?: unknown;
  enabled?: boolean | undefined;
}

export function reviseSchedule(current: ScheduleRecord, revision: ScheduleRevision, now: Date): ScheduleChanges {
  const changes: ScheduleChanges = {};
  if (revision.name !== undefined) {
    checkName(revision.name);
    changes.name = revision.name;
  }
  const timing = revision.cron !== undefined || revision.timezone !== undefined || revision.enabled !== undefined;
  const times = CronTimes.parse(revision.cron ?? current.cron, revision.timezone ?? current.timezone);
  if (revision.cron !== undefined) changes.cron = times.expression;
  if (revision.timezone !== undefined) changes.timezone = times.timezone;
  if (revision.taskType !== undefined) {
    checkTaskType(revision.taskType);
    changes.taskType = revision.taskType;
  }
  const touchesTemplate = ['payload', 'priority', 'maxAttempts', 'retryStrategy', 'metadata'].some((key) => (revision as Record<string, unknown>)[key] !== undefined);
  if (touchesTemplate) {
    const base = current.template;
    changes.template = templateOf({
      payload: revision.payload !== undefined ? revision.payload : base.payload,
      priority: revision.priority ?? base.priority,
      maxAttempts: revision.maxAttempts === null ? undefined : (revision.maxAttempts ?? base.maxAttempts),
      retryStrategy: revision.retryStrategy !== undefined ? revision.retryStrategy : base.retryStrategy,
      metadata: revision.metadata !== undefined ? revision.metadata : base.metadata,
    });
  }
  if (timing) {
    const enabled = revision.enabled === undefined ? current.enabled : checkEnabled(revision.enabled);
    changes.enabled = enabled;
    changes.nextRunAt = enabled ? times.next(now) : null;
  }
  taskForFiring({ ...current, ...changes }, now, now);
  return changes;
}

/**
 * The task one firing creates: the schedule's template, its owner, and an idempotency key made of the
 * schedule and the firing's time, so that a firing written twice (two leaders for a moment, a retried
 * statement) is one task. The task is due at once; metadata names the schedule and the time it was
 * due, which may be earlier when the firing is late.
 */
export function taskForFiring(schedule: Pick<NewSchedule, 'id' | 'name' | 'taskType' | 'template' | 'createdBy'>, dueAt: Date, now: Date): NewTask {
  const { template } = schedule;
  return newTask(
    {
      taskType: schedule.taskType,
      payload: template.payload,
      priority: template.priority,
      maxAttempts: template.maxAttempts,
      retryStrategy: template.retryStrategy,
      metadata: { ...(template.metadata ?? {}), schedule: schedule.name, schedule_due_at: dueAt.toISOString() },
      idempotencyKey: `s:${schedule.id}:${dueAt.getTime()}`,
      createdBy: schedule.createdBy,
    },
    now,
  );
}

/** The task a person asks for now ("run now"): like a firing, but its own task each time, with no idempotency key. */
export function taskRunNow(schedule: Pick<NewSchedule, 'id' | 'name' | 'taskType' | 'template' | 'createdBy'>, now: Date): NewTask {
  return { ...taskForFiring(schedule, now, now), idempotencyKey: null };
}

function templateOf(input: Pick<ScheduleInput, 'payload' | 'priority' | 'maxAttempts' | 'retryStrategy' | 'metadata'>): ScheduleTemplate {
  if (input.payload === undefined) throw validationError('payload', 'is required');
  const template: ScheduleTemplate = { payload: input.payload as JsonValue };
  if (input.priority !== undefined) template.priority = input.priority;
  if (input.maxAttempts !== undefined) template.maxAttempts = input.maxAttempts;
  if (input.retryStrategy !== undefined && input.retryStrategy !== null) template.retryStrategy = input.retryStrategy as JsonValue;
  if (input.metadata !== undefined && input.metadata !== null) template.metadata = input.metadata as JsonObject;
  return template;
}

const NAME_RULE = 'must be 1-128 characters of letters, digits, _ . : - starting with a letter or digit';

function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !SCHEDULE_NAME_PATTERN.test(name)) throw validationError('name', NAME_RULE);
}

function checkTaskType(taskType: unknown): asserts taskType is string {
  if (typeof taskType !== 'string' || !TASK_TYPE_PATTERN.test(taskType)) throw validationError('task_type', NAME_RULE);
}

function checkEnabled(enabled: unknown): boolean {
  if (enabled === undefined) return true;
  if (typeof enabled !== 'boolean') throw validationError('enabled', 'must be true or false');
  return enabled;
}
